"""The GDAL core on real files: geometry cases, grids, values, types, nodata, formats, errors."""

import os
import subprocess
import sys

import numpy as np
import pytest
from files import listing
from osgeo import gdal, osr
from rasters import (
    A_TRANSFORM,
    ALL_TYPES,
    UTM33,
    assert_copied_from,
    assert_same_grid,
    crs_wkt,
    grid_of,
    make_raster,
    read_array,
)

from overlap_clip_plugin.core import (
    Bounds,
    CancelledError,
    CrsMismatchError,
    NoOverlapError,
    OutputFormatError,
    OutputPathError,
    RasterOpenError,
    UnsupportedGeoreferenceError,
    clip_pair,
    plan_clip,
)


def a_raster(folder, **kwargs):
    return make_raster(folder / "a.tif", A_TRANSFORM, 100, 80, **kwargs)


def outputs(folder):
    return str(folder / "out_a.tif"), str(folder / "out_b.tif")


# Same-CRS cases: B's geotransform and size, and the expected output grid on A's lattice
# (geotransform, width, height), and whether B lies on A's lattice (copied, not resampled).
SAME_CRS_CASES = {
    "contained": ((500300.0, 10.0, 0.0, 4999600.0, 0.0, -10.0), 20, 10, (500300.0, 4999600.0, 20, 10), True),
    "partial": ((500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80, (500600.0, 4999500.0, 40, 30), True),
    "integer offset": ((499700.0, 10.0, 0.0, 5000150.0, 0.0, -10.0), 50, 40, (500000.0, 5000000.0, 20, 25), True),
    "contains A": ((499000.0, 10.0, 0.0, 5001000.0, 0.0, -10.0), 300, 300, (500000.0, 5000000.0, 100, 80), True),
    # B starts 3.3 m east and 3.3 m south of a pixel boundary: centres 5 m in are inside.
    "sub-pixel offset": ((500033.3, 10.0, 0.0, 4999996.7, 0.0, -10.0), 50, 40, (500030.0, 5000000.0, 50, 40), False),
    # B starts 6.7 m in: the first centres (5 m in) are outside, so the window starts one pixel later.
    "sub-pixel offset past centre": (
        (500036.7, 10.0, 0.0, 4999993.3, 0.0, -10.0),
        50,
        40,
        (500040.0, 4999990.0, 50, 40),
        False,
    ),
    "other resolution": ((500200.0, 20.0, 0.0, 4999800.0, 0.0, -20.0), 50, 50, (500200.0, 4999800.0, 80, 60), False),
}


@pytest.mark.parametrize("bands", [1, 3])
@pytest.mark.parametrize("case", sorted(SAME_CRS_CASES))
def test_same_crs_cases_on_a_grid(tmp_path, case, bands):
    b_transform, b_width, b_height, (x0, y0, width, height), b_copied = SAME_CRS_CASES[case]
    a = a_raster(tmp_path, bands=bands, nodata=-1)
    b = make_raster(tmp_path / "b.tif", b_transform, b_width, b_height, bands=bands, nodata=-1)
    out_a, out_b = outputs(tmp_path)

    plan = clip_pair(a, b, out_a, out_b, grid="a")

    assert grid_of(out_a) == ((x0, 10.0, 0.0, y0, 0.0, -10.0), width, height)
    assert_same_grid(out_a, out_b)
    assert [output.copied for output in plan.outputs] == [True, b_copied]
    assert_copied_from(out_a, a)
    if b_copied:
        assert_copied_from(out_b, b)
    assert read_array(out_b).shape == (bands, height, width)


@pytest.mark.parametrize("case", sorted(SAME_CRS_CASES))
def test_same_crs_cases_on_b_grid_and_own_grids(tmp_path, case):
    b_transform, b_width, b_height, _, _ = SAME_CRS_CASES[case]
    a = a_raster(tmp_path, nodata=-1)
    b = make_raster(tmp_path / "b.tif", b_transform, b_width, b_height, nodata=-1)
    out_a, out_b = outputs(tmp_path)

    plan = clip_pair(a, b, out_a, out_b, grid="b")
    assert_same_grid(out_a, out_b)
    assert plan.outputs[1].copied
    assert_copied_from(out_b, b)
    assert grid_of(out_b)[0][1] == b_transform[1]

    own_a, own_b = str(tmp_path / "own_a.tif"), str(tmp_path / "own_b.tif")
    plan = clip_pair(a, b, own_a, own_b, grid="own")
    assert all(output.copied for output in plan.outputs)
    assert_copied_from(own_a, a)
    assert_copied_from(own_b, b)
    # Each output keeps its own pixel size and covers the common area by the pixel rule.
    assert grid_of(own_a)[0][1] == 10.0 and grid_of(own_b)[0][1] == b_transform[1]


def test_other_resolution_resampled_values_are_nearest_source_pixels(tmp_path):
    # B: 20 m pixels on A's lattice; on A's grid each B pixel becomes 2 x 2 pixels.
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", (500200.0, 20.0, 0.0, 4999800.0, 0.0, -20.0), 50, 50)
    out_a, out_b = outputs(tmp_path)
    clip_pair(a, b, out_a, out_b)
    b_values = read_array(b)[0]
    expected = np.repeat(np.repeat(b_values[:30, :40], 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(read_array(out_b)[0], expected)


@pytest.mark.parametrize(
    ("b_transform", "width", "height"),
    [
        ((502000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10),  # disjoint
        ((501000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10),  # touching along the east edge
        ((501000.0, 10.0, 0.0, 4999200.0, 0.0, -10.0), 10, 10),  # touching at the south-east corner
    ],
    ids=["disjoint", "touching edge", "touching corner"],
)
def test_no_overlap_is_a_clear_error_and_writes_nothing(tmp_path, b_transform, width, height):
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", b_transform, width, height)
    before = listing(tmp_path)
    with pytest.raises(NoOverlapError) as raised:
        clip_pair(a, b, *outputs(tmp_path))
    message = str(raised.value)
    assert "do not overlap" in message
    assert "[500000, 4999200 : 501000, 5000000]" in message
    assert f"[{b_transform[0]:.10g}," in message
    assert message.count("EPSG:32633") == 2
    assert listing(tmp_path) == before


def test_overlap_thinner_than_a_pixel_between_centres_is_refused(tmp_path):
    a = a_raster(tmp_path)
    # B overlaps A by 4 m along x, between the last column's west edge and its centre.
    b = make_raster(tmp_path / "b.tif", (500996.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    with pytest.raises(NoOverlapError, match="thinner than one pixel"):
        clip_pair(a, b, *outputs(tmp_path))
    assert listing(tmp_path) == ["a.tif", "b.tif"]


def utm_pixel_centres_in(path_utm_output, epsg):
    """Map coordinates in ``epsg`` of every pixel centre of an output on a UTM grid."""
    (x0, dx, _, y0, _, dy), width, height = grid_of(path_utm_output)
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    points = np.column_stack([(x0 + cols * dx).ravel(), (y0 + rows * dy).ravel()])
    source, target = osr.SpatialReference(), osr.SpatialReference()
    source.ImportFromEPSG(UTM33)
    target.ImportFromEPSG(epsg)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    moved = np.array(osr.CoordinateTransformation(source, target).TransformPoints(points.tolist()))
    return moved[:, 0].reshape(height, width), moved[:, 1].reshape(height, width)


# B in another CRS: a box of lon/lat or web-mercator coordinates over the middle-east of A.
OTHER_CRS_CASES = {
    4326: ((15.0045, 0.0001, 0.0, 45.1505, 0.0, -0.0001), 100, 60),
    3857: ((1670345.0, 15.0, 0.0, 5645600.0, 0.0, -15.0), 60, 50),
}


@pytest.mark.parametrize("epsg", sorted(OTHER_CRS_CASES))
def test_other_crs_output_is_tight_around_the_transformed_footprint(tmp_path, epsg):
    b_transform, b_width, b_height = OTHER_CRS_CASES[epsg]
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", b_transform, b_width, b_height, epsg=epsg, nodata=-1)
    out_a, out_b = outputs(tmp_path)

    plan = clip_pair(a, b, out_a, out_b, grid="a")

    assert_same_grid(out_a, out_b)
    assert [output.copied for output in plan.outputs] == [True, False]
    assert_copied_from(out_a, a)
    assert osr.SpatialReference(gdal.Open(out_b).GetProjection()).IsSame(osr.SpatialReference(crs_wkt(UTM33)))
    # Pixels whose centres fall inside B's footprint: B's output has data exactly there (nearest
    # neighbour), and each edge row and column of the output holds at least one of them (tight box).
    xs, ys = utm_pixel_centres_in(out_a, epsg)
    x0, dx, _, y0, _, dy = b_transform
    x1, y1 = x0 + b_width * dx, y0 + b_height * dy
    inside = (xs > x0) & (xs < x1) & (ys > y1) & (ys < y0)
    valid = read_array(out_b)[0] != -1
    assert valid[inside].all()
    assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()


@pytest.mark.parametrize("epsg", sorted(OTHER_CRS_CASES))
def test_other_crs_on_b_grid_and_own_grids(tmp_path, epsg):
    b_transform, b_width, b_height = OTHER_CRS_CASES[epsg]
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", b_transform, b_width, b_height, epsg=epsg)
    out_a, out_b = outputs(tmp_path)
    plan = clip_pair(a, b, out_a, out_b, grid="b")
    assert_same_grid(out_a, out_b)
    assert [output.copied for output in plan.outputs] == [False, True]
    assert_copied_from(out_b, b)

    own_a, own_b = str(tmp_path / "own_a.tif"), str(tmp_path / "own_b.tif")
    clip_pair(a, b, own_a, own_b, grid="own")
    assert_copied_from(own_a, a)
    assert_copied_from(own_b, b)
    assert osr.SpatialReference(gdal.Open(own_b).GetProjection()).IsSame(osr.SpatialReference(crs_wkt(epsg)))


def test_rasters_without_crs_share_one_coordinate_space(tmp_path):
    a = a_raster(tmp_path, epsg=None)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80, epsg=None)
    out_a, out_b = outputs(tmp_path)
    clip_pair(a, b, out_a, out_b)
    assert_copied_from(out_a, a)
    assert_copied_from(out_b, b)
    assert gdal.Open(out_a).GetProjection() == ""


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_every_data_type_is_kept_copied_and_resampled(tmp_path, type_name):
    dtype = gdal.GetDataTypeByName(type_name)
    a = a_raster(tmp_path, dtype=dtype, bands=2)
    b_on_lattice = make_raster(
        tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80, dtype=dtype, bands=2
    )
    b_off_lattice = make_raster(
        tmp_path / "c.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80, dtype=dtype, bands=2
    )
    out_a, out_b = outputs(tmp_path)
    clip_pair(a, b_on_lattice, out_a, out_b)
    assert_copied_from(out_a, a)
    assert_copied_from(out_b, b_on_lattice)

    out_c = str(tmp_path / "out_c.tif")
    plan = clip_pair(a, b_off_lattice, str(tmp_path / "out_a2.tif"), out_c)
    assert not plan.outputs[1].copied
    ds_c = gdal.Open(out_c)
    assert ds_c.GetRasterBand(2).DataType == dtype
    # Nearest neighbour on a third-of-a-pixel shift: pixel (r, c) takes B's pixel (r, c).
    expected = read_array(b_off_lattice)[:, : 80 - 50, : 100 - 60]
    np.testing.assert_array_equal(read_array(out_c), expected)


@pytest.mark.parametrize("nodata", [-9999.0, float("nan")])
def test_nodata_is_kept_copied_and_resampled(tmp_path, nodata):
    data = np.arange(100 * 80, dtype=np.float32).reshape(80, 100)
    data[55, 65] = nodata  # pixel (5, 5) of the output
    a = a_raster(tmp_path, dtype=gdal.GDT_Float32, nodata=nodata, data=data)
    b_data = np.arange(100 * 80, dtype=np.float32).reshape(80, 100) + 0.5
    b_data[5, 5] = -5.0  # pixel (5, 5) of the output too
    b = make_raster(
        tmp_path / "b.tif",
        (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0),
        100,
        80,
        dtype=gdal.GDT_Float32,
        nodata=-5.0,
        data=b_data,
    )
    out_a, out_b = outputs(tmp_path)
    clip_pair(a, b, out_a, out_b)
    ds_a, ds_b = gdal.Open(out_a), gdal.Open(out_b)
    np.testing.assert_equal(ds_a.GetRasterBand(1).GetNoDataValue(), nodata)
    assert ds_b.GetRasterBand(1).GetNoDataValue() == -5.0
    # Whole arrays, nodata pixels (NaN too) in place: A's output is the block of A under the common area
    # (columns 60..99, rows 50..79); nearest neighbour on a third-of-a-pixel shift gives B's output pixel
    # (r, c) B's pixel (r, c).
    np.testing.assert_array_equal(read_array(out_a), data[None, 50:80, 60:100])
    np.testing.assert_array_equal(read_array(out_b), b_data[None, :30, :40])


@pytest.mark.parametrize("b_origin", [(500600.0, 4999500.0), (500603.3, 4999496.7)], ids=["copied", "resampled"])
def test_band_properties_and_metadata_are_kept(tmp_path, b_origin):
    a = a_raster(tmp_path, dtype=gdal.GDT_Byte, data=np.full((80, 100), 3, dtype=np.uint8))
    path_b = make_raster(
        tmp_path / "b.tif",
        (b_origin[0], 10.0, 0.0, b_origin[1], 0.0, -10.0),
        100,
        80,
        dtype=gdal.GDT_Byte,
        data=np.full((80, 100), 2, dtype=np.uint8),
    )
    ds = gdal.Open(path_b, gdal.GA_Update)
    ds.SetMetadata({"SENSOR": "test sensor", "DATE": "2026-05-01"})
    band = ds.GetRasterBand(1)
    table = gdal.ColorTable()
    table.SetColorEntry(2, (10, 20, 30, 255))
    band.SetColorTable(table)
    band.SetColorInterpretation(gdal.GCI_PaletteIndex)
    band.SetDescription("land cover")
    band.SetScale(0.5)
    band.SetOffset(-1.0)
    band.SetMetadata({"UNITS": "class"})
    ds = None

    out_a, out_b = outputs(tmp_path)
    clip_pair(a, path_b, out_a, out_b)
    out = gdal.Open(out_b)
    band = out.GetRasterBand(1)
    assert out.GetMetadata()["SENSOR"] == "test sensor"
    assert out.GetMetadata()["DATE"] == "2026-05-01"
    assert band.GetColorInterpretation() == gdal.GCI_PaletteIndex
    assert band.GetColorTable().GetColorEntry(2) == (10, 20, 30, 255)
    assert band.GetDescription() == "land cover"
    assert (band.GetScale(), band.GetOffset()) == (0.5, -1.0)
    assert band.GetMetadata()["UNITS"] == "class"
    np.testing.assert_array_equal(band.ReadAsArray(), 2)


@pytest.mark.parametrize(("extension", "driver"), [(".tif", "GTiff"), (".vrt", "VRT"), (".img", "HFA")])
def test_output_format_follows_the_extension(tmp_path, extension, driver):
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80)
    out_a, out_b = str(tmp_path / f"out_a{extension}"), str(tmp_path / f"out_b{extension}")
    clip_pair(a, b, out_a, out_b)
    assert gdal.Open(out_a).GetDriver().ShortName == driver
    assert gdal.Open(out_b).GetDriver().ShortName == driver
    assert_copied_from(out_a, a)
    assert_same_grid(out_a, out_b)


def test_creation_options_pass_through(tmp_path):
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    out_a, out_b = outputs(tmp_path)
    clip_pair(a, b, out_a, out_b, creation_options=["COMPRESS=DEFLATE", "TILED=YES"])
    for path in (out_a, out_b):
        ds = gdal.Open(path)
        assert ds.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"
        assert ds.GetRasterBand(1).GetBlockSize() == [256, 256]
    assert_copied_from(out_b, b)


def test_cancel_stops_the_write_and_leaves_nothing(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 2000, 2000, dtype=gdal.GDT_Float32)
    b = make_raster(tmp_path / "b.tif", (500003.3, 10.0, 0.0, 4999996.7, 0.0, -10.0), 2000, 2000)
    # A (copied) is the first half of the progress, B (warped) the second.
    for stop_at in (0.3, 0.7):
        seen = []

        def progress(fraction, stop_at=stop_at, seen=seen):
            seen.append(fraction)
            return fraction < stop_at

        with pytest.raises(CancelledError, match="Cancelled"):
            clip_pair(a, b, *outputs(tmp_path), progress=progress)
        assert listing(tmp_path) == ["a.tif", "b.tif"]
        if stop_at < 0.5:
            # Stopped within A's share: B is never started.
            assert max(seen) <= 0.5
        else:
            # GDAL's warper stops at the end of its chunk: within B's share, before the outputs are moved in.
            assert 0.5 <= max(seen) <= 1.0


def test_progress_covers_both_outputs(tmp_path):
    # Large enough for many of GDAL's blocks: GDAL 3.13 reports a warp's progress block by block.
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 2000, 1600)
    b = make_raster(tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 2000, 1600)
    seen = []
    plan = clip_pair(a, b, *outputs(tmp_path), progress=seen.append)
    assert plan.outputs[0].copied and not plan.outputs[1].copied
    assert seen == sorted(seen)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    # The first output (a copy) ends at one half; the second one (a warp) reports as it goes.
    assert 0.5 in seen and any(0.5 < f < 1.0 for f in seen) and any(0.0 < f < 0.5 for f in seen)


def test_unreadable_inputs_are_clear_errors(tmp_path):
    a = a_raster(tmp_path)
    text = tmp_path / "notes.tif"
    text.write_text("not a raster")
    with pytest.raises(RasterOpenError, match="does not exist"):
        clip_pair(str(tmp_path / "missing.tif"), a, *outputs(tmp_path))
    with pytest.raises(RasterOpenError, match="GDAL cannot open"):
        clip_pair(str(text), a, *outputs(tmp_path))
    assert listing(tmp_path) == ["a.tif", "notes.tif"]


def test_crs_on_one_side_only_is_refused(tmp_path):
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, epsg=None)
    with pytest.raises(CrsMismatchError, match="has no coordinate reference system but .* has EPSG:32633"):
        clip_pair(a, b, *outputs(tmp_path))
    assert listing(tmp_path) == ["a.tif", "b.tif"]


def test_raster_without_any_georeference_is_refused(tmp_path):
    a = a_raster(tmp_path)
    bare = tmp_path / "bare.tif"
    gdal.GetDriverByName("GTiff").Create(str(bare), 10, 10, 1, gdal.GDT_Byte)
    with pytest.raises(UnsupportedGeoreferenceError, match="has no georeference at all"):
        clip_pair(a, str(bare), *outputs(tmp_path))


def test_outputs_that_would_overwrite_an_input_or_each_other_are_refused(tmp_path):
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    original = read_array(a)
    with pytest.raises(OutputPathError, match="is the input"):
        clip_pair(a, b, str(tmp_path / "out.tif"), str(tmp_path / "." / "a.tif"))
    with pytest.raises(OutputPathError, match="same path"):
        clip_pair(a, b, str(tmp_path / "out.tif"), str(tmp_path / "out.tif"))
    with pytest.raises(OutputPathError, match="does not exist"):
        clip_pair(a, b, str(tmp_path / "no" / "out.tif"), str(tmp_path / "out.tif"))
    with pytest.raises(OutputFormatError, match="No GDAL raster driver"):
        clip_pair(a, b, str(tmp_path / "out.unknownext"), str(tmp_path / "out.tif"))
    assert listing(tmp_path) == ["a.tif", "b.tif"]
    np.testing.assert_array_equal(read_array(a), original)


def test_plan_writes_nothing_and_describes_the_outputs(tmp_path):
    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80)
    plan = plan_clip([a, b], list(outputs(tmp_path)), reference=0)
    assert listing(tmp_path) == ["a.tif", "b.tif"]
    first, second = plan.outputs
    assert first.grid == second.grid
    assert first.driver == "GTiff"
    assert str(first.window) == "40 x 30 pixels from column 60, row 50"
    assert second.window is None


def test_gdal_cache_is_capped_while_the_core_works_and_then_restored(tmp_path):
    from overlap_clip_plugin.core.gdalenv import CACHE_BYTES

    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80)
    before = gdal.GetCacheMax()
    gdal.SetCacheMax(4 * CACHE_BYTES)
    try:
        seen = []
        clip_pair(a, b, *outputs(tmp_path), progress=lambda fraction: seen.append(gdal.GetCacheMax()))
        assert seen and set(seen) == {CACHE_BYTES}
        assert gdal.GetCacheMax() == 4 * CACHE_BYTES
    finally:
        gdal.SetCacheMax(before)


def test_a_cache_change_made_by_someone_else_during_a_run_is_kept(tmp_path):
    from overlap_clip_plugin.core.gdalenv import CACHE_BYTES

    a = a_raster(tmp_path)
    b = make_raster(tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80)
    before = gdal.GetCacheMax()
    gdal.SetCacheMax(4 * CACHE_BYTES)

    def someone_else(fraction):
        # Another plugin in the same QGIS sets its own cache size while the clip runs.
        if fraction > 0.5:
            gdal.SetCacheMax(3 * CACHE_BYTES)
        return True

    try:
        clip_pair(a, b, *outputs(tmp_path), progress=someone_else)
        assert gdal.GetCacheMax() == 3 * CACHE_BYTES
    finally:
        gdal.SetCacheMax(before)


def test_global_raster_against_a_utm_scene(tmp_path):
    # A global DEM in EPSG:4326 cannot be projected whole into one UTM zone; the scene's area can.
    scene = make_raster(tmp_path / "scene.tif", (400000.0, 100.0, 0.0, 5000000.0, 0.0, -100.0), 100, 100)
    dem = make_raster(tmp_path / "dem.tif", (-180.0, 0.5, 0.0, 90.0, 0.0, -0.5), 720, 360, epsg=4326, nodata=-1)
    out_a, out_b = outputs(tmp_path)
    plan = clip_pair(scene, dem, out_a, out_b)
    assert grid_of(out_a) == ((400000.0, 100.0, 0.0, 5000000.0, 0.0, -100.0), 100, 100)
    assert_copied_from(out_a, scene)
    assert not plan.outputs[1].copied
    assert (read_array(out_b) != -1).all()


def pacific_mercator(folder):
    """A raster in EPSG:3832 (Pacific-centred Mercator) from 165°E to 165°W, across the antimeridian."""
    geographic, pacific = osr.SpatialReference(), osr.SpatialReference()
    geographic.ImportFromEPSG(4326)
    pacific.ImportFromEPSG(3832)
    for srs in (geographic, pacific):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_pacific = osr.CoordinateTransformation(geographic, pacific)
    x0, y0, _ = to_pacific.TransformPoint(165.0, 10.0)
    x1, y1, _ = to_pacific.TransformPoint(-165.0, -10.0)
    return make_raster(
        folder / "pacific.tif", (x0, (x1 - x0) / 300, 0.0, y0, 0.0, -(y0 - y1) / 200), 300, 200, epsg=3832
    )


def test_footprint_across_the_antimeridian(tmp_path):
    pacific = pacific_mercator(tmp_path)
    east = make_raster(tmp_path / "east.tif", (170.0, 0.1, 0.0, 10.0, 0.0, -0.1), 100, 200, epsg=4326)
    plan = clip_pair(east, pacific, *outputs(tmp_path))
    assert plan.outputs[0].grid.bounds == Bounds(170.0, -10.0, 180.0, 10.0)
    far = make_raster(tmp_path / "far.tif", (0.0, 0.1, 0.0, 10.0, 0.0, -0.1), 100, 200, epsg=4326)
    with pytest.raises(NoOverlapError, match="do not overlap"):
        clip_pair(far, pacific, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"))


def test_crs_without_a_transformation_is_a_clear_error(tmp_path):
    a = a_raster(tmp_path)
    local = make_raster(tmp_path / "local.tif", A_TRANSFORM, 100, 80, epsg=None)
    ds = gdal.Open(local, gdal.GA_Update)
    ds.SetProjection('LOCAL_CS["site grid",UNIT["metre",1]]')
    ds = None
    with pytest.raises(CrsMismatchError, match="No coordinate transformation leads from"):
        clip_pair(a, local, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"))


def test_polar_raster_against_a_global_one_keeps_the_pole(tmp_path):
    world = make_raster(tmp_path / "world.tif", (-180.0, 1.0, 0.0, 90.0, 0.0, -1.0), 360, 180, epsg=4326)
    polar = make_raster(tmp_path / "polar.tif", (-2e6, 10000.0, 0.0, 2e6, 0.0, -10000.0), 400, 400, epsg=3031)
    plan = clip_pair(world, polar, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"))
    bounds = plan.outputs[0].grid.bounds
    # The polar square reaches from the South Pole up to about 64.4°S at its corners, on the meridians 45°
    # and 135° east and west; half a degree beside them it stops south of 64.5°S, so no pixel centre of the
    # row from 64°S to 65°S lies inside it.
    assert (bounds.xmin, bounds.ymin, bounds.xmax) == (-180.0, -90.0, 180.0)
    assert bounds.ymax == -65.0
    own = clip_pair(world, polar, str(tmp_path / "p.tif"), str(tmp_path / "q.tif"), grid="b")
    assert own.outputs[1].grid.bounds == Bounds(-2e6, -2e6, 2e6, 2e6)


GDAL_MODE_RUN = """
import sys
sys.path.insert(0, sys.argv[1])
from osgeo import gdal
mode = sys.argv[2]
if mode == "on":
    gdal.UseExceptions()
elif mode == "off":
    gdal.DontUseExceptions()
from overlap_clip_plugin.core import RasterOpenError, clip_pair
before = gdal.GetUseExceptions()
folder = sys.argv[3]
plan = clip_pair(folder + "/a.tif", folder + "/b.tif", folder + "/out_a.tif", folder + "/out_b.tif", mask_common=True)
try:
    clip_pair(folder + "/missing.tif", folder + "/b.tif", folder + "/x.tif", folder + "/y.tif")
except RasterOpenError as err:
    print("error:", err)
assert gdal.GetUseExceptions() == before, (before, gdal.GetUseExceptions())
print("mode kept:", before, plan.outputs[0].grid.width)
"""


@pytest.mark.parametrize("mode", ["unset", "on", "off"])
def test_the_core_keeps_the_callers_gdal_exception_mode_and_warns_nothing(tmp_path, mode):
    """Plain Python, no QGIS; any FutureWarning (GDAL 3.9+: no mode chosen) is an error here."""
    a_raster(tmp_path)
    make_raster(tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80, nodata=-1)
    script = tmp_path / "run.py"
    script.write_text(GDAL_MODE_RUN, encoding="utf-8")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run(
        [sys.executable, "-W", "error::FutureWarning", str(script), root, mode, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "error: The raster '" in run.stdout and "missing.tif' does not exist." in run.stdout
    assert f"mode kept: {1 if mode == 'on' else 0} 40" in run.stdout
    assert "Warning" not in run.stderr
