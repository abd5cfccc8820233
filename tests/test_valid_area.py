"""The valid-data common area, the common nodata mask and the overlap summary, on real files."""

import numpy as np
import pytest
from commands import clippair
from files import listing
from osgeo import gdal, ogr
from rasters import A_TRANSFORM, ALL_TYPES, UTM33, assert_same_grid, crs_wkt, grid_of, make_raster, read_array

from overlap_clip_plugin.core import (
    NoValidDataError,
    UnsupportedOptionError,
    clip_pair,
    overlap_summary,
    plan_clip,
    write_plan,
)
from overlap_clip_plugin.core.validity import nodata_candidates

NODATA = -9999.0


def tilted_scene(folder, name, transform, width, height, centre, half_sizes, angle_degrees, nodata=NODATA):
    """A scene whose valid data is a rotated rectangle inside a nodata collar, like a satellite tile.

    Returns the path and the boolean validity of each pixel (by its centre).
    """
    x0, dx, _, y0, _, dy = transform
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    x, y = x0 + cols * dx, y0 + rows * dy
    angle = np.radians(angle_degrees)
    u = (x - centre[0]) * np.cos(angle) + (y - centre[1]) * np.sin(angle)
    v = -(x - centre[0]) * np.sin(angle) + (y - centre[1]) * np.cos(angle)
    valid = (np.abs(u) <= half_sizes[0]) & (np.abs(v) <= half_sizes[1])
    values = (np.arange(width * height).reshape(height, width) % 5000 + 1).astype(np.float32)
    values[~valid] = nodata
    path = make_raster(folder / name, transform, width, height, dtype=gdal.GDT_Float32, nodata=nodata, data=values)
    return path, valid


@pytest.fixture
def tilted_pair(tmp_path):
    """Two tilted scenes on one 10 m lattice, B shifted 60 columns east and 40 rows south of A."""
    a, valid_a = tilted_scene(tmp_path, "a.tif", A_TRANSFORM, 200, 160, (501000.0, 4999200.0), (850, 600), 12)
    b_transform = (500600.0, 10.0, 0.0, 4999600.0, 0.0, -10.0)
    b, valid_b = tilted_scene(tmp_path, "b.tif", b_transform, 200, 160, (501600.0, 4998800.0), (850, 600), -9)
    return a, valid_a, b, valid_b


def expected_common_window(valid_a, valid_b):
    """Bounding box, on A's grid, of the pixels valid in both (B is 60 columns and 40 rows off A)."""
    both = np.zeros_like(valid_a)
    both[40:160, 60:200] = valid_a[40:160, 60:200] & valid_b[0:120, 0:140]
    rows, cols = np.flatnonzero(both.any(axis=1)), np.flatnonzero(both.any(axis=0))
    return cols[0], rows[0], cols[-1] + 1, rows[-1] + 1, both


