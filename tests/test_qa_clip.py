"""Clear-sky validity in the one run (issue 22): a raster's QA rule narrows the common valid area (AREA=valid),
MASK_COMMON and the overlap numbers to the clear-sky common area; a rule its raster cannot serve is refused
before anything is written."""

import concurrent.futures
import multiprocessing
import os

import numpy as np
import pytest
from osgeo import gdal
from rasters import _IMAGE_TRANSFORM as IMAGE_TRANSFORM
from rasters import A_TRANSFORM, grid_of, make_raster, read_array
from rasters import _image_raster as image_raster

from overlap_clip_plugin.core.errors import QaRuleError
from overlap_clip_plugin.core.gdalenv import ClipWarning
from overlap_clip_plugin.core.qa import QaRule, landsat_c2_qa_pixel, sentinel2_scl
from overlap_clip_plugin.core.raster import Source
from overlap_clip_plugin.core.run import run_clip

NODATA = 65535
CLOUD, SHADOW, CLEAR, WATER = 1 << 3, 1 << 4, 1 << 6, 1 << 7
#: B starts 10 pixels east of A: the common grid's pixel (r, c) is B's pixel (r, c) and A's (r, c + 10).
B_TRANSFORM = (A_TRANSFORM[0] + 100.0, 10.0, 0.0, A_TRANSFORM[3], 0.0, -10.0)


def cloudy_qa() -> np.ndarray:
    """B's QA_PIXEL values (30 x 40): a cloud over rows 0-9, a shadow at rows 15-17, columns 5-7, clear or
    water elsewhere."""
    qa = np.full((30, 40), CLEAR, dtype=np.uint16)
    qa[:, 20:] = WATER
    qa[0:10, :] = CLOUD | 1 << 9
    qa[15:18, 5:8] = SHADOW
    return qa


@pytest.fixture
def pair(tmp_path):
    """A (one Int16 band, 40 x 30) and B (a UInt16 reflectance band and its QA_PIXEL band, 40 x 30)."""
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 40, 30, dtype=gdal.GDT_UInt16, nodata=NODATA)
    data = np.stack([np.arange(1200, dtype=np.uint16).reshape(30, 40), cloudy_qa()])
    b = make_raster(tmp_path / "b.tif", B_TRANSFORM, 40, 30, bands=2, dtype=gdal.GDT_UInt16, nodata=NODATA, data=data)
    return a, b


def outputs(folder):
    os.makedirs(folder, exist_ok=True)
    return [str(folder / "a_out.tif"), str(folder / "b_out.tif")]


def test_area_valid_is_the_clear_sky_common_area(pair, tmp_path):
    a, b = pair
    out = outputs(tmp_path / "out")
    result = run_clip([a, Source(b, qa=landsat_c2_qa_pixel(band=2))], out, area="valid", overlap="numbers")
    # The cloud covers the common area's first 10 rows: the common clear area starts at row 10.
    expected = (A_TRANSFORM[0] + 100.0, 10.0, 0.0, A_TRANSFORM[3] - 100.0, 0.0, -10.0)
    assert grid_of(out[0]) == grid_of(out[1]) == (expected, 30, 20)
    np.testing.assert_array_equal(read_array(out[0])[0], np.arange(1200).reshape(30, 40)[10:, 10:])
    # The overlap's numbers count clear pixels only: 30 x 20 less the 3 x 3 shadow.
    assert result.overlap.area == pytest.approx((600 - 9) * 100.0)


def test_without_a_rule_the_cloud_counts_as_valid(pair, tmp_path):
    a, b = pair
    out = outputs(tmp_path / "out")
    run_clip([a, b], out, area="valid")
    assert grid_of(out[0])[1:] == (30, 30)


def test_mask_common_masks_exactly_the_flagged_pixels_in_both_outputs(pair, tmp_path):
    a, b = pair
    out = outputs(tmp_path / "out")
    run_clip([a, Source(b, qa=landsat_c2_qa_pixel(band=2))], out, mask_common=True)
    flagged = (cloudy_qa()[:, :30] & (CLOUD | SHADOW)) != 0
    expected_a = np.where(flagged, NODATA, np.arange(1200).reshape(30, 40)[:, 10:])
    expected_b = np.where(flagged, NODATA, np.arange(1200).reshape(30, 40)[:, :30])
    np.testing.assert_array_equal(read_array(out[0])[0], expected_a)
    np.testing.assert_array_equal(read_array(out[1])[0], expected_b)
    # The QA band is a band of B like any other: copied, with the flagged pixels masked too.
    np.testing.assert_array_equal(read_array(out[1])[1], np.where(flagged, NODATA, cloudy_qa()[:, :30]))


def test_a_companion_scl_raster_for_a(pair, tmp_path):
    a, b = pair
    # An SCL raster on A's lattice, larger than A (2 pixels more on each side): high-probability cloud at A's
    # rows 20-24, columns 12-15, vegetation elsewhere.
    scl = np.full((34, 44), 4, dtype=np.uint8)
    scl[22:27, 14:18] = 9
    transform = (A_TRANSFORM[0] - 20.0, 10.0, 0.0, A_TRANSFORM[3] + 20.0, 0.0, -10.0)
    companion = make_raster(tmp_path / "a_scl.tif", transform, 44, 34, dtype=gdal.GDT_Byte, data=scl)
    out = outputs(tmp_path / "out")
    run_clip([Source(a, qa=sentinel2_scl(path=companion)), b], out, mask_common=True)
    flagged = np.zeros((30, 30), dtype=bool)
    flagged[20:25, 2:6] = True
    np.testing.assert_array_equal(
        read_array(out[0])[0], np.where(flagged, NODATA, np.arange(1200).reshape(30, 40)[:, 10:])
    )


