"""Lossy compression (JPEG in a GeoTIFF, a .jpg output, WebP) with and without a common nodata mask: the
outputs keep identical valid pixels in a lossless mask band, or are refused where the format has none;
a lossy output is said to change values."""

import numpy as np
import pytest
from commands import clippair
from conftest import QGIS_PROCESS
from files import leftovers, listing
from osgeo import gdal
from rasters import A_TRANSFORM, make_raster

from overlap_clip_plugin.core import UnsupportedOptionError, clip_pair

B_TRANSFORM = (500200.0, 10.0, 0.0, 4999800.0, 0.0, -10.0)


def dark_scene(path, transform, hole):
    """Three Byte bands of dark noise (1..12, where JPEG's ringing reaches 0), nodata 0 in the block ``hole``."""
    values = np.random.default_rng(abs(hash(path)) % 1000).integers(1, 13, (3, 80, 100)).astype(np.uint8)
    rows, cols = hole
    values[:, rows, cols] = 0
    return make_raster(path, transform, 100, 80, bands=3, dtype=gdal.GDT_Byte, nodata=0, data=values)


@pytest.fixture
def dark_pair(tmp_path):
    a = dark_scene(str(tmp_path / "a.tif"), A_TRANSFORM, (slice(30, 50), slice(40, 70)))
    b = dark_scene(str(tmp_path / "b.tif"), B_TRANSFORM, (slice(0, 25), slice(50, 90)))
    return a, b


def masks(path):
    """Each band's mask flags and validity (True where valid) of the raster at ``path``."""
    dataset = gdal.Open(str(path))
    bands = [dataset.GetRasterBand(index) for index in range(1, dataset.RasterCount + 1)]
    return [band.GetMaskFlags() for band in bands], [band.GetMaskBand().ReadAsArray() > 0 for band in bands]


def expected_validity(a, b, plan):
    """Where both inputs are valid on the common grid (the outputs' windows of them, nodata 0 in every band)."""
    valid = []
    for path, output in zip((a, b), plan.outputs):
        window = output.window
        data = gdal.Open(path).ReadAsArray(window.col_off, window.row_off, window.width, window.height)
        valid.append((data != 0).all(axis=0))
    return valid[0] & valid[1]


@pytest.mark.parametrize(
    ("extension", "options"), [(".tif", ["COMPRESS=JPEG", "JPEG_QUALITY=40"]), (".jpg", ["QUALITY=40"])]
)
def test_a_lossy_masked_pair_keeps_identical_valid_pixels_in_a_mask_band(dark_pair, tmp_path, extension, options):
    a, b = dark_pair
    out_a, out_b = tmp_path / f"out_a{extension}", tmp_path / f"out_b{extension}"
    plan = clip_pair(a, b, str(out_a), str(out_b), mask_common=True, creation_options=options)
    expected = expected_validity(a, b, plan)
    assert 0 < expected.sum() < expected.size
    for output in (out_a, out_b):
        flags, validity = masks(output)
        assert flags == [gdal.GMF_PER_DATASET] * 3
        for valid in validity:
            np.testing.assert_array_equal(valid, expected)
        # Nothing marks nodata by value: JPEG may well write 0 where the data are valid.
        dataset = gdal.Open(str(output))
        assert [dataset.GetRasterBand(index).GetNoDataValue() for index in (1, 2, 3)] == [None] * 3
    driver = "GTiff" if extension == ".tif" else "JPEG"
    assert [str(note) for note in plan.warnings] == [
        f"'{path}' is compressed lossily ({driver} with its creation options): its pixel values are not the "
        "source's exactly."
        for path in (out_a, out_b)
    ]
    assert leftovers(tmp_path) == []


def test_a_lossy_format_without_a_mask_band_is_refused_for_a_common_mask(dark_pair, tmp_path):
    if gdal.GetDriverByName("WEBP") is None:
        pytest.skip("this GDAL has no WEBP driver")
    a, b = dark_pair
    with pytest.raises(UnsupportedOptionError) as raised:
        clip_pair(a, b, str(tmp_path / "out_a.webp"), str(tmp_path / "out_b.webp"), mask_common=True)
    assert str(raised.value) == (
        f"Every output must keep the same valid pixels, but '{tmp_path / 'out_a.webp'}' (WEBP) is compressed "
        "lossily, which changes the values that mark them, and the format has no mask band to keep them in; "
        "write it losslessly, or as a GeoTIFF (COMPRESS=JPEG keeps a lossless mask beside it)."
    )
    assert listing(tmp_path) == ["a.tif", "b.tif"]


def test_a_lossless_webp_is_not_said_to_change_values(dark_pair, tmp_path):
    if gdal.GetDriverByName("WEBP") is None:
        pytest.skip("this GDAL has no WEBP driver")
    a, b = dark_pair
    plan = clip_pair(a, b, str(tmp_path / "a.webp"), str(tmp_path / "b.webp"), creation_options=["LOSSLESS=YES"])
    assert plan.warnings == ()
    window = plan.outputs[0].window
    source = gdal.Open(a).ReadAsArray(window.col_off, window.row_off, window.width, window.height)
    np.testing.assert_array_equal(gdal.Open(str(tmp_path / "a.webp")).ReadAsArray(), source)


@pytest.mark.skipif(QGIS_PROCESS is None, reason="qgis_process is not installed; `make test` installs it")
def test_qgis_process_masks_a_jpeg_pair_alike_and_says_values_change(dark_pair, tmp_path, profile):
    a, b = dark_pair
    run = clippair(
        profile,
        INPUT_A=a,
        INPUT_B=b,
        MASK_COMMON="true",
        OPTIONS="COMPRESS=JPEG|JPEG_QUALITY=40",
        OUTPUT_A=tmp_path / "out_a.tif",
        OUTPUT_B=tmp_path / "out_b.tif",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (
        f"'{tmp_path / 'out_a.tif'}' is compressed lossily (GTiff with its creation options)" in run.stdout + run.stderr
    )
    _, valid_a = masks(tmp_path / "out_a.tif")
    _, valid_b = masks(tmp_path / "out_b.tif")
    np.testing.assert_array_equal(valid_a[0], valid_b[0])
    assert 0 < valid_a[0].sum() < valid_a[0].size