def test_valid_area_is_smaller_than_the_extents_and_right_to_the_pixel(tilted_pair, tmp_path):
    a, valid_a, b, valid_b = tilted_pair
    col0, row0, col1, row1, _ = expected_common_window(valid_a, valid_b)
    extents = plan_clip([a, b], [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")], area="extents")
    assert extents.outputs[0].grid.width * extents.outputs[0].grid.height == 140 * 120

    out_a, out_b = str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")
    plan = clip_pair(a, b, out_a, out_b, area="valid")

    assert (col1 - col0) * (row1 - row0) < 140 * 120
    expected_transform = (500000.0 + 10.0 * col0, 10.0, 0.0, 5000000.0 - 10.0 * row0, 0.0, -10.0)
    assert grid_of(out_a) == (expected_transform, col1 - col0, row1 - row0)
    assert_same_grid(out_a, out_b)
    assert all(output.copied for output in plan.outputs)
    np.testing.assert_array_equal(read_array(out_a)[0], read_array(a)[0][row0:row1, col0:col1])
    assert "a strip of rows at a time" in plan.footprint_method


def test_valid_area_across_lattices_uses_nearest_source_pixels(tmp_path):
    a, valid_a = tilted_scene(tmp_path, "a.tif", A_TRANSFORM, 200, 160, (501000.0, 4999200.0), (850, 600), 12)
    # B: 20 m pixels, a third of a pixel off A's lattice.
    b_transform = (500606.7, 20.0, 0.0, 4999593.3, 0.0, -20.0)
    b, valid_b = tilted_scene(tmp_path, "b.tif", b_transform, 100, 80, (501600.0, 4998800.0), (850, 600), -9)
    out_a, out_b = str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")
    clip_pair(a, b, out_a, out_b, area="valid")

    # Each A pixel centre falls in one B pixel; both valid there makes the common area.
    cols, rows = np.meshgrid(np.arange(200) + 0.5, np.arange(160) + 0.5)
    x, y = 500000.0 + 10.0 * cols, 5000000.0 - 10.0 * rows
    b_col = np.floor((x - b_transform[0]) / 20.0).astype(int)
    b_row = np.floor((b_transform[3] - y) / 20.0).astype(int)
    inside = (b_col >= 0) & (b_col < 100) & (b_row >= 0) & (b_row < 80)
    both = valid_a & inside
    both[inside] &= valid_b[b_row[inside], b_col[inside]]
    rows_any, cols_any = np.flatnonzero(both.any(axis=1)), np.flatnonzero(both.any(axis=0))
    expected = (
        (500000.0 + 10.0 * cols_any[0], 10.0, 0.0, 5000000.0 - 10.0 * rows_any[0], 0.0, -10.0),
        cols_any[-1] - cols_any[0] + 1,
        rows_any[-1] - rows_any[0] + 1,
    )
    assert grid_of(out_a) == expected
    assert_same_grid(out_a, out_b)


@pytest.mark.parametrize("grid", ["a", "b"])
def test_mask_common_gives_identical_valid_pixels_and_keeps_values(tilted_pair, tmp_path, grid):
    a, valid_a, b, valid_b = tilted_pair
    out_a, out_b = str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")
    clip_pair(a, b, out_a, out_b, grid=grid, mask_common=True)
    data_a, data_b = read_array(out_a)[0], read_array(out_b)[0]
    mask_a, mask_b = data_a != NODATA, data_b != NODATA
    np.testing.assert_array_equal(mask_a, mask_b)
    # Extents mode: the outputs are the 140 x 120 overlap; valid pixels keep their source values.
    _, _, _, _, both = expected_common_window(valid_a, valid_b)
    np.testing.assert_array_equal(mask_a, both[40:160, 60:200])
    source_a, source_b = read_array(a)[0][40:160, 60:200], read_array(b)[0][0:120, 0:140]
    np.testing.assert_array_equal(data_a[mask_a], source_a[mask_a])
    np.testing.assert_array_equal(data_b[mask_b], source_b[mask_b])


def test_mask_common_picks_a_nodata_value_the_data_never_take(tmp_path):
    # A: UInt16 without nodata, using 0; B: Int16 with nodata on its west half.
    a_values = (np.arange(100 * 80).reshape(80, 100) % 1000).astype(np.uint16)
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_UInt16, data=a_values)
    b_values = np.full((80, 100), 7, dtype=np.int16)
    b_values[:, :50] = -1
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, nodata=-1, data=b_values)
    out_a, out_b = str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")
    plan = clip_pair(a, b, out_a, out_b, mask_common=True)
    assert plan.outputs[0].nodata == (65535.0,)
    ds = gdal.Open(out_a)
    assert ds.GetRasterBand(1).GetNoDataValue() == 65535.0
    data = ds.GetRasterBand(1).ReadAsArray()
    np.testing.assert_array_equal(data[:, :50], 65535)
    np.testing.assert_array_equal(data[:, 50:], a_values[:, 50:])


def test_mask_common_keeps_validity_in_a_mask_band_when_every_value_is_used(tmp_path):
    full = (np.arange(100 * 80).reshape(80, 100) % 256).astype(np.uint8)
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Byte, data=full)
    b_values = np.full((80, 100), 7, dtype=np.int16)
    b_values[:, :30] = -1
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, nodata=-1, data=b_values)
    plan = clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), mask_common=True)
    assert plan.outputs[0].validity == "mask" and plan.outputs[1].validity == "nodata"
    out = gdal.Open(str(tmp_path / "x.tif"))
    band = out.GetRasterBand(1)
    assert band.GetNoDataValue() is None and band.GetMaskFlags() == gdal.GMF_PER_DATASET
    np.testing.assert_array_equal(band.ReadAsArray(), full)  # every value kept
    expected = np.full((80, 100), 255, dtype=np.uint8)
    expected[:, :30] = 0
    np.testing.assert_array_equal(band.GetMaskBand().ReadAsArray(), expected)


