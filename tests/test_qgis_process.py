"""overlapclip:clippair through qgis_process in a subprocess, as a user types it.

The plugin is installed with `make install` into a QGIS profile of the test's
own (QGIS_CUSTOM_CONFIG_PATH), so the user's real profile is never touched.
"""

import json

import numpy as np
import pytest
from commands import clippair, qgis_process
from files import listing
from rasters import A_TRANSFORM, assert_copied_from, assert_same_grid, grid_of, make_raster, read_array


def test_algorithm_is_listed(profile):
    run = qgis_process(profile, "list")
    assert run.returncode == 0, run.stderr
    assert "overlapclip:clippair" in run.stdout


def test_run_as_a_user_types_it(profile, tmp_path):
    a = make_raster(tmp_path / "my scene A.tif", A_TRANSFORM, 100, 80, bands=3, nodata=-1)
    b = make_raster(tmp_path / "b.tif", (500203.3, 20.0, 0.0, 4999796.7, 0.0, -20.0), 50, 50, nodata=-1)
    out_a, out_b = tmp_path / "a common.tif", tmp_path / "b_common.tif"
    run = clippair(profile, INPUT_A=a, INPUT_B=b, OUTPUT_A=out_a, OUTPUT_B=out_b)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    numbers = {key: results.pop(key) for key in ("OVERLAP_AREA", "OVERLAP_AREA_M2", "PERCENT_A", "PERCENT_B")}
    assert results == {
        "OUTPUT_A": str(out_a),
        "OUTPUT_B": str(out_b),
        "WIDTH": 80,
        "HEIGHT": 60,
        # The shift is estimated unless turned off: this overlap is too small for it, and says so.
        "SHIFT_X": None,
        "SHIFT_Y": None,
        "SHIFT_M": None,
        "SHIFT_RELIABLE": False,
        "SHIFT_NOTE": "The common area (80 x 60 pixels) is too small to estimate a shift: it needs at least 64 x 64 "
        "pixels.",
    }
    # The true intersection of the extents: from 500203.3 to 501000 and from 4999200 to 4999796.7.
    overlap = 796.7 * 596.7
    assert numbers["OVERLAP_AREA"] == pytest.approx(overlap)
    assert numbers["OVERLAP_AREA_M2"] == pytest.approx(overlap / 0.9996**2, rel=2e-4)
    assert numbers["PERCENT_A"] == pytest.approx(100.0 * overlap / 800000.0, rel=1e-4)  # of A's 1000 x 800 m
    assert numbers["PERCENT_B"] == pytest.approx(100.0 * overlap / 1000000.0, rel=1e-4)  # of B's 1000 x 1000 m
    assert_same_grid(out_a, out_b)
    assert_copied_from(out_a, a)
    # B's 20 m pixels start 3.3 m in: A's grid from 500200, 80 x 60 pixels, each B pixel twice.
    assert grid_of(out_a) == ((500200.0, 10.0, 0.0, 4999800.0, 0.0, -10.0), 80, 60)
    expected = np.repeat(np.repeat(read_array(b)[0][:30, :40], 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(read_array(out_b)[0], expected)


def test_own_grids_from_the_command_line(profile, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500203.3, 20.0, 0.0, 4999796.7, 0.0, -20.0), 50, 50)
    out_a, out_b = tmp_path / "a.vrt", tmp_path / "b.vrt"
    run = clippair(profile, INPUT_A=a, INPUT_B=b, GRID=2, OUTPUT_A=out_a, OUTPUT_B=out_b)
    assert run.returncode == 0, run.stdout + run.stderr
    assert_copied_from(out_a, a)
    assert_copied_from(out_b, b)


def test_no_overlap_fails_clearly_and_writes_nothing(profile, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    run = clippair(profile, INPUT_A=a, INPUT_B=b, OUTPUT_A=tmp_path / "x.tif", OUTPUT_B=tmp_path / "y.tif")
    assert run.returncode != 0
    assert (
        "The rasters do not overlap: 'a.tif' covers [500000, 4999200 : 501000, 5000000] in EPSG:32633; "
        "'b.tif' covers [600000, 4999900 : 600100, 5000000] in EPSG:32633." in run.stdout + run.stderr
    )
    # QGIS itself caches band statistics in .aux.xml files beside inputs it loads as layers
    # (any algorithm does this under qgis_process); no output or partial output exists.
    written = listing(tmp_path, aux=False)
    assert written == ["a.tif", "b.tif"]


def test_valid_area_and_overlap_polygon_from_the_command_line(profile, tmp_path):
    values = np.full((80, 100), 3, dtype=np.int16)
    values[:, 70:] = -1
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1, data=values)
    b = make_raster(tmp_path / "b.tif", (500203.3, 20.0, 0.0, 4999796.7, 0.0, -20.0), 50, 50)
    overlap = tmp_path / "overlap.gpkg"
    run = clippair(
        profile,
        INPUT_A=a,
        INPUT_B=b,
        AREA=1,
        MASK_COMMON="true",
        OUTPUT_A=tmp_path / "x.tif",
        OUTPUT_B=tmp_path / "y.tif",
        OVERLAP=overlap,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    # Valid in both: A's columns 20..69 (B starts at 500200), rows 20..79.
    assert (results["WIDTH"], results["HEIGHT"]) == (50, 60)
    assert results["OVERLAP_AREA"] == 50 * 60 * 100.0
    assert grid_of(tmp_path / "x.tif") == ((500200.0, 10.0, 0.0, 4999800.0, 0.0, -10.0), 50, 60)
    assert overlap.is_file()


def test_clipstack_with_repeated_inputs(profile, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    inputs = [
        make_raster(tmp_path / "x" / "scene.tif", A_TRANSFORM, 100, 80),
        make_raster(tmp_path / "y" / "scene.tif", (500100.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), 100, 80),
        make_raster(tmp_path / "dem.tif", (500203.3, 20.0, 0.0, 4999796.7, 0.0, -20.0), 50, 50),
    ]
    out = tmp_path / "out folder"
    run = qgis_process(
        profile,
        "--json",
        "run",
        "overlapclip:clipstack",
        *(f"--INPUTS={path}" for path in inputs),
        f"--OUTPUT_FOLDER={out}",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    expected = [str(out / "scene_common.tif"), str(out / "scene_common_2.tif"), str(out / "dem_common.tif")]
    assert results["OUTPUT_LAYERS"] == expected
    assert_copied_from(expected[0], inputs[0])
    assert_copied_from(expected[1], inputs[1])
    assert_same_grid(expected[0], expected[2])
    assert grid_of(expected[0]) == ((500200.0, 10.0, 0.0, 4999800.0, 0.0, -10.0), 80, 60)


def test_an_empty_overlap_argument_is_skipped_and_a_given_one_written(profile, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1)
    b = make_raster(tmp_path / "b.tif", (500203.3, 20.0, 0.0, 4999796.7, 0.0, -20.0), 50, 50, nodata=-1)
    out = tmp_path / "out"
    out.mkdir()
    skipped = clippair(profile, INPUT_A=a, INPUT_B=b, OUTPUT_A=out / "a.tif", OUTPUT_B=out / "b.tif", OVERLAP="")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "OVERLAP" not in json.loads(skipped.stdout[skipped.stdout.index("{") :])["results"]
    assert listing(out) == ["a.tif", "b.tif"]
    given = clippair(
        profile, INPUT_A=a, INPUT_B=b, OUTPUT_A=out / "a.tif", OUTPUT_B=out / "b.tif", OVERLAP=out / "overlap.gpkg"
    )
    assert given.returncode == 0, given.stdout + given.stderr
    assert json.loads(given.stdout[given.stdout.index("{") :])["results"]["OVERLAP"] == str(out / "overlap.gpkg")
    assert listing(out) == ["a.tif", "b.tif", "overlap.gpkg"]
