"""The batch command, ``python3 -m overlap_clip_plugin``, as a pipeline runs it: a JSON or CSV batch of
pairs and stacks, on a local thread pool, a LocalCluster and an existing Dask scheduler; bit-identical
to the core called job by job; a failed job is said and leaves its outputs unwritten."""

import csv
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from files import digests, leftovers, listing
from osgeo import gdal
from rasters import make_raster, read_array, sample_dates, sample_pair
from test_change_run import EAST, SOUTH, apart_dates

from overlap_clip_plugin.core import clip, output_names
from overlap_clip_plugin.core.change import ChangeRequest, ChangeSettings
from overlap_clip_plugin.core.qa import parse_rule
from overlap_clip_plugin.core.raster import Source
from overlap_clip_plugin.core.run import run_clip


def run_command(*arguments):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, "-m", "overlap_clip_plugin", *map(str, arguments)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def scenes(tmp_path):
    folder = tmp_path / "scenes"
    folder.mkdir()
    return [*sample_pair(folder), *sample_dates(folder)]


def test_a_json_batch_of_pairs_and_a_stack(scenes, tmp_path):
    a, b, c, d = scenes
    batch = tmp_path / "batch.json"
    batch.write_text(
        json.dumps(
            {
                "jobs": [
                    {"inputs": [a, b], "outputs": ["pairs/ab_a.tif", "pairs/ab_b.tif"]},
                    {"inputs": [c, d], "outputs": ["pairs/cd_c.tif", "pairs/cd_d.tif"]},
                    {"inputs": [a, b, c, d], "folder": "stack"},
                ]
            }
        )
    )
    (tmp_path / "pairs").mkdir()
    run = run_command(batch, "--area", "valid", "--mask-common")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Written: 3 of 3 jobs (8 files)." in run.stdout
    assert run.stdout.count("] job ") == 3
    # The same files as the core called job by job, in one process without any executor.
    expected = tmp_path / "expected"
    expected.mkdir()
    for inputs, outputs in (
        ([a, b], ["pairs/ab_a.tif", "pairs/ab_b.tif"]),
        ([c, d], ["pairs/cd_c.tif", "pairs/cd_d.tif"]),
        ([a, b, c, d], [f"stack/{name}" for name in output_names([a, b, c, d])]),
    ):
        mine = [str(expected / os.path.basename(path)) for path in outputs]
        clip(inputs, mine, 0, area="valid", mask_common=True)
        assert digests(tmp_path / path for path in outputs) == digests(mine)


def test_a_csv_batch_on_a_local_cluster_with_a_failed_job(scenes, tmp_path):
    a, b, c, d = scenes
    far = make_raster(tmp_path / "far.tif", (900000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 50, 50)
    batch = tmp_path / "pairs.csv"
    with open(batch, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["input_a", "input_b", "output_a", "output_b"])
        writer.writerow([a, b, "ab_a.tif", "ab_b.tif"])
        writer.writerow([a, far, "far_a.tif", "far_b.tif"])
        writer.writerow([c, d, "cd_c.tif", "cd_d.tif"])
    run = run_command(batch, "--grid", "own", "--local-workers", 2)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Written: 2 of 3 jobs (4 files)." in run.stdout
    assert "Failed: job 2: The rasters do not overlap" in run.stdout
    assert not (tmp_path / "far_a.tif").exists() and not (tmp_path / "far_b.tif").exists()
    mine = [str(tmp_path / "mine_a.tif"), str(tmp_path / "mine_b.tif")]
    clip([c, d], mine, "own")
    assert digests([tmp_path / "cd_c.tif", tmp_path / "cd_d.tif"]) == digests(mine)
    assert leftovers(tmp_path) == []


def test_an_existing_dask_scheduler(scenes, tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed in this Python (`make test` installs it in .venv)"
    )
    a, b, c, d = scenes
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"inputs": [c, d, a], "folder": "out"}]))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run = run_command(batch, "--scheduler", cluster.scheduler_address, "--reference", 2, "--quiet")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Written: 1 of 1 jobs (3 files)." in run.stdout
    assert "] job " not in run.stdout  # --quiet
    mine = [str(tmp_path / f"mine_{index}.tif") for index in range(3)]
    clip([c, d, a], mine, 1)
    written = [str(tmp_path / "out" / name) for name in output_names([c, d, a])]
    assert digests(written) == digests(mine)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{not json", "Cannot read the batch file"),
        ('{"jobs": []}', "lists no job"),
        ('[{"inputs": ["a.tif"], "outputs": ["x.tif"]}]', "needs two or more inputs"),
        ('[{"outputs": ["x.tif"]}]', "needs inputs and outputs"),
    ],
)
def test_a_batch_file_that_cannot_be_used_is_exit_status_2(tmp_path, content, said):
    batch = tmp_path / "batch.json"
    batch.write_text(content)
    run = run_command(batch)
    assert run.returncode == 2
    assert said in run.stderr
    assert listing(tmp_path) == ["batch.json"]