def rgba_orthomosaic(folder, name="ortho.tif", transform=A_TRANSFORM):
    """An RGBA image: alpha 0 on its north half (no data there), 255 elsewhere; RGB use all 256 values."""
    rgba = np.empty((4, 80, 100), dtype=np.uint8)
    rgba[:3] = (np.arange(100 * 80).reshape(80, 100) % 256).astype(np.uint8)
    rgba[3] = 255
    rgba[3, :40] = 0
    path = make_raster(folder / name, transform, 100, 80, bands=4, dtype=gdal.GDT_Byte, data=rgba)
    dataset = gdal.Open(path, gdal.GA_Update)
    dataset.GetRasterBand(4).SetColorInterpretation(gdal.GCI_AlphaBand)
    dataset = None
    return path, rgba


def test_mask_common_with_an_rgba_orthomosaic_keeps_its_alpha_band(tmp_path):
    ortho, rgba = rgba_orthomosaic(tmp_path)
    dem_values = np.full((80, 100), 300.0, dtype=np.float32)
    dem_values[:, 70:] = -9999.0
    dem = make_raster(
        tmp_path / "dem.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Float32, nodata=-9999.0, data=dem_values
    )
    plan = clip_pair(ortho, dem, str(tmp_path / "ortho_c.tif"), str(tmp_path / "dem_c.tif"), mask_common=True)
    assert [output.validity for output in plan.outputs] == ["alpha", "nodata"]
    written = read_array(tmp_path / "ortho_c.tif")
    np.testing.assert_array_equal(written[:3], rgba[:3])
    expected_alpha = np.full((80, 100), 255, dtype=np.uint8)
    expected_alpha[:40] = 0
    expected_alpha[:, 70:] = 0
    np.testing.assert_array_equal(written[3], expected_alpha)
    out = gdal.Open(str(tmp_path / "ortho_c.tif"))
    assert out.GetRasterBand(4).GetColorInterpretation() == gdal.GCI_AlphaBand
    dem_out = read_array(tmp_path / "dem_c.tif")[0]
    np.testing.assert_array_equal(dem_out == -9999.0, expected_alpha == 0)


def test_mask_common_with_an_rgba_orthomosaic_through_qgis_process(profile, tmp_path):
    import json

    ortho, _ = rgba_orthomosaic(tmp_path)
    other, _ = rgba_orthomosaic(tmp_path, "other.tif", (500200.0, 10.0, 0.0, 4999900.0, 0.0, -10.0))
    run = clippair(
        profile,
        INPUT_A=ortho,
        INPUT_B=other,
        MASK_COMMON="true",
        OUTPUT_A=tmp_path / "a_c.tif",
        OUTPUT_B=tmp_path / "b_c.tif",
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert json.loads(run.stdout[run.stdout.index("{") :])["results"]["WIDTH"] == 80
    alpha_a, alpha_b = read_array(tmp_path / "a_c.tif")[3], read_array(tmp_path / "b_c.tif")[3]
    np.testing.assert_array_equal(alpha_a, alpha_b)
    assert (alpha_a == 0).any() and (alpha_a == 255).any()


def test_a_per_dataset_mask_survives_copy_resample_and_mask(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    masked = make_raster(tmp_path / "masked.tif", (500003.0, 10.0, 0.0, 4999997.0, 0.0, -10.0), 100, 80)
    dataset = gdal.Open(masked, gdal.GA_Update)
    dataset.CreateMaskBand(gdal.GMF_PER_DATASET)
    hidden = np.full((80, 100), 255, dtype=np.uint8)
    hidden[:, 50:] = 0
    dataset.GetRasterBand(1).GetMaskBand().WriteArray(hidden)
    dataset = None
    for mask_common in (False, True):
        out = str(tmp_path / f"masked_c_{mask_common}.tif")
        # Resampled onto A's grid (0.3 pixel off it): the masked east half must stay masked, not become zeros.
        plan = clip_pair(a, masked, str(tmp_path / f"a_c_{mask_common}.tif"), out, mask_common=mask_common)
        assert not plan.outputs[1].copied and plan.outputs[1].validity == "mask"
        written = gdal.Open(out)
        band = written.GetRasterBand(1)
        assert band.GetMaskFlags() == gdal.GMF_PER_DATASET
        mask = band.GetMaskBand().ReadAsArray()
        assert mask[:, :45].all() and not mask[:, 55:].any()
    # Copied (on A's own lattice), GDAL carries the mask itself.
    own = clip_pair(masked, a, str(tmp_path / "m_own.tif"), str(tmp_path / "a_own.tif"))
    assert own.outputs[0].copied
    copied = gdal.Open(str(tmp_path / "m_own.tif"))
    assert copied.GetRasterBand(1).GetMaskFlags() == gdal.GMF_PER_DATASET


def test_mask_common_on_own_grids_needs_coinciding_grids(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1)
    b = make_raster(tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80, nodata=-1)
    with pytest.raises(UnsupportedOptionError, match="grids that coincide"):
        clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), grid="own", mask_common=True)
    same_lattice = make_raster(tmp_path / "c.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80, nodata=-1)
    clip_pair(a, same_lattice, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), grid="own", mask_common=True)
    assert_same_grid(tmp_path / "x.tif", tmp_path / "y.tif")


