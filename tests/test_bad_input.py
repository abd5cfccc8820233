"""The bad-input matrix, through processing.run and through qgis_process, as users meet it.

Every failing case gives one clear sentence and leaves nothing in the output
folder; every case that should succeed does, with correct results.
"""

import json
import math
import os
import re
import subprocess

import numpy as np
import processing
import pytest
from commands import clippair, qgis_process
from feedback import RecordingFeedback
from files import listing
from osgeo import gdal
from qgis.core import QgsProcessingException
from rasters import A_TRANSFORM, assert_copied_from, assert_same_grid, make_raster, read_array


def _a(folder, **kwargs):
    return make_raster(folder / "a.tif", A_TRANSFORM, 100, 80, **kwargs)


def _b(folder, transform=(500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), name="b.tif", **kwargs):
    return make_raster(folder / name, transform, 100, 80, **kwargs)


def missing(inputs, out):
    return _a(inputs), str(inputs / "missing.tif"), out / "a.tif", out / "b.tif"


def not_a_raster(inputs, out):
    (inputs / "notes.tif").write_text("field notes, not a raster")
    return _a(inputs), str(inputs / "notes.tif"), out / "a.tif", out / "b.tif"


def truncated(inputs, out):
    b = _b(inputs, name="full.tif")
    data = open(b, "rb").read()
    (inputs / "cut.tif").write_bytes(data[: len(data) // 2])
    return _a(inputs), str(inputs / "cut.tif"), out / "a.tif", out / "b.tif"


def crs_on_one_side(inputs, out):
    return _a(inputs), _b(inputs, epsg=None), out / "a.tif", out / "b.tif"


def no_georeference(inputs, out):
    """A raster with neither geotransform, nor GCPs, nor RPCs."""
    path = inputs / "bare.tif"
    gdal.GetDriverByName("GTiff").Create(str(path), 50, 50, 1, gdal.GDT_Byte)
    return _a(inputs), str(path), out / "a.tif", out / "b.tif"


def touching_edge(inputs, out):
    return _a(inputs), _b(inputs, transform=(501000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)), out / "a.tif", out / "b.tif"


def thinner_than_a_pixel(inputs, out):
    b = _b(inputs, transform=(500996.0, 10.0, 0.0, 5000000.0, 0.0, -10.0))
    return _a(inputs), b, out / "a.tif", out / "b.tif"


def split_by_the_antimeridian(inputs, out):
    """A global EPSG:4326 grid against a UTM zone 1 scene across 180 degrees: on the global grid the common
    area lies at both ends."""
    world = make_raster(inputs / "world.tif", (-180.0, 1.0, 0.0, 90.0, 0.0, -1.0), 360, 180, epsg=4326)
    scene = make_raster(inputs / "scene.tif", (150000.0, 1000.0, 0.0, 5100000.0, 0.0, -1000.0), 200, 200, epsg=32601)
    return world, scene, out / "a.tif", out / "b.tif"


def output_is_input(inputs, out):
    a = _a(inputs)
    return a, _b(inputs), out / "a.tif", a


def missing_folder(inputs, out):
    return _a(inputs), _b(inputs), out / "a.tif", out / "nowhere" / "b.tif"


def unknown_extension(inputs, out):
    return _a(inputs), _b(inputs), out / "a.tif", out / "b.unknownformat"


ERRORS = {
    "missing file": (missing, r"The raster '.*missing\.tif' does not exist\."),
    "not a raster": (not_a_raster, r"GDAL cannot open '.*notes\.tif' as a raster: it is not in any raster format"),
    "truncated GeoTIFF": (truncated, r"The GeoTIFF '.*cut\.tif' is truncated: its data run to byte \d+ but the file"),
    "CRS on one side only": (crs_on_one_side, r"'.*b\.tif' has no coordinate reference system but '.*a\.tif' has EPSG"),
    "no georeference": (no_georeference, r"'.*bare\.tif' has no georeference at all: no geotransform, no ground"),
    "touching along an edge": (touching_edge, r"The rasters do not overlap: 'a\.tif' covers .* 'b\.tif' covers"),
    "thinner than a pixel": (thinner_than_a_pixel, r"holds no pixel centre of the 10 x 10 grid of 'a\.tif'"),
    "split by the antimeridian": (
        split_by_the_antimeridian,
        r"The common area crosses the edge of EPSG:4326 .* on the grid of 'world\.tif' it falls into pieces",
    ),
    "output is an input": (output_is_input, r"The output '.*a\.tif' is the input '.*a\.tif'; choose another"),
    "missing output folder": (missing_folder, r"The folder '.*nowhere' of the output '.*b\.tif' does not exist\."),
    "unwritable extension": (unknown_extension, r"No GDAL raster driver on this machine writes '\.unknownformat'"),
}


@pytest.fixture
def folders(tmp_path):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    return inputs, out


def run_processing(params):
    """processing.run: (success, everything said)."""
    feedback = RecordingFeedback()
    try:
        processing.run("overlapclip:clippair", {k: str(v) for k, v in params.items()}, feedback=feedback)
    except QgsProcessingException as err:
        return False, str(err) + "\n" + "\n".join(feedback.messages)
    return True, "\n".join(feedback.messages)


def run_qgis_process(env, params):
    """qgis_process as a user types it: (success, everything printed)."""
    run = qgis_process(env, "run", "overlapclip:clippair", "--", *(f"{k}={v}" for k, v in params.items()))
    return run.returncode == 0, run.stdout + run.stderr


def run(runner, request, params):
    if runner == "processing":
        request.getfixturevalue("provider")
        return run_processing(params)
    return run_qgis_process(request.getfixturevalue("profile"), params)


RUNNERS = ["processing", "qgis_process"]


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("case", sorted(ERRORS))
def test_bad_input_is_one_clear_sentence_and_writes_nothing(runner, case, folders, request):
    inputs, out = folders
    build, message = ERRORS[case]
    a, b, out_a, out_b = build(inputs, out)
    before = listing(inputs)
    ok, said = run(runner, request, {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": out_a, "OUTPUT_B": out_b})
    assert not ok
    assert any(re.search(message, line) for line in said.splitlines()), said
    assert listing(out) == []
    # Nothing of ours beside the inputs (QGIS itself may cache statistics of inputs it loads).
    assert listing(inputs, aux=False) == before


@pytest.mark.parametrize("runner", RUNNERS)
def test_read_only_output_folder(runner, folders, request):
    inputs, out = folders
    locked = out / "locked"
    locked.mkdir()
    if os.geteuid() == 0:
        # Permissions do not stop root; an immutable folder does, where the file system allows it.
        if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
            pytest.skip("running as root on a file system without chattr +i: no way to make a read-only folder")
    else:
        locked.chmod(0o555)
    try:
        params = {"INPUT_A": _a(inputs), "INPUT_B": _b(inputs), "OUTPUT_A": locked / "a.tif", "OUTPUT_B": out / "b.tif"}
        ok, said = run(runner, request, params)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(locked)], check=True)
        locked.chmod(0o755)
    assert not ok
    assert f"the folder '{locked}' is not writable" in said
    assert listing(out) == ["locked"] and listing(locked) == []


@pytest.mark.parametrize("runner", RUNNERS)
def test_both_without_crs_share_one_space_with_a_warning(runner, folders, request):
    inputs, out = folders
    a, b = _a(inputs, epsg=None), _b(inputs, epsg=None)
    ok, said = run(runner, request, {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": out / "a.tif", "OUTPUT_B": out / "b.tif"})
    assert ok, said
    assert "None of the rasters has a coordinate reference system" in said
    assert_copied_from(out / "a.tif", a)
    assert_copied_from(out / "b.tif", b)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_and_b_the_same_file(runner, folders, request):
    inputs, out = folders
    a = _a(inputs)
    ok, said = run(runner, request, {"INPUT_A": a, "INPUT_B": a, "OUTPUT_A": out / "a.tif", "OUTPUT_B": out / "b.tif"})
    assert ok, said
    assert "The same raster is given more than once" in said
    np.testing.assert_array_equal(read_array(out / "a.tif"), read_array(a))
    np.testing.assert_array_equal(read_array(out / "b.tif"), read_array(a))


@pytest.mark.parametrize("runner", RUNNERS)
def test_nan_as_nodata(runner, folders, request):
    inputs, out = folders
    values = np.arange(8000, dtype=np.float32).reshape(80, 100)
    values[70, 70] = np.nan
    a = _a(inputs, dtype=gdal.GDT_Float32, nodata=float("nan"), data=values)
    b = _b(inputs, dtype=gdal.GDT_Float32, nodata=float("nan"))
    ok, said = run(runner, request, {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": out / "a.tif", "OUTPUT_B": out / "b.tif"})
    assert ok, said
    ds = gdal.Open(str(out / "a.tif"))
    assert math.isnan(ds.GetRasterBand(1).GetNoDataValue())
    assert np.isnan(ds.GetRasterBand(1).ReadAsArray()[20, 10])
    assert_copied_from(out / "b.tif", b)


@pytest.mark.parametrize("runner", RUNNERS)
def test_paths_with_spaces_and_non_ascii_characters(runner, tmp_path, request):
    inputs, out = tmp_path / "données d'été", tmp_path / "résultats 2024 — 变化"
    inputs.mkdir()
    out.mkdir()
    a = make_raster(inputs / "scène A.tif", A_TRANSFORM, 100, 80)
    b = make_raster(inputs / "场景 B.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80)
    out_a, out_b = out / "scène A commun.tif", out / "场景 B 共同.tif"
    ok, said = run(runner, request, {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": out_a, "OUTPUT_B": out_b})
    assert ok, said
    assert_same_grid(out_a, out_b)
    assert_copied_from(out_a, a)
    np.testing.assert_array_equal(read_array(out_b)[0], read_array(b)[0][:30, :40])
    assert listing(out) == sorted([out_a.name, out_b.name])


def test_json_results_of_a_successful_run_name_the_outputs(profile, folders):
    inputs, out = folders
    run = clippair(profile, INPUT_A=_a(inputs), INPUT_B=_b(inputs), OUTPUT_A=out / "a.tif", OUTPUT_B=out / "b.tif")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout[run.stdout.index("{") :])["results"]["OUTPUT_B"] == str(out / "b.tif")