def test_a_csv_from_a_spreadsheet_with_a_byte_order_mark(scenes, tmp_path):
    a, b, _, _ = scenes
    batch = tmp_path / "pairs.csv"
    batch.write_text(f"input_a,input_b,output_a,output_b\n{a},{b},x.tif,y.tif\n", encoding="utf-8-sig")
    run = run_command(batch)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "x.tif").exists() and (tmp_path / "y.tif").exists()


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--threads", "0"], "need 1 or more"),
        (["--local-workers", "0"], "need 1 or more"),
        (["--scheduler", "tcp://127.0.0.1:9"], "Cannot start or reach the Dask cluster"),
    ],
)
def test_options_that_cannot_be_used_are_exit_status_2(scenes, tmp_path, options, said):
    a, b, _, _ = scenes
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"inputs": [a, b], "outputs": ["x.tif", "y.tif"]}]))
    run = run_command(batch, *options)
    assert run.returncode == 2, run.stdout + run.stderr
    assert said in run.stderr
    assert not (tmp_path / "x.tif").exists()


def test_importing_dask_keeps_the_batch_command_quiet_about_dask_s_own_bookkeeping():
    """Dask's import sets its loggers' levels from its configuration (the client's event loop to ERROR, where
    it logs a task that ended after its future was cancelled); the batch command's quiet levels must hold
    after that import, which comes when the executor is made. A fresh Python, as the command runs."""
    pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed in this Python (`make test` installs it in .venv)"
    )
    script = (
        "import logging\n"
        "from overlap_clip_plugin.cli import _dask_logs\n"
        "with _dask_logs(False, True):\n"
        "    import distributed\n"
        "    names = ('tornado.application', 'distributed', 'distributed.client')\n"
        "    print(*(logging.getLogger(name).level for name in names))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(logging.CRITICAL)] * 3


@pytest.fixture(scope="module")
def two_dates(tmp_path_factory):
    """The planted dates of test_change_run (B on its own grid, 30 columns east and 20 rows south of A), an SCL
    companion for B flagging a cloud (class 9) where nothing changed, and one for A, all clear (class 4)."""
    folder = tmp_path_factory.mktemp("two_dates")
    first, second, truth = apart_dates(folder)
    scl = np.full((truth.shape[0] - SOUTH, truth.shape[1] - EAST), 4, dtype=np.uint8)
    scl[10:40, 300:380] = 9
    companion = make_raster(
        folder / "scl.tif", gdal.Open(second).GetGeoTransform(), scl.shape[1], scl.shape[0], data=scl
    )
    clear = np.full(truth.shape, 4, dtype=np.uint8)
    transform = gdal.Open(first).GetGeoTransform()
    clear_a = make_raster(folder / "scl_a.tif", transform, clear.shape[1], clear.shape[0], data=clear)
    return first, second, companion, clear_a


def test_a_pair_s_change_map_is_made_in_its_job_as_the_core_makes_it(two_dates, tmp_path):
    first, second, companion, clear_a = two_dates
    change = {"output": "out/map.tif", "magnitude": "out/magnitude.tif", "method": "pca_kmeans", "bands": [1]}
    batch = tmp_path / "batch.json"
    (tmp_path / "out").mkdir()
    batch.write_text(
        json.dumps(
            [
                {
                    "inputs": [first, second],
                    "outputs": ["out/a.tif", "out/b.tif"],
                    "qa": "sentinel-2-scl",
                    "qa_rasters": [clear_a, companion],
                    "change": change,
                },
            ]
        )
    )
    run = run_command(batch, "--shift", "none", "--qa", "bits:15")  # the job's rule wins over --qa
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Written: 1 of 1 jobs (4 files)." in run.stdout
    labels = read_array(tmp_path / "out" / "map.tif")[0]
    counts = f"{int((labels == 1).sum())} of {int((labels != 255).sum())} pixels"
    assert f"    change (pca_kmeans, bands 1): {counts}" in run.stdout
    assert f"Job 1: change (pca_kmeans, bands 1): {counts}" in run.stdout
    assert (labels[10:40, 300:380] == 255).all()  # the cloud the job's rule rejects
    mine = [str(tmp_path / name) for name in ("a.tif", "b.tif", "map.tif", "magnitude.tif")]
    run_clip(
        [
            Source(first, qa=parse_rule("sentinel-2-scl", 1, clear_a)),
            Source(second, qa=parse_rule("sentinel-2-scl", 1, companion)),
        ],
        mine[:2],
        0,
        area="valid",
        change=ChangeRequest(mine[2], ChangeSettings(bands=(1,)), mine[3]),
    )
    written = [tmp_path / "out" / name for name in ("a.tif", "b.tif", "map.tif", "magnitude.tif")]
    assert digests(written) == digests(mine)


def test_a_csv_row_with_a_clear_sky_rule_and_a_change_map(two_dates, tmp_path):
    first, second, _, _ = two_dates
    batch = tmp_path / "pairs.csv"
    batch.write_text(
        "input_a;input_b;output_a;output_b;qa;qa_band;change;change_method\n"
        f"{first};{second};a.tif;b.tif;bits:15;1;map.tif;magnitude\n"
    )
    run = run_command(batch, "--shift", "none")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Written: 1 of 1 jobs (3 files)." in run.stdout
    assert "change (magnitude, bands 1, 2): " in run.stdout and ", threshold " in run.stdout
    assert read_array(tmp_path / "map.tif").shape == read_array(tmp_path / "a.tif")[:1].shape


@pytest.mark.parametrize(
    ("jobs", "options", "said"),
    [
        (
            [{"inputs": ["a.tif", "b.tif"], "folder": "out", "change": {"output": "m.tif"}}],
            [],
            "Job 1 of '{batch}' asks for a change map, which compares a pair: give two inputs and two outputs.",
        ),
        (
            [{"inputs": ["a.tif", "b.tif"], "outputs": ["x.tif", "y.tif"], "change": {"output": "m.tif", "h": 5}}],
            [],
            "Job 1 of '{batch}' has the unknown key 'h' in \"change\"; its keys are output, magnitude, method, bands, "
            "block, components, threshold, direction.",
        ),
        (
            [{"inputs": ["a.tif", "b.tif"], "outputs": ["x.tif", "y.tif"], "change": {"output": "m.tif", "block": 4}}],
            [],
            "Job 1 of '{batch}': The block size must be an odd number of pixels, 3 or more; 4 was given.",
        ),
        (
            [{"inputs": ["a.tif", "b.tif"], "outputs": ["x.tif", "y.tif"], "change": {"output": "m.tif"}}],
            ["--grid", "own"],
            "Job 1 asks for a change map, which compares the pair on one grid; --grid own gives each input its own.",
        ),
        (
            [
                {"inputs": ["a.tif", "b.tif"], "outputs": ["x.tif", "y.tif"], "change": {"output": "c.tif"}},
                {"inputs": ["c.tif", "b.tif"], "outputs": ["z.tif", "w.tif"]},
            ],
            [],
            "The output 'c.tif' of job 1 is an input of job 2; jobs run side by side, so write it to another path.",
        ),
        (
            [
                {"inputs": ["a.tif", "b.tif"], "outputs": ["x.tif", "y.tif"]},
                {
                    "inputs": ["a.tif", "b.tif"],
                    "outputs": ["z.tif", "w.tif"],
                    "qa": "bits:3",
                    "qa_rasters": [None, "x.tif"],
                },
            ],
            [],
            "The output 'x.tif' of job 1 is an input of job 2; jobs run side by side, so write it to another path.",
        ),
    ],
    ids=[
        "stack",
        "unknown-key",
        "bad-block",
        "own-grids",
        "map-read-by-another-job",
        "qa-raster-written-by-another-job",
    ],
)
def test_a_change_map_or_qa_raster_that_cannot_work_refuses_the_batch(tmp_path, jobs, options, said):
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps(jobs))
    run = run_command(batch, *options)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.strip() == said.format(batch=batch)
    assert listing(tmp_path) == ["batch.json"]


def test_a_change_map_in_a_folder_that_does_not_exist_fails_its_job_with_nothing_written(two_dates, tmp_path):
    first, second, _, _ = two_dates
    batch = tmp_path / "batch.json"
    job = {"inputs": [first, second], "outputs": ["a.tif", "b.tif"], "change": {"output": "maps/map.tif"}}
    batch.write_text(json.dumps([job]))
    run = run_command(batch, "--shift", "none")
    assert run.returncode == 1, run.stdout + run.stderr
    missing = tmp_path / "maps"
    assert f"Failed: job 1: The folder '{missing}' of the output '{missing / 'map.tif'}' does not exist." in run.stdout
    assert listing(tmp_path) == ["batch.json"]