def test_mask_common_refuses_vrt_outputs(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1)
    with pytest.raises(UnsupportedOptionError, match=".vrt output"):
        clip_pair(a, a, str(tmp_path / "x.vrt"), str(tmp_path / "y.vrt"), mask_common=True)


def test_mask_common_into_a_format_gdal_can_only_copy_into(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Byte, nodata=0)
    b_values = np.full((80, 100), 9, dtype=np.uint8)
    b_values[:40] = 0
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Byte, nodata=0, data=b_values)
    clip_pair(a, b, str(tmp_path / "x.png"), str(tmp_path / "y.png"), mask_common=True)
    out = read_array(tmp_path / "x.png")[0]
    assert gdal.Open(str(tmp_path / "x.png")).GetDriver().ShortName == "PNG"
    np.testing.assert_array_equal(out[:40], 0)
    np.testing.assert_array_equal(out[40:], read_array(a)[0][40:])
    assert [name for name in listing(tmp_path) if name.endswith(".tif")] == ["a.tif", "b.tif"]


def test_all_nodata_raster_is_a_clear_error(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1)
    empty = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, nodata=-1, data=np.full((80, 100), -1))
    with pytest.raises(NoValidDataError, match="'b.tif' has no valid data"):
        clip_pair(a, empty, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), area="valid")
    assert listing(tmp_path) == ["a.tif", "b.tif"]


def test_valid_data_that_do_not_meet_is_a_clear_error(tmp_path):
    west, east = np.full((80, 100), -1), np.full((80, 100), -1)
    west[:, :40], east[:, 60:] = 1, 1
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1, data=west)
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, nodata=-1, data=east)
    with pytest.raises(NoValidDataError, match="valid data of the rasters do not meet"):
        clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), area="valid")
    assert listing(tmp_path) == ["a.tif", "b.tif"]


def test_alpha_band_and_per_dataset_masks_count_as_invalid(tmp_path):
    # A: RGBA with alpha 0 on its north half; B: a per-dataset mask hiding its east quarter.
    rgba = np.full((4, 80, 100), 100, dtype=np.uint8)
    rgba[3, :40] = 0
    rgba[3, 40:] = 255
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, bands=4, dtype=gdal.GDT_Byte, data=rgba)
    ds = gdal.Open(a, gdal.GA_Update)
    ds.GetRasterBand(4).SetColorInterpretation(gdal.GCI_AlphaBand)
    ds = None
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80)
    ds = gdal.Open(b, gdal.GA_Update)
    ds.CreateMaskBand(gdal.GMF_PER_DATASET)
    mask = np.full((80, 100), 255, dtype=np.uint8)
    mask[:, 75:] = 0
    ds.GetRasterBand(1).GetMaskBand().WriteArray(mask)
    ds = None
    plan = clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), area="valid")
    assert plan.outputs[0].grid.transform == (500000.0, 10.0, 0.0, 4999600.0, 0.0, -10.0)
    assert (plan.outputs[0].grid.width, plan.outputs[0].grid.height) == (75, 40)


def test_overlap_polygon_area_and_percentages(tilted_pair, tmp_path):
    a, valid_a, b, valid_b = tilted_pair
    _, _, _, _, both = expected_common_window(valid_a, valid_b)
    plan = clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), area="valid")
    summary = overlap_summary(plan)
    polygon = ogr.CreateGeometryFromWkt(summary.polygon_wkt)
    pixel_area = 100.0
    # Traced from the pixels themselves: the area is the pixel count times the pixel area.
    assert polygon.GetArea() == pytest.approx(both.sum() * pixel_area)
    assert summary.area == pytest.approx(both.sum() * pixel_area)
    assert summary.percents[0] == pytest.approx(100.0 * both.sum() / valid_a.sum())
    assert summary.percents[1] == pytest.approx(100.0 * both.sum() / valid_b.sum())
    assert (summary.width, summary.height) == (plan.outputs[0].grid.width, plan.outputs[0].grid.height)


