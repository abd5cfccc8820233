"""The batch command's --shift (issue 21): each job's line says each input's shift against the reference, or
why it is not estimated, and the summary repeats it per job; --shift correct moves the content so that a second
batch estimates nearly no shift between the outputs."""

import json
import math
import re

import pytest
from shift_data import write_pair
from test_batch import run_command

#: A reliable estimate's line, as the job's line and the summary print it (after their heads).
ESTIMATE = re.compile(
    r"shift of '(?P<name>[^']+)': (?P<dx>[+-]\d+\.\d\d), (?P<dy>[+-]\d+\.\d\d) px \((?P<m>[\d.]+) m\), "
    r"(?P<used>\d+) of (?P<total>\d+) windows agree(?P<tail>.*)"
)


def write_batch(tmp_path, jobs, name="batch.json"):
    batch = tmp_path / name
    batch.write_text(json.dumps({"jobs": jobs}))
    return batch


def pair(tmp_path, folder, dx, dy, **options):
    """The reference and the shifted copy in tmp_path/folder, as the batch file names them."""
    (tmp_path / folder).mkdir()
    write_pair(tmp_path / folder, dx, dy, **options)
    return [f"{folder}/reference.tif", f"{folder}/shifted.tif"]


def estimate(line):
    """dx, dy, the metres and the tail of a reliable estimate's line (after its head), checked whole."""
    found = ESTIMATE.fullmatch(line)
    assert found, line
    dx, dy = float(found["dx"]), float(found["dy"])
    used, total = int(found["used"]), int(found["total"])
    assert total >= used > total / 2, line
    # 10 m pixels: the distance on the ground is the shift's length (three digits, of the unrounded shift).
    assert float(found["m"]) == pytest.approx(math.hypot(dx, dy) * 10, abs=0.15), line
    return dx, dy, found["tail"]


def test_a_batch_estimates_each_jobs_shift_and_says_it_per_job_and_in_the_summary(tmp_path):
    jobs = [
        {"inputs": pair(tmp_path, "one", 1.3, -0.7), "outputs": ["one_a.tif", "one_b.tif"]},
        {"inputs": pair(tmp_path, "two", -2.45, 0.6), "outputs": ["two_a.tif", "two_b.tif"]},
    ]
    run = run_command(write_batch(tmp_path, jobs))  # --shift estimate is the default
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    # The jobs run side by side: each job's line is followed by its shift's.
    said = {}
    for head, shift in (lines[0:2], lines[2:4]):
        number = int(re.fullmatch(r"\[\d/2\] job (\d): written: .*", head)[1])
        assert head.endswith(f"{('one', 'two')[number - 1]}_b.tif")
        assert shift.startswith("    ")
        said[number] = shift[4:]
    assert lines[4] == "Written: 2 of 2 jobs (4 files)."
    assert lines[5:7] == [f"Job 1: {said[1]}", f"Job 2: {said[2]}"]
    assert lines[7].startswith("Took ") and len(lines) == 8
    for number, (dx, dy) in ((1, (1.3, -0.7)), (2, (-2.45, 0.6))):
        found_dx, found_dy, tail = estimate(said[number])
        assert said[number].startswith("shift of 'shifted.tif': ")
        assert (found_dx, found_dy) == pytest.approx((dx, dy), abs=0.05)
        assert tail == ""  # nothing corrected
    assert run.stderr == ""


def test_unrelated_content_is_said_not_estimated_with_no_number_and_quiet_prints_only_the_summary(tmp_path):
    jobs = [{"inputs": pair(tmp_path, "in", 0.5, 0.5, other_seed=7), "outputs": ["a.tif", "b.tif"]}]
    sentence = (
        "shift of 'shifted.tif' not estimated: The rasters' content does not match: none of the 25 windows with "
        "texture shows a clear correlation peak (unrelated images, too much change, or a shift of more than 128 "
        "pixels)."
    )
    batch = write_batch(tmp_path, jobs)
    run = run_command(batch, "--shift", "estimate")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"[1/1] job 1: written: {tmp_path}/a.tif, {tmp_path}/b.tif"
    assert lines[1:4] == [f"    {sentence}", "Written: 1 of 1 jobs (2 files).", f"Job 1: {sentence}"]
    assert lines[4].startswith("Took ") and len(lines) == 5
    assert " px" not in run.stdout

    quiet = run_command(batch, "--shift", "correct", "--quiet")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert quiet.stdout.splitlines()[:2] == ["Written: 1 of 1 jobs (2 files).", f"Job 1: {sentence}"]
    assert len(quiet.stdout.splitlines()) == 3


def test_a_corrected_batch_leaves_nearly_no_shift_between_its_outputs(tmp_path):
    jobs = [{"inputs": pair(tmp_path, "in", 1.3, -0.7), "outputs": ["a.tif", "b.tif"]}]
    run = run_command(write_batch(tmp_path, jobs), "--shift", "correct", "--resampling", "cubic")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"[1/1] job 1: written: {tmp_path}/a.tif, {tmp_path}/b.tif"
    # Cubic moves the fraction too: no warning, and the raster is moved by its estimate.
    assert lines[1].startswith("    shift of 'shifted.tif': ")
    dx, dy, tail = estimate(lines[1][4:])
    assert (dx, dy) == pytest.approx((1.3, -0.7), abs=0.05)
    assert tail == ", corrected"
    assert lines[2:4] == ["Written: 1 of 1 jobs (2 files).", f"Job 1: {lines[1][4:]}"]

    again = [{"inputs": ["a.tif", "b.tif"], "outputs": ["again_a.tif", "again_b.tif"]}]
    check = run_command(write_batch(tmp_path, again, "again.json"), "--shift", "estimate", "--quiet")
    assert check.returncode == 0, check.stdout + check.stderr
    summary = check.stdout.splitlines()
    assert summary[0] == "Written: 1 of 1 jobs (2 files)."
    assert summary[1].startswith("Job 1: shift of 'b.tif': ")
    dx, dy, tail = estimate(summary[1].removeprefix("Job 1: "))
    assert abs(dx) <= 0.1 and abs(dy) <= 0.1, summary[1]
    assert tail == "" and len(summary) == 3


def test_shift_none_estimates_nothing(tmp_path):
    jobs = [{"inputs": pair(tmp_path, "one", 1.3, -0.7), "outputs": ["one_a.tif", "one_b.tif"]}]
    run = run_command(write_batch(tmp_path, jobs), "--shift", "none")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert re.fullmatch(r"\[1/1\] job 1: written: .*one_b\.tif", lines[0]), lines
    assert lines[1] == "Written: 1 of 1 jobs (2 files)." and lines[2].startswith("Took ") and len(lines) == 3
