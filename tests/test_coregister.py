"""The shift between two dates as a step of the one run (core/run.py), through plain Python and
qgis_process: estimated and returned, said unreliable where it is, and corrected before the outputs' grids
are planned, so that a second estimate on the corrected outputs comes out near zero."""

import json
import threading

import numpy as np
import pytest
from commands import clippair
from conftest import QGIS_PROCESS
from files import leftovers
from osgeo import gdal
from rasters import read_array
from shift_data import SHIFT_TRANSFORM, write_pair

from overlap_clip_plugin.core import run_clip
from overlap_clip_plugin.core.errors import CancelledError

#: B's georeference a third of its pixel size off A's lattice: B is resampled onto A's grid.
OFF_LATTICE = (SHIFT_TRANSFORM[0] + 3.3, 10.0, 0.0, SHIFT_TRANSFORM[3] - 3.3, 0.0, -10.0)


@pytest.mark.parametrize(("dx", "dy"), [(1.3, -0.7), (-2.45, 0.6)])
def test_a_run_estimates_the_shift_and_corrects_it_so_that_a_second_estimate_is_near_zero(tmp_path, dx, dy):
    a, b = write_pair(tmp_path, dx, dy)
    out = [str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")]
    estimated = run_clip([a, b], out, shift="estimate")
    shift = estimated.shifts[1]
    assert estimated.shifts[0] is None and shift.reliable, shift.reason
    assert (shift.dx_px, shift.dy_px) == pytest.approx((dx, dy), abs=0.05)
    assert estimated.corrections == (None, None)

    # Nearest neighbour would move B's pixels by whole pixels only (the plan says so): cubic moves the fraction.
    corrected = run_clip([a, b], out, shift="correct", resampling="cubic")
    assert corrected.corrections[1] == pytest.approx((dx, dy), abs=0.05)
    assert corrected.plan.warnings == ()
    # B moved by its shift is resampled once onto A's grid; both outputs share that grid.
    assert [output.copied for output in corrected.plan.outputs] == [True, False]
    assert corrected.plan.outputs[0].grid == corrected.plan.outputs[1].grid
    again = run_clip(out, [str(tmp_path / "again_a.tif"), str(tmp_path / "again_b.tif")], shift="estimate")
    residual = again.shifts[1]
    assert residual.reliable, residual.reason
    assert abs(residual.dx_px) <= 0.1 and abs(residual.dy_px) <= 0.1, (residual.dx_px, residual.dy_px)
    assert leftovers(tmp_path) == []


def test_the_estimate_read_while_the_outputs_are_written_is_there_before_the_commit(tmp_path):
    a, b = write_pair(tmp_path, 1.3, -0.7)
    out = [str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")]
    seen = []
    result = run_clip([a, b], out, shift="estimate", before_commit=lambda made: seen.append(made.shifts))
    assert seen == [result.shifts]
    assert (result.shifts[1].dx_px, result.shifts[1].dy_px) == pytest.approx((1.3, -0.7), abs=0.05)
    assert not [thread for thread in threading.enumerate() if thread.name == "overlapclip-alongside"]


@pytest.mark.parametrize("at", [0.01, 0.5, 1.0])
def test_a_cancel_while_the_outputs_are_written_stops_the_estimate_and_writes_nothing(tmp_path, at):
    a, b = write_pair(tmp_path, 1.3, -0.7)
    out = [str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")]
    with pytest.raises(CancelledError):
        run_clip([a, b], out, shift="estimate", progress=lambda fraction: False if fraction >= at else None)
    assert not [thread for thread in threading.enumerate() if thread.name == "overlapclip-alongside"]
    assert leftovers(tmp_path) == [] and sorted(path.name for path in tmp_path.iterdir()) == [
        "reference.tif",
        "shifted.tif",
    ]


def test_a_fraction_corrected_by_nearest_neighbour_is_said_to_move_whole_pixels_only(tmp_path):
    a, b = write_pair(tmp_path, 1.3, -0.7)
    result = run_clip([a, b], [str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")], shift="correct")
    dx, dy = result.corrections[1]
    assert [str(note) for note in result.plan.warnings] == [
        f"'shifted.tif' is moved by {dx:.2f}, {dy:.2f} pixels, but nearest-neighbour resampling moves its pixels by "
        "whole pixels only: choose bilinear, cubic or Lanczos resampling to remove the fraction too."
    ]


def test_a_whole_pixel_shift_on_the_grid_is_corrected_by_a_copy(tmp_path):
    a, b = write_pair(tmp_path, 3.0, -2.0)
    out = [str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")]
    result = run_clip([a, b], out, shift="correct")
    assert result.corrections[1] == (3, -2)
    assert [output.copied for output in result.plan.outputs] == [True, True]
    # The copy is B's own pixels, moved three columns west and two rows north on the ground.
    window = result.plan.outputs[1].window
    source = read_array(b)[
        0, window.row_off : window.row_off + window.height, window.col_off : window.col_off + window.width
    ]
    np.testing.assert_array_equal(read_array(out[1])[0], source)
    assert gdal.Open(out[1]).GetGeoTransform() == gdal.Open(out[0]).GetGeoTransform()


def test_unrelated_content_is_said_unreliable_and_nothing_is_corrected(tmp_path):
    a, b = write_pair(tmp_path, 0.5, 0.5, other_seed=7)
    result = run_clip([a, b], [str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")], shift="correct")
    shift = result.shifts[1]
    assert not shift.reliable and shift.dx_px is None
    assert shift.reason.startswith("The rasters' content does not match")
    assert result.corrections == (None, None)


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_qgis_process_estimates_and_corrects_the_shift(tmp_path, profile):
    a, b = write_pair(tmp_path, 1.3, -0.7)
    run = clippair(
        profile, INPUT_A=a, INPUT_B=b, SHIFT="true", OUTPUT_A=tmp_path / "a.tif", OUTPUT_B=tmp_path / "b.tif"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    assert (results["SHIFT_X"], results["SHIFT_Y"]) == pytest.approx((1.3, -0.7), abs=0.05)
    assert results["SHIFT_M"] == pytest.approx(10.0 * np.hypot(1.3, 0.7), abs=0.5)
    assert results["SHIFT_RELIABLE"] is True and results["SHIFT_NOTE"] == ""

    run = clippair(
        profile,
        INPUT_A=a,
        INPUT_B=b,
        COREGISTER="true",
        RESAMPLING=2,
        OUTPUT_A=tmp_path / "ca.tif",
        OUTPUT_B=tmp_path / "cb.tif",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    again = clippair(
        profile,
        INPUT_A=tmp_path / "ca.tif",
        INPUT_B=tmp_path / "cb.tif",
        SHIFT="true",
        OUTPUT_A=tmp_path / "again_a.tif",
        OUTPUT_B=tmp_path / "again_b.tif",
    )
    assert again.returncode == 0, again.stdout + again.stderr
    residual = json.loads(again.stdout[again.stdout.index("{") :])["results"]
    assert abs(residual["SHIFT_X"]) <= 0.1 and abs(residual["SHIFT_Y"]) <= 0.1, residual


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_qgis_process_says_an_unreliable_shift_in_one_sentence_and_gives_no_number(tmp_path, profile):
    a, b = write_pair(tmp_path, 0.5, 0.5, other_seed=7)
    run = clippair(
        profile, INPUT_A=a, INPUT_B=b, SHIFT="true", OUTPUT_A=tmp_path / "a.tif", OUTPUT_B=tmp_path / "b.tif"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    assert results["SHIFT_RELIABLE"] is False
    assert results["SHIFT_X"] is None and results["SHIFT_Y"] is None and results["SHIFT_M"] is None
    assert results["SHIFT_NOTE"].startswith("The rasters' content does not match")


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_qgis_process_estimates_the_shift_unless_it_is_turned_off(tmp_path, profile):
    a, b = write_pair(tmp_path, 1.3, -0.7)
    run = clippair(profile, INPUT_A=a, INPUT_B=b, OUTPUT_A=tmp_path / "a.tif", OUTPUT_B=tmp_path / "b.tif")
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    assert (results["SHIFT_X"], results["SHIFT_Y"]) == pytest.approx((1.3, -0.7), abs=0.05)
    assert "Shift of B against A: +1.30, -0.70 pixels" in run.stdout, run.stdout

    run = clippair(
        profile, INPUT_A=a, INPUT_B=b, SHIFT="false", OUTPUT_A=tmp_path / "c.tif", OUTPUT_B=tmp_path / "d.tif"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    assert [results[key] for key in ("SHIFT_X", "SHIFT_Y", "SHIFT_M", "SHIFT_RELIABLE", "SHIFT_NOTE")] == [
        None,
        None,
        None,
        None,
        "",
    ]
    assert "Shift of B" not in run.stdout