def test_overlap_of_the_extents_in_another_crs(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (1670345.0, 15.0, 0.0, 5645600.0, 0.0, -15.0), 60, 50, epsg=3857)
    plan = clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), grid="b")
    summary = overlap_summary(plan)
    # The overlap is the true intersection of the footprints, whatever the grid: the same on A's grid.
    on_a = overlap_summary(clip_pair(a, b, str(tmp_path / "x2.tif"), str(tmp_path / "y2.tif"), grid="a"))
    assert (on_a.area, on_a.area_m2, *on_a.percents) == pytest.approx(
        (summary.area, summary.area_m2, *summary.percents)
    )
    # In A's CRS (UTM) B's 15 m Web Mercator pixels are about 15/1.41 m wide.
    area_on_b = 60 * 50 * 225.0
    assert 0.45 < summary.area / area_on_b * 100.0 / summary.percents[1] < 0.55
    assert summary.percents[0] == pytest.approx(100.0 * summary.area_m2 / (800000.0 / 0.9996**2), rel=2e-4)
    assert ogr.CreateGeometryFromWkt(summary.polygon_wkt).GetArea() == pytest.approx(summary.area)
    assert all(percent <= 100.0 for percent in summary.percents)


@pytest.mark.parametrize("type_name", ALL_TYPES)
def test_every_data_type_is_masked_with_a_nodata_value_of_its_own(tmp_path, type_name):
    """MASK_COMMON on every type GDAL has (Float16 from GDAL 3.11): the chosen nodata, and the values kept."""
    dtype = gdal.GetDataTypeByName(type_name)
    # Values 1..100, which every type holds: the type's lowest value (0 for unsigned ones) is unused.
    a_values = np.stack([1 + np.arange(100 * 80).reshape(80, 100) % 100] * 2).astype(np.float64)
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, dtype=dtype, bands=2, data=a_values)
    b_values = np.full((80, 100), 7, dtype=np.int16)
    b_values[:, :50] = -1
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, nodata=-1, data=b_values)
    out_a, out_b = str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")
    plan = clip_pair(a, b, out_a, out_b, mask_common=True)
    # A declares no nodata and its values never reach its type's lowest value: that one is chosen.
    lowest = nodata_candidates(type_name)[0]
    assert plan.outputs[0].nodata == (lowest, lowest)
    written, source = read_array(out_a), read_array(a)
    ds = gdal.Open(out_a)
    for index in range(2):
        band = ds.GetRasterBand(index + 1)
        assert band.DataType == dtype
        assert band.GetNoDataValue() == lowest
        np.testing.assert_array_equal(written[index][:, 50:], source[index][:, 50:])
        np.testing.assert_array_equal(written[index][:, :50], np.full((80, 50), lowest, dtype=written.dtype))


def test_float16_is_copied_resampled_and_masked(tmp_path):
    if not hasattr(gdal, "GDT_Float16"):
        pytest.skip(f"GDAL {gdal.__version__} has no Float16 type (GDAL 3.11+); the matrix runs this on GDAL 3.13")
    values = (np.arange(100 * 80).reshape(80, 100) / 8.0).astype(np.float16)
    a_values = values.copy()
    a_values[50:55, 60:70] = -1.5  # A's nodata, inside the common area
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Float16, data=a_values, nodata=-1.5)
    shifted = make_raster(
        tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80, dtype=gdal.GDT_Float16, data=values
    )
    out_a, out_b = str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")
    plan = clip_pair(a, shifted, out_a, out_b, mask_common=True)
    assert plan.outputs[0].copied and not plan.outputs[1].copied
    for path in (out_a, out_b):
        assert gdal.Open(path).GetRasterBand(1).DataType == gdal.GDT_Float16
        assert read_array(path).dtype == np.float16
    # A keeps its own nodata; B, which declares none, gets Float16's lowest finite value.
    assert plan.outputs[0].nodata == (-1.5,)
    assert plan.outputs[1].nodata == (float(np.finfo(np.float16).min),)
    np.testing.assert_array_equal(read_array(out_a)[0], a_values[50:, 60:])
    # B, resampled by nearest neighbour on a third-of-a-pixel shift, keeps its values exactly, and is
    # nodata where A is.
    expected_b = values[: 80 - 50, : 100 - 60].copy()
    expected_b[0:5, 0:10] = np.finfo(np.float16).min
    np.testing.assert_array_equal(read_array(out_b)[0], expected_b)


