"""The batch command as pipelines meet it (issue 20): a batch is checked whole before any job runs (no
output is another output or any job's input, compared as files); a stack folder that cannot be made
fails its job in one line; SIGINT and SIGTERM stop the batch cleanly; CSV files as spreadsheets write
them; a worker's failure is one line unless --verbose."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT
from files import digests, listing
from rasters import make_raster, sample_dates, sample_pair
from test_batch import run_command

from overlap_clip_plugin.core import clip, output_names


@pytest.fixture
def scenes(tmp_path):
    """sample_a, sample_b, date_2020 and date_2024 in tmp_path/in."""
    folder = tmp_path / "in"
    folder.mkdir()
    return [*sample_pair(folder), *sample_dates(folder)]


def write_batch(tmp_path, jobs, name="batch.json"):
    batch = tmp_path / name
    batch.write_text(json.dumps({"jobs": jobs}))
    return batch


def everything(folder):
    """Every path under ``folder`` with its bytes (None for a folder or a link), to compare before and after."""
    found = {}
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = None if os.path.isdir(path) else open(path, "rb").read()
    return found


PAIR = ["in/sample_a.tif", "in/sample_b.tif"]
DATES = ["in/date_2020.tif", "in/date_2024.tif"]


def test_an_output_that_is_another_jobs_input_refuses_the_batch(scenes, tmp_path):
    # Before issue 20 this batch was written (exit 0), job 1 reading a_copy.tif while job 2 replaced it.
    shutil.copy(scenes[0], tmp_path / "in" / "a_copy.tif")
    batch = write_batch(
        tmp_path,
        [
            {"inputs": ["in/a_copy.tif", "in/sample_b.tif"], "folder": "stack"},
            {"inputs": DATES, "outputs": ["in/a_copy.tif", "x.tif"]},
        ],
    )
    before = everything(tmp_path)
    run = run_command(batch)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr == (
        "The output 'in/a_copy.tif' of job 2 is an input of job 1; jobs run side by side, so write it to another "
        "path.\n"
    )
    assert run.stdout == ""
    assert everything(tmp_path) == before


def _links(tmp_path):
    os.symlink(tmp_path / "in" / "sample_a.tif", tmp_path / "soft.tif")
    os.link(tmp_path / "in" / "date_2020.tif", tmp_path / "hard.tif")
    (tmp_path / "stack").mkdir()
    os.symlink(tmp_path / "stack", tmp_path / "alias")


@pytest.mark.parametrize(
    ("jobs", "said"),
    [
        (
            [
                {"inputs": PAIR, "outputs": ["out/x.tif", "out/y.tif"]},
                {"inputs": DATES, "outputs": ["z.tif", "out/x.tif"]},
            ],
            "Jobs 1 and 2 both write 'out/x.tif'; give each output its own path.",
        ),
        (
            [{"inputs": PAIR, "outputs": ["x.tif", "x.tif"]}],
            "Job 1 writes 'x.tif' twice; give each output its own path.",
        ),
        (
            [{"inputs": PAIR, "outputs": ["x.tif", "y.tif"]}, {"inputs": DATES, "outputs": ["z.tif", "in/../x.tif"]}],
            "Jobs 1 and 2 both write 'x.tif'; give each output its own path.",
        ),
        (
            [{"inputs": PAIR, "outputs": ["x.tif", "y.tif"]}, {"inputs": DATES, "outputs": ["soft.tif", "z.tif"]}],
            "The output 'soft.tif' of job 2 is an input of job 1 (as 'in/sample_a.tif'); jobs run side by side, "
            "so write it to another path.",
        ),
        (
            [{"inputs": PAIR, "outputs": ["x.tif", "y.tif"]}, {"inputs": DATES, "outputs": ["hard.tif", "z.tif"]}],
            "The output 'hard.tif' of job 2 is also one of its inputs (as 'in/date_2020.tif'); write it to another "
            "path.",
        ),
        (
            [{"inputs": PAIR, "outputs": ["in/sample_a.tif", "y.tif"]}],
            "The output 'in/sample_a.tif' of job 1 is also one of its inputs; write it to another path.",
        ),
        (
            [{"inputs": PAIR, "folder": "stack"}, {"inputs": ["in/sample_b.tif", *DATES], "folder": "alias"}],
            "Jobs 1 and 2 both write 'alias/sample_b_common.tif' (job 1 as 'stack/sample_b_common.tif'); give each "
            "output its own path.",
        ),
        (
            [{"inputs": PAIR, "folder": "stack"}, {"inputs": ["other/sample_a.tif", *DATES], "folder": "stack"}],
            "Jobs 1 and 2 both write 'stack/sample_a_common.tif'; give each output its own path.",
        ),
    ],
    ids=[
        "two-jobs",
        "one-job-twice",
        "spelt-otherwise",
        "symlink",
        "hard-link",
        "own-input",
        "linked-stacks",
        "stacks",
    ],
)
def test_outputs_that_are_one_file_refuse_the_batch(scenes, tmp_path, jobs, said):
    _links(tmp_path)
    batch = write_batch(tmp_path, jobs)
    before = everything(tmp_path)
    run = run_command(batch)
    assert (run.returncode, run.stdout, run.stderr) == (2, "", said + "\n")
    assert everything(tmp_path) == before


def test_jobs_may_share_inputs_and_a_stack_folder(scenes, tmp_path):
    a, b, c, d = scenes
    batch = write_batch(
        tmp_path,
        [
            {"inputs": PAIR, "outputs": ["stack/pair_a.tif", "stack/pair_b.tif"]},
            {"inputs": ["in/sample_a.tif", *DATES], "folder": "stack"},
        ],
    )
    run = run_command(batch)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Written: 2 of 2 jobs (5 files)." in run.stdout
    names = output_names([a, c, d])
    assert listing(tmp_path / "stack") == sorted(["pair_a.tif", "pair_b.tif", *names])
    mine = [str(tmp_path / f"mine_{index}.tif") for index in range(5)]
    clip([a, b], mine[:2], 0)
    clip([a, c, d], mine[2:], 0)
    written = [tmp_path / "stack" / name for name in ["pair_a.tif", "pair_b.tif", *names]]
    assert digests(written) == digests(mine)


def job_lines(stdout):
    """The job lines of a run without their '[i/N] ' count (jobs end in any order), sorted."""
    return sorted(line.split("] ", 1)[1] for line in stdout.splitlines() if line.startswith("["))


@pytest.mark.parametrize(
    ("folder", "reason"),
    [
        ("stack", "a file has that name"),
        ("note.txt/stack", "'{tmp}/note.txt' is a file"),
        ("x" * 300, "file name too long"),
    ],
    ids=["a-file", "under-a-file", "name-too-long"],
)
def test_a_stack_folder_that_cannot_be_made_fails_its_job_in_one_line(scenes, tmp_path, folder, reason):
    (tmp_path / "stack").write_text("not a folder")
    (tmp_path / "note.txt").write_text("not a folder either")
    batch = write_batch(
        tmp_path,
        [{"inputs": PAIR, "outputs": ["ok_a.tif", "ok_b.tif"]}, {"inputs": DATES, "folder": folder}],
    )
    run = run_command(batch, "--shift", "none")  # the shift's lines are tests/test_batch_shift.py's
    sentence = f"Cannot make the output folder '{tmp_path / folder}': {reason.format(tmp=tmp_path)}."
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr == ""
    assert job_lines(run.stdout) == [
        f"job 1: written: {tmp_path / 'ok_a.tif'}, {tmp_path / 'ok_b.tif'}",
        f"job 2: FAILED, nothing written: {sentence}",
    ]
    assert run.stdout.splitlines()[2:4] == ["Written: 1 of 2 jobs (2 files).", f"Failed: job 2: {sentence}"]
    assert listing(tmp_path) == ["batch.json", "in", "note.txt", "ok_a.tif", "ok_b.tif", "stack"]
    assert (tmp_path / "stack").read_text() == "not a folder"
    assert (tmp_path / "note.txt").read_text() == "not a folder either"


def test_the_folders_made_for_a_failed_stack_are_removed(scenes, tmp_path):
    (tmp_path / "kept").mkdir()
    batch = write_batch(
        tmp_path,
        [
            {"inputs": ["in/date_2020.tif", "in/missing.tif"], "folder": "new/deeper/stack"},
            {"inputs": ["in/date_2024.tif", "in/missing.tif"], "folder": "kept/stack"},
        ],
    )
    run = run_command(batch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert job_lines(run.stdout) == [
        f"job {number}: FAILED, nothing written: The raster '{tmp_path / 'in' / 'missing.tif'}' does not exist."
        for number in (1, 2)
    ]
    assert listing(tmp_path) == ["batch.json", "in", "kept"]
    assert listing(tmp_path / "kept") == []


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_csv_files_as_spreadsheets_write_them(scenes, tmp_path, delimiter):
    a, b, c, d = scenes
    inner = " | " if delimiter == ";" else "; "
    # Headers in any case with spaces around, a space after each delimiter, a trailing empty column and an
    # empty row, as spreadsheets save them.
    pairs = tmp_path / "pairs.csv"
    rows = [
        [" Input_A", "INPUT_B ", "output_a", "Output_B", ""],
        ["in/sample_a.tif", "in/sample_b.tif", "p/ab_a.tif", "p/ab_b.tif", ""],
        ["", "", "", "", ""],
        ["in/date_2020.tif", "in/date_2024.tif", "p/cd_c.tif", "p/cd_d.tif", ""],
    ]
    pairs.write_text("".join(f"{delimiter} ".join(row) + "\n" for row in rows))
    stacks = tmp_path / "stacks.csv"
    stacks.write_text(
        f"Inputs{delimiter} Folder\n"
        + inner.join(["in/date_2020.tif", "in/date_2024.tif", "in/sample_a.tif"])
        + f"{delimiter} s\n"
    )
    (tmp_path / "p").mkdir()
    for batch, summary in ((pairs, "Written: 2 of 2 jobs (4 files)."), (stacks, "Written: 1 of 1 jobs (3 files).")):
        run = run_command(batch)
        assert run.returncode == 0, run.stdout + run.stderr
        assert summary in run.stdout
    mine = [str(tmp_path / f"mine_{index}.tif") for index in range(7)]
    clip([a, b], mine[0:2], 0)
    clip([c, d], mine[2:4], 0)
    clip([c, d, a], mine[4:7], 0)
    written = [tmp_path / "p" / name for name in ("ab_a.tif", "ab_b.tif", "cd_c.tif", "cd_d.tif")]
    written += [tmp_path / "s" / name for name in output_names([c, d, a])]
    assert digests(written) == digests(mine)


PAIR_ROW = "in/sample_a.tif,in/sample_b.tif,x.tif,y.tif"


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        (
            "batch.json",
            {"jobs": [{"inputs": PAIR, "outputs": ["x.tif", "y.tif"], "grid": "own"}]},
            "Job 1 of '{batch}' has the unknown key 'grid'; a job has inputs and outputs, or inputs and a folder.",
        ),
        (
            "batch.json",
            {
                "jobs": [
                    {"inputs": PAIR, "folder": "s"},
                    {"inputs": DATES, "outputs": ["x.tif", "y.tif"], "folder": "s"},
                ]
            },
            "Job 2 of '{batch}' has both outputs and a folder; give outputs (one path per input) or a folder (for a "
            "stack), not both.",
        ),
        (
            "batch.json",
            {"jobs": [{"inputs": PAIR, "folder": "s"}], "area": "valid", "grid": "own"},
            "The batch file '{batch}' has the unknown keys 'area', 'grid'; it holds {{\"jobs\": [...]}} or the list of "
            "jobs alone.",
        ),
        (
            "batch.json",
            [{"inputs": "in/sample_a.tif", "folder": "s"}],
            "Job 1 of '{batch}' needs its inputs and outputs as lists of paths, a folder as a path.",
        ),
        (
            "batch.csv",
            f"input_a,input_b,output_a,output_b,Notes\n{PAIR_ROW},\n{PAIR_ROW.replace('x', 'z')},see 2020\n",
            "Job 2 of '{batch}' has the unknown column 'notes'; the columns are input_a, input_b, output_a, "
            "output_b (pairs) or inputs, folder (stacks), and qa, qa_band, change, change_method.",
        ),
        (
            "batch.csv",
            f"input_a,input_b,output_a,output_b,inputs,folder\n{PAIR_ROW},,\n,,,,in/a.tif;in/b.tif,s\n{PAIR_ROW},,s\n",
            "Job 3 of '{batch}' has values in the pair columns 'input_a', 'input_b', 'output_a', 'output_b' and in "
            "the stack column 'folder'; fill either input_a, input_b, output_a, output_b or inputs, folder.",
        ),
        (
            "batch.csv",
            "input_a,input_b,output_a,output_b\nin/sample_a.tif,in/sample_b.tif,x.tif\n",
            "Job 1 of '{batch}' has no value in the column 'output_b'; a pair needs input_a, input_b, output_a, "
            "output_b.",
        ),
        (
            "batch.csv",
            f"inputs,folder\n{PAIR_ROW}\n",
            "Job 1 of '{batch}' has more values than the header has columns.",
        ),
    ],
    ids=[
        "json-key",
        "json-outputs-and-folder",
        "json-top-keys",
        "json-inputs-string",
        "csv-column",
        "csv-mixed",
        "csv-missing",
        "csv-too-many",
    ],
)
def test_keys_that_cannot_be_used_refuse_the_batch(scenes, tmp_path, name, content, said):
    batch = tmp_path / name
    batch.write_text(content if isinstance(content, str) else json.dumps(content))
    before = everything(tmp_path)
    run = run_command(batch)
    assert (run.returncode, run.stdout, run.stderr) == (2, "", said.format(batch=batch) + "\n")
    assert everything(tmp_path) == before


def test_reference_with_grid_own_is_refused(scenes, tmp_path):
    batch = write_batch(tmp_path, [{"inputs": PAIR, "outputs": ["x.tif", "y.tif"]}])
    run = run_command(batch, "--grid", "own", "--reference", 2)
    assert (run.returncode, run.stdout) == (2, "")
    assert (
        run.stderr
        == "--reference chooses the grid of every output, and --grid own keeps each raster's own: give one.\n"
    )
    assert listing(tmp_path) == ["batch.json", "in"]


def _numbers(ranges):
    """[1, 2, 3, 5] for '1-3, 5'."""
    found = []
    for part in ranges.split(", "):
        first, _, last = part.partition("-")
        found += range(int(first), int(last or first) + 1)
    return found


@pytest.fixture(scope="module")
def big_batch(tmp_path_factory):
    """30 jobs of the same two 1500 x 1500 rasters, B a third of a pixel off A's grid (resampled), written
    compressed: about 8 s on two cores; and the two files a direct core run writes for each job."""
    folder = tmp_path_factory.mktemp("big")
    rows, cols = np.mgrid[0:1500, 0:1500]
    data = ((np.sin(cols / 37.0) + np.cos(rows / 23.0)) * 1000).astype(np.int16)
    a = make_raster(folder / "a.tif", (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 1500, 1500, data=data)
    b = make_raster(folder / "b.tif", (500003.3, 10.0, 0.0, 4999996.7, 0.0, -10.0), 1500, 1500, data=data[::-1].copy())
    expected = [str(folder / "expected_a.tif"), str(folder / "expected_b.tif")]
    clip([a, b], expected, 0, resampling="cubic", creation_options=["COMPRESS=DEFLATE"])
    jobs = [{"inputs": [a, b], "outputs": [f"out/j{k}_a.tif", f"out/j{k}_b.tif"]} for k in range(1, 31)]
    return jobs, digests(expected)


@pytest.mark.parametrize(
    ("number", "options"),
    [(signal.SIGINT, []), (signal.SIGTERM, []), (signal.SIGINT, ["--local-workers", "2"])],
    ids=["sigint", "sigterm", "ctrl-c-on-a-local-cluster"],
)
def test_a_signal_stops_the_batch_and_leaves_only_whole_jobs(big_batch, tmp_path, number, options):
    jobs, expected = big_batch
    batch = write_batch(tmp_path, jobs)
    (tmp_path / "out").mkdir()
    command = [sys.executable, "-m", "overlap_clip_plugin", batch, "--resampling", "cubic", "--co", "COMPRESS=DEFLATE"]
    process = subprocess.Popen(
        [*map(str, command), *options],
        env=dict(os.environ, PYTHONPATH=ROOT),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
        start_new_session=True,
    )
    # Read unbuffered: communicate() reads the pipe itself, and would lose what a buffered readline read ahead.
    seen = b""
    while b"] job " not in seen:
        chunk = os.read(process.stdout.fileno(), 65536)
        assert chunk, "the batch ended before any job did"
        seen += chunk
    sent = time.monotonic()
    if options:
        os.killpg(process.pid, number)  # Ctrl-C in a terminal: the whole group, Dask's workers too
    else:
        process.send_signal(number)
    rest, errors = process.communicate(timeout=120)
    took = time.monotonic() - sent
    stdout, stderr = (seen + rest).decode(), errors.decode()
    name = signal.Signals(number).name
    assert process.returncode == 128 + number, stdout + stderr
    # GDAL's warper threads say that the progress stopped them; nothing else may reach the terminal.
    assert set(stderr.splitlines()) <= {"ERROR 9: User terminated"}, stderr
    written = sorted(int(k) for k in re.findall(r"\] job (\d+): written: ", stdout))
    summary = re.search(
        r"^Stopped by (\w+): jobs (.+) not written \((\d+) cancelled while running, (\d+) not started\)\.$",
        stdout,
        re.M,
    )
    assert summary and summary[1] == name, stdout
    assert 1 <= len(written) < 30
    assert f"Written: {len(written)} of 30 jobs ({2 * len(written)} files)." in stdout
    assert sorted(_numbers(summary[2])) == sorted(set(range(1, 31)) - set(written))
    assert int(summary[3]) == stdout.count(": stopped, nothing written")
    assert int(summary[3]) + int(summary[4]) == 30 - len(written)
    names = sorted(f"j{k}_{side}.tif" for k in written for side in "ab")
    assert listing(tmp_path / "out") == names
    for k in written:
        assert digests([tmp_path / "out" / f"j{k}_a.tif", tmp_path / "out" / f"j{k}_b.tif"]) == expected
    hidden = [os.path.join(root, entry) for root, folders, files in os.walk(tmp_path) for entry in folders + files]
    assert [path for path in hidden if os.path.basename(path).startswith(".overlapclip-")] == []
    print(f"{name} {options}: {len(written)} of 30 jobs written, exit {took:.2f} s after the signal")
    assert took < 60


def test_a_failed_job_on_a_local_cluster_is_one_line_unless_verbose(scenes, tmp_path):
    pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed in this Python (`make test` installs it in .venv)"
    )
    _, _, c, d = scenes
    batch = write_batch(
        tmp_path,
        [
            {"inputs": ["in/sample_a.tif", "in/missing.tif"], "outputs": ["m_a.tif", "m_b.tif"]},
            {"inputs": DATES, "outputs": ["d_a.tif", "d_b.tif"]},
        ],
    )
    sentence = f"The raster '{tmp_path / 'in' / 'missing.tif'}' does not exist."
    run = run_command(batch, "--local-workers", 2, "--shift", "none")  # the shift's lines: test_batch_shift.py
    assert (run.returncode, run.stderr) == (1, "")  # before: Dask's 'Compute Failed' block and its traceback
    assert job_lines(run.stdout) == [
        f"job 1: FAILED, nothing written: {sentence}",
        f"job 2: written: {tmp_path / 'd_a.tif'}, {tmp_path / 'd_b.tif'}",
    ]
    assert run.stdout.splitlines()[2:4] == ["Written: 1 of 2 jobs (2 files).", f"Failed: job 1: {sentence}"]
    mine = [str(tmp_path / "mine_c.tif"), str(tmp_path / "mine_d.tif")]
    clip([c, d], mine, 0)
    assert digests([tmp_path / "d_a.tif", tmp_path / "d_b.tif"]) == digests(mine)
    os.remove(tmp_path / "d_a.tif")
    os.remove(tmp_path / "d_b.tif")
    verbose = run_command(batch, "--local-workers", 2, "--shift", "none", "--verbose")
    assert verbose.returncode == 1
    assert job_lines(verbose.stdout) == job_lines(run.stdout)
    assert "Compute Failed" in verbose.stderr  # the worker's own log
    assert f"RasterOpenError: {sentence}" in verbose.stderr  # the job's traceback
    assert listing(tmp_path) == ["batch.json", "d_a.tif", "d_b.tif", "in", "mine_c.tif", "mine_d.tif"]
