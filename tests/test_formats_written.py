"""Formats that GDAL writes but not into its memory files (netCDF, PCRaster) and one that writes a grid
of its own (MBTiles): written by the core and by qgis_process as gdal_translate writes the same window,
checked beside the output, with nothing left there."""

import numpy as np
import pytest
from commands import clippair
from conftest import QGIS_PROCESS
from files import leftovers
from osgeo import gdal
from rasters import A_TRANSFORM, make_raster

from overlap_clip_plugin.core import clip_pair

#: B lies 30 columns east and 10 rows south of A, on A's lattice: both outputs are windows of their inputs.
B_TRANSFORM = (500300.0, 10.0, 0.0, 4999900.0, 0.0, -10.0)
#: The common area's window in A and in B.
WINDOWS = {"a": [30, 10, 70, 70], "b": [0, 0, 70, 70]}


def driver_or_skip(name):
    if gdal.GetDriverByName(name) is None:
        pytest.skip(f"this GDAL has no {name} driver")


def pair(folder, epsg=32633, bands=1, dtype=gdal.GDT_Float32):
    values = np.random.default_rng(5).integers(1, 200, (bands, 80, 100))
    a = make_raster(folder / "a.tif", A_TRANSFORM, 100, 80, epsg=epsg, bands=bands, dtype=dtype, data=values)
    b = make_raster(folder / "b.tif", B_TRANSFORM, 100, 80, epsg=epsg, bands=bands, dtype=dtype, data=values[:, ::-1])
    return a, b


def translated(source, window, target):
    """gdal_translate -srcwin of ``source`` into ``target`` (the format by its extension), read back."""
    gdal.Translate(target, source, srcWin=window)
    return gdal.Open(target)


def same_as_gdal_translate(ours, reference, grid=True):
    """The output ``ours`` has gdal_translate's bands, pixels and (with ``grid``) geotransform."""
    ours = gdal.Open(str(ours))
    assert ours.RasterCount == reference.RasterCount
    if grid:
        assert ours.GetGeoTransform() == pytest.approx(reference.GetGeoTransform(), abs=1e-9)
    for index in range(1, ours.RasterCount + 1):
        np.testing.assert_array_equal(
            ours.GetRasterBand(index).ReadAsArray(), reference.GetRasterBand(index).ReadAsArray()
        )


@pytest.mark.parametrize(("extension", "driver"), [(".nc", "netCDF"), (".map", "PCRaster")])
def test_a_format_gdal_cannot_write_into_memory_is_written(tmp_path, extension, driver):
    driver_or_skip(driver)
    a, b = pair(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    plan = clip_pair(a, b, str(out / f"a{extension}"), str(out / f"b{extension}"))
    assert [output.window is not None for output in plan.outputs] == [True, True]
    assert plan.warnings == ()
    for name, source in (("a", a), ("b", b)):
        reference = translated(source, WINDOWS[name], str(tmp_path / f"reference_{name}{extension}"))
        same_as_gdal_translate(out / f"{name}{extension}", reference)
    assert gdal.Open(str(out / f"a{extension}")).GetGeoTransform()[0] == pytest.approx(500300.0)
    assert leftovers(out) == []


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_qgis_process_writes_netcdf(tmp_path, profile):
    driver_or_skip("netCDF")
    a, b = pair(tmp_path)
    run = clippair(profile, INPUT_A=a, INPUT_B=b, OUTPUT_A=tmp_path / "a.nc", OUTPUT_B=tmp_path / "b.nc")
    assert run.returncode == 0, run.stdout + run.stderr
    for name, source in (("a", a), ("b", b)):
        same_as_gdal_translate(
            tmp_path / f"{name}.nc", translated(source, WINDOWS[name], str(tmp_path / f"r{name}.nc"))
        )
    assert leftovers(tmp_path) == []


def test_mbtiles_is_written_as_gdal_translate_writes_it_and_said_to_leave_the_grid(tmp_path):
    driver_or_skip("MBTiles")
    a, b = pair(tmp_path, epsg=3857, bands=3, dtype=gdal.GDT_Byte)
    out = tmp_path / "out"
    out.mkdir()
    plan = clip_pair(a, b, str(out / "a.mbtiles"), str(out / "b.mbtiles"))
    assert [str(note) for note in plan.warnings] == [
        f"GDAL's MBTiles driver writes '{out / name}' on a grid and with bands of its own (as gdal_translate does): "
        "that output is not on the common grid."
        for name in ("a.mbtiles", "b.mbtiles")
    ]
    for name, source in (("a", a), ("b", b)):
        reference = translated(source, WINDOWS[name], str(tmp_path / f"reference_{name}.mbtiles"))
        same_as_gdal_translate(out / f"{name}.mbtiles", reference)
    assert leftovers(out) == []