def signed_byte_raster(path, values):
    """Signed bytes as this GDAL stores them: Int8 from GDAL 3.7, Byte marked SIGNEDBYTE before."""
    if hasattr(gdal, "GDT_Int8"):
        return make_raster(path, A_TRANSFORM, 100, 80, dtype=gdal.GDT_Int8, data=values.astype(np.float64))
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), 100, 80, 1, gdal.GDT_Byte, ["PIXELTYPE=SIGNEDBYTE"])
    dataset.SetGeoTransform(A_TRANSFORM)
    dataset.SetProjection(crs_wkt(UTM33))
    dataset.GetRasterBand(1).WriteArray(values.astype(np.int8))
    dataset = None
    return str(path)


def test_signed_bytes_keep_their_sign_when_masked(tmp_path):
    values = (np.arange(100 * 80).reshape(80, 100) % 200 - 100).astype(np.int8)  # -100 .. 99
    a = signed_byte_raster(tmp_path / "a.tif", values)
    b_values = np.full((80, 100), 7, dtype=np.int16)
    b_values[:, :20] = -1
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, nodata=-1, data=b_values)
    plan = clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), mask_common=True)
    assert plan.outputs[0].nodata == (-128.0,)
    written = gdal.Open(str(tmp_path / "x.tif"))
    band = written.GetRasterBand(1)
    data = band.ReadAsArray()
    assert data.dtype == np.int8 and band.GetNoDataValue() == -128.0
    np.testing.assert_array_equal(data[:, 20:], values[:, 20:])
    np.testing.assert_array_equal(data[:, :20], -128)


def test_the_masks_are_scanned_once_per_run(tmp_path, scanned_rows):
    """Plan, masked writes and the overlap polygon share one scan of the rasters' masks."""
    rasters = []
    for index in range(3):
        values = np.full((80, 100), 5, dtype=np.int16)
        values[:, : 10 * (index + 1)] = -1
        rasters.append(make_raster(tmp_path / f"r{index}.tif", A_TRANSFORM, 100, 80, nodata=-1, data=values))
    outputs = [str(tmp_path / f"out{index}.tif") for index in range(3)]
    plan = plan_clip(rasters, outputs, area="valid", mask_common=True)
    write_plan(plan)
    assert sum(scanned_rows) == 80  # the common extent's 80 rows, once, for the plan and all three writes
    summary = overlap_summary(plan)
    # The polygon is traced from the kept mask; the percentages read each whole input once (3 x 80 rows).
    assert sum(scanned_rows) == 80 + 3 * 80
    assert (summary.width, summary.height) == (70, 80)
    for output in outputs:
        np.testing.assert_array_equal(read_array(output)[0], 5)


def test_own_grids_on_one_lattice_share_one_scan(tmp_path, scanned_rows):
    """Six scenes of one tile on their own grids with AREA=1: one scan of the masks, not six."""
    scenes = []
    for index in range(6):
        values = np.full((80, 100), 5 + index, dtype=np.int16)
        values[: 2 * index, :] = -1
        origin = (500000.0 + 10.0 * index, 10.0, 0.0, 5000000.0, 0.0, -10.0)
        scenes.append(make_raster(tmp_path / f"s{index}.tif", origin, 100, 80, nodata=-1, data=values))
    outputs = [str(tmp_path / f"s{index}_common.tif") for index in range(6)]
    plan = plan_clip(scenes, outputs, reference=None, area="valid")
    assert sum(scanned_rows) == 80  # the common extent's rows, once
    # Valid in all: rows 10..79 and columns 5..99 of the first scene; every output on its own grid there.
    for output in plan.outputs:
        assert output.copied
        assert output.grid.transform == (500050.0, 10.0, 0.0, 4999900.0, 0.0, -10.0)
        assert (output.grid.width, output.grid.height) == (95, 70)


def test_the_overlap_area_without_tracing_equals_the_traced_one(tilted_pair, tmp_path):
    a, _, b, _ = tilted_pair
    plan = plan_clip([a, b], [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")], area="valid")
    traced = overlap_summary(plan, whole_inputs=False)
    counted = overlap_summary(plan, whole_inputs=False, trace=False)
    assert traced.polygon_wkt and not counted.polygon_wkt
    assert counted.area == pytest.approx(traced.area, rel=1e-12)
    assert counted.percents == traced.percents == (None, None)
    assert (counted.width, counted.height) == (traced.width, traced.height)
