"""Cloud-Optimized GeoTIFFs served over HTTP with byte ranges (a local server on 127.0.0.1 that counts the
bytes it serves): the core, qgis_process and a project layer (as the dialog has it) clip them, reading
no more than 1.5 times the bytes of the tiles the overlap needs, with the same values as local files."""

import os

import numpy as np
import processing
import pytest
from commands import clippair
from conftest import QGIS_PROCESS
from files import leftovers, listing
from http_range import RangeServer, overlap_bytes
from osgeo import gdal
from qgis.core import QgsProject, QgsRasterLayer
from rasters import grid_of, make_raster, read_array

from overlap_clip_plugin.core import RasterOpenError, clip_pair

TILE = 256


def cog(folder, name, x0, y0, size, seed):
    """A COG of ``size`` x ``size`` UInt16 pixels of 10 m in 256-pixel tiles, uncompressed (every tile
    the same size, so that byte counts say how many tiles were read), nodata 0 in one corner."""
    values = np.random.default_rng(seed).integers(1, 60000, (size, size)).astype(np.uint16)
    values[:40, :40] = 0
    source = make_raster(
        folder / f"{name}_source.tif",
        (x0, 10.0, 0.0, y0, 0.0, -10.0),
        size,
        size,
        dtype=gdal.GDT_UInt16,
        nodata=0,
        data=values,
    )
    path = folder / f"{name}.tif"
    gdal.Translate(
        str(path), source, format="COG", creationOptions=[f"BLOCKSIZE={TILE}", "COMPRESS=NONE", "OVERVIEWS=NONE"]
    )
    os.remove(source)
    return str(path)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """Two COGs that overlap by a quarter of each, served over HTTP; B's grid is a third of a pixel off."""
    folder = tmp_path / "bucket"
    folder.mkdir()
    a = cog(folder, "a", 500000.0, 5000000.0, 2048, 1)
    b = cog(folder, "b", 510243.3, 4989756.7, 2048, 2)
    monkeypatch.setenv("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
    gdal.SetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
    with RangeServer(folder) as server:
        yield server, a, b
    gdal.SetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", None)
    gdal.VSICurlClearCache()


def clip_served(server, names, outputs, **options):
    """clip_pair of the files ``names`` that ``server`` serves, read over HTTP (/vsicurl/), into ``outputs``."""
    return clip_pair(*(f"/vsicurl/{server.url}/{name}" for name in names), *map(str, outputs), **options)


def overlap_tiles(a, b, tmp_path, **options):
    """The bytes of the tiles each input's part of the output needs, from the same run on the local files."""
    plan = clip_pair(a, b, str(tmp_path / "local_a.tif"), str(tmp_path / "local_b.tif"), **options)
    return overlap_bytes((a, b), plan)


@pytest.mark.parametrize(
    "options",
    [
        {"grid": "own"},
        {"grid": "own", "area": "valid"},
        {"grid": "a"},
        {"grid": "a", "area": "valid", "mask_common": True},
        {"grid": "b", "area": "valid", "resampling": "bilinear"},
    ],
    ids=[
        "own grids",
        "own grids, valid data",
        "A's grid (B resampled)",
        "A's grid, valid data and mask",
        "B's grid, valid data, bilinear",
    ],
)
def test_the_core_reads_the_overlaps_tiles_once(served, tmp_path, options):
    server, a, b = served
    needed = overlap_tiles(a, b, tmp_path, **options)
    server.reset()
    plan = clip_served(server, ("a.tif", "b.tif"), (tmp_path / "a.tif", tmp_path / "b.tif"), **options)
    assert server.served <= 1.5 * needed, (server.served, needed)
    # A quarter of each input: far less than the inputs.
    assert server.served < 0.5 * (os.path.getsize(a) + os.path.getsize(b))
    for name in ("a", "b"):
        assert grid_of(tmp_path / f"{name}.tif") == grid_of(tmp_path / f"local_{name}.tif")
        np.testing.assert_array_equal(read_array(tmp_path / f"{name}.tif"), read_array(tmp_path / f"local_{name}.tif"))
    # The local copies went with the run, although the plan it returned is still held.
    assert plan.outputs and leftovers(tmp_path) == []


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_qgis_process_takes_vsicurl_inputs(served, tmp_path, profile):
    server, a, b = served
    env = dict(profile, GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR")
    run = clippair(
        env,
        INPUT_A=f"/vsicurl/{server.url}/a.tif",
        INPUT_B=f"/vsicurl/{server.url}/b.tif",
        GRID=2,
        OUTPUT_A=tmp_path / "a.tif",
        OUTPUT_B=tmp_path / "b.tif",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    clip_pair(a, b, str(tmp_path / "local_a.tif"), str(tmp_path / "local_b.tif"), grid="own")
    for name in ("a", "b"):
        np.testing.assert_array_equal(read_array(tmp_path / f"{name}.tif"), read_array(tmp_path / f"local_{name}.tif"))


def test_a_remote_layer_in_the_project_clips_as_the_dialog_runs_it(provider, served, tmp_path):
    server, a, b = served
    layers = [QgsRasterLayer(f"/vsicurl/{server.url}/{name}.tif", name, "gdal") for name in ("a", "b")]
    assert all(layer.isValid() for layer in layers)
    QgsProject.instance().addMapLayers(layers)
    try:
        server.reset()
        processing.run(
            "overlapclip:clipstack",
            {"INPUTS": [layer.id() for layer in layers], "AREA": 1, "OUTPUT_FOLDER": str(tmp_path / "out")},
        )
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in layers])
    assert listing(tmp_path / "out") == ["a_common.tif", "b_common.tif"]
    assert server.served < 0.5 * (os.path.getsize(a) + os.path.getsize(b))


def test_a_vrt_output_of_remote_inputs_points_at_the_inputs(served, tmp_path):
    server, a, b = served
    clip_served(server, ("a.tif", "b.tif"), (tmp_path / "a.vrt", tmp_path / "b.vrt"), grid="own", area="valid")
    clip_pair(a, b, str(tmp_path / "local_a.tif"), str(tmp_path / "local_b.tif"), grid="own", area="valid")
    for name in ("a", "b"):
        np.testing.assert_array_equal(read_array(tmp_path / f"{name}.vrt"), read_array(tmp_path / f"local_{name}.tif"))
    assert leftovers(tmp_path) == []


def test_a_failed_run_leaves_no_local_copy_even_while_its_error_is_kept(served, tmp_path):
    from overlap_clip_plugin.core import NoValidDataError

    server, _, _ = served
    # A raster whose every pixel is nodata: the valid data cannot meet.
    make_raster(
        tmp_path / "bucket" / "empty.tif",
        (510243.3, 10.0, 0.0, 4989756.7, 0.0, -10.0),
        300,
        300,
        nodata=0,
        data=np.zeros((300, 300)),
    )
    outputs = (tmp_path / "x.tif", tmp_path / "y.tif")
    with pytest.raises(NoValidDataError, match="'empty.tif' has no valid data") as raised:
        clip_served(server, ("a.tif", "empty.tif"), outputs, grid="own", area="valid")
    # The error is still held, with its traceback and the run's frames; yet nothing is left behind: no
    # output and no hidden local copy of an input, neither beside the outputs nor among the inputs.
    assert raised.value.__traceback__ is not None
    assert listing(tmp_path) == ["bucket"]
    assert listing(tmp_path / "bucket") == ["a.tif", "b.tif", "empty.tif"]


def test_a_bad_option_beside_a_remote_input_is_named(provider, served, tmp_path):
    from qgis.core import QgsProcessingException

    server, _, _ = served
    with pytest.raises(QgsProcessingException, match="Incorrect parameter value for Output grid"):
        processing.run(
            "overlapclip:clippair",
            {
                "INPUT_A": f"/vsicurl/{server.url}/a.tif",
                "INPUT_B": f"/vsicurl/{server.url}/b.tif",
                "GRID": 9,
                "OUTPUT_A": str(tmp_path / "x.tif"),
                "OUTPUT_B": str(tmp_path / "y.tif"),
            },
        )


def test_why_a_remote_input_cannot_be_read_is_said_in_gdals_words(served, tmp_path, monkeypatch):
    server, a, _ = served
    for name in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws/credentials
    # GDAL's words: the start of its message, and the settings it names (its sentences about credentials
    # differ between versions: GDAL 3.6 names both settings in one, 3.13 says "No valid AWS credentials found").
    reasons = {
        f"/vsicurl/{server.url}/missing.tif": ("HTTP response code: 404", ()),
        # curl's own words differ between versions after this ("port 9", ":9 after 0 ms").
        "/vsicurl/http://127.0.0.1:9/a.tif": ("CURL error: Failed to connect to 127.0.0.1", ()),
        "/vsis3/overlapclip-no-such-bucket/a.tif": ("", ("AWS_SECRET_ACCESS_KEY", "AWS_NO_SIGN_REQUEST")),
    }
    for path, (start, named) in reasons.items():
        with pytest.raises(RasterOpenError) as raised:
            clip_pair(path, a, str(tmp_path / "a.tif"), str(tmp_path / "b.tif"))
        said = str(raised.value)
        assert said.startswith(f"GDAL cannot read '{path}': {start}"), said
        assert all(setting in said for setting in named), said
        assert "not in any raster format" not in said, said
    assert not (tmp_path / "a.tif").exists() and leftovers(tmp_path) == []
