"""Runs stopped from outside, as a scheduler stops them: SIGTERM to plain Python and to qgis_process
cancels the run, which removes its staging folders before the signal takes the process; what a killed
run (SIGKILL) leaves is removed by the next run that writes into that folder, and only that."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import QGIS_PROCESS, ROOT
from files import leftovers, listing
from osgeo import gdal
from rasters import make_raster, read_array

from overlap_clip_plugin.core import clip_pair

SIZE = 4000


@pytest.fixture(scope="module")
def big_pair(tmp_path_factory):
    """Two 4000 x 4000 Float32 rasters on different lattices: B is resampled, which takes a few seconds."""
    folder = tmp_path_factory.mktemp("big")
    a = make_raster(folder / "a.tif", (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), SIZE, SIZE, dtype=gdal.GDT_Float32)
    b = make_raster(folder / "b.tif", (500003.3, 10.0, 0.0, 4999996.7, 0.0, -10.0), SIZE, SIZE, dtype=gdal.GDT_Float32)
    return a, b


CORE_RUN = """
import sys
from overlap_clip_plugin.core import clip_pair
clip_pair(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], resampling="cubic",
          creation_options=["COMPRESS=DEFLATE", "ZLEVEL=9", "PREDICTOR=3"])
"""


def started(command, out, env=None):
    """``command`` started, once a staging folder of it shows in ``out`` (the run is writing)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(name.startswith(".overlapclip-staging-") for name in listing(out)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.01)
    return process


def core_command(a, b, out):
    return [sys.executable, "-c", CORE_RUN, a, b, str(out / "a.tif"), str(out / "b.tif")]


def core_env():
    return dict(os.environ, PYTHONPATH=ROOT)


def test_sigterm_cancels_a_plain_python_run_and_leaves_nothing(big_pair, tmp_path):
    process = started(core_command(*big_pair, tmp_path), tmp_path, core_env())
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    # The run removed its folders, then the signal took the process as it would have at once.
    assert process.returncode == -signal.SIGTERM, stderr
    assert listing(tmp_path) == []


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_sigterm_to_qgis_process_leaves_no_staging_folder(big_pair, tmp_path, profile):
    a, b = big_pair
    command = [
        QGIS_PROCESS,
        "run",
        "overlapclip:clippair",
        "--",
        f"INPUT_A={a}",
        f"INPUT_B={b}",
        "RESAMPLING=2",
        "OPTIONS=COMPRESS=DEFLATE|ZLEVEL=9|PREDICTOR=3",
        f"OUTPUT_A={tmp_path / 'a.tif'}",
        f"OUTPUT_B={tmp_path / 'b.tif'}",
    ]
    process = started(command, tmp_path, profile)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    assert process.returncode == -signal.SIGTERM
    assert listing(tmp_path) == []


def test_what_a_killed_run_left_is_removed_by_the_next_run_there(big_pair, tmp_path):
    a, b = big_pair
    process = started(core_command(a, b, tmp_path), tmp_path, core_env())
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    left = leftovers(tmp_path)
    assert left
    assert all(name.startswith(".overlapclip-staging-") for name in left)
    assert all(name.endswith(f"~{process.pid}@{os.uname().nodename}") for name in left)
    # A live process's folder and a fresh one of unknown owner stay; an old one of unknown owner goes.
    with subprocess.Popen(["sleep", "60"]) as alive:
        keep = tmp_path / f".overlapclip-staging-x~{alive.pid}@{os.uname().nodename}"
        keep.mkdir()
        fresh = tmp_path / ".overlapclip-inputs-fresh"
        fresh.mkdir()
        old = tmp_path / ".overlapclip-inputs-old"
        old.mkdir()
        two_days_ago = time.time() - 2 * 24 * 3600
        os.utime(old, (two_days_ago, two_days_ago))
        # A file a cut-short commit of that killed run set aside is put back where its path is empty.
        aside = tmp_path / f".overlapclip-replaced-0123456789ab-notes.txt~{process.pid}@{os.uname().nodename}"
        aside.write_text("the user's notes")
        plan = clip_pair(a, b, str(tmp_path / "a.tif"), str(tmp_path / "b.tif"), grid="own")
        alive.kill()
    assert sorted(leftovers(tmp_path)) == sorted([keep.name, fresh.name])
    assert (tmp_path / "notes.txt").read_text() == "the user's notes"
    window = plan.outputs[0].window
    np.testing.assert_array_equal(
        read_array(tmp_path / "a.tif")[0],
        read_array(a)[
            0, window.row_off : window.row_off + window.height, window.col_off : window.col_off + window.width
        ],
    )