def test_a_raster_resampled_onto_the_grid_has_its_qa_resampled_by_nearest_neighbour(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 40, 30, dtype=gdal.GDT_UInt16, nodata=NODATA)
    # B's pixels are 20 m, twice A's: A's pixel (r, c) lies in B's (r // 2, c // 2).
    qa = np.full((15, 15), CLEAR, dtype=np.uint16)
    qa[3:5, 5:7] = CLOUD
    data = np.stack([np.ones((15, 15), dtype=np.uint16), qa])
    transform = (A_TRANSFORM[0], 20.0, 0.0, A_TRANSFORM[3], 0.0, -20.0)
    b = make_raster(tmp_path / "b.tif", transform, 15, 15, bands=2, dtype=gdal.GDT_UInt16, nodata=NODATA, data=data)
    out = outputs(tmp_path / "out")
    run_clip([a, Source(b, qa=landsat_c2_qa_pixel(band=2))], out, mask_common=True)
    flagged = np.zeros((30, 30), dtype=bool)
    flagged[6:10, 10:14] = True
    np.testing.assert_array_equal(
        read_array(out[0])[0], np.where(flagged, NODATA, np.arange(1200).reshape(30, 40)[:, :30])
    )
    np.testing.assert_array_equal(read_array(out[1])[0], np.where(flagged, NODATA, 1))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (QaRule(reject_bits=(3,), band=3), "'b.tif' has 2 bands, so no QA band 3."),
        (QaRule(reject_bits=(3,), path="off.tif"), "The QA raster 'off.tif' is not on the grid of 'b.tif'"),
    ],
)
def test_a_bad_rule_is_refused_before_anything_is_written(pair, tmp_path, rule, message):
    a, b = pair
    if rule.path is not None:
        off = (B_TRANSFORM[0] + 5.0, 10.0, 0.0, B_TRANSFORM[3], 0.0, -10.0)
        rule = QaRule(reject_bits=(3,), path=make_raster(tmp_path / "off.tif", off, 40, 30, dtype=gdal.GDT_UInt16))
    folder = tmp_path / "out"
    with pytest.raises(QaRuleError) as caught:
        run_clip([a, Source(b, qa=rule)], outputs(folder), area="valid", mask_common=True)
    assert str(caught.value).startswith(message)
    assert os.listdir(folder) == []


def test_each_raster_on_its_own_grid_through_a_pool_of_processes(pair, tmp_path):
    a, b = pair
    out = outputs(tmp_path / "out")
    spawned = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=spawned) as executor:
        run_clip([a, Source(b, qa=landsat_c2_qa_pixel(band=2))], out, "own", area="valid", executor=executor)
    assert grid_of(out[1]) == ((B_TRANSFORM[0], 10.0, 0.0, B_TRANSFORM[3] - 100.0, 0.0, -10.0), 30, 20)
    np.testing.assert_array_equal(read_array(out[1])[1], cloudy_qa()[10:, :30])


def test_a_rule_that_changes_nothing_is_said(pair, tmp_path):
    a, b = pair
    out = outputs(tmp_path / "out")
    said = "'b.tif' has a clear-sky rule, but the common area is the rasters' extents and no nodata is set where any "
    said += "raster has none: the outputs are as they would be without it."
    with pytest.warns(ClipWarning) as caught:
        plan = run_clip([a, Source(b, qa=landsat_c2_qa_pixel(band=2))], out).plan
    assert [str(note) for note in plan.warnings] == [said]
    assert [str(warning.message) for warning in caught] == [said]
    np.testing.assert_array_equal(read_array(out[1])[0], np.arange(1200).reshape(30, 40)[:, :30])


@pytest.mark.parametrize(
    "b_transform", [(400003.0, 10.0, 0.0, 5000017.0, 0.0, -10.0), (399990.0, 10, 0, 5000020.0, 0, -10)]
)
def test_the_shift_estimate_leaves_out_what_the_rule_rejects(tmp_path, b_transform):
    # B on another pixel phase (its windows resampled), or on A's lattice (its windows read straight from it).
    a = image_raster(tmp_path / "a.tif", IMAGE_TRANSFORM)
    b = image_raster(tmp_path / "b.tif", b_transform)
    clouds = make_raster(tmp_path / "b_qa.tif", *grid_of(b), dtype=gdal.GDT_UInt16, data=np.full((200, 300), CLOUD))
    out = outputs(tmp_path / "out")
    assert run_clip([a, b], out, shift="estimate").shifts[1].reason == ""
    with pytest.warns(ClipWarning):
        cloudy = run_clip([a, Source(b, qa=QaRule(reject_bits=(3,), path=clouds))], out, shift="estimate")
    assert cloudy.shifts[1].reason.startswith("Too little valid overlap to estimate a shift")
