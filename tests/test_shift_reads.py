"""How the shift estimate reads a window (core/shift.py): a block inside a raster on the grid's lattice is read
straight from the raster, and gives what the views give, value for value and mask for mask, whatever the
bands' masks; a block reaching outside the raster, or a warped raster, is read through the views."""

from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal
from rasters import make_raster

from overlap_clip_plugin.core.grid import Window
from overlap_clip_plugin.core.raster import Read, read_raster
from overlap_clip_plugin.core.shift import ShiftSettings, _band, _block, _inside, _window_values
from overlap_clip_plugin.core.validity import CommonMask

TRANSFORM = (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)


@pytest.fixture
def masked(tmp_path):
    """Three bands with nodata in different places (band 1's in one corner, band 3's in another), and an
    internal mask on a copy."""
    rng = np.random.default_rng(5)
    data = rng.integers(1, 1000, size=(3, 96, 128)).astype(np.int16)
    data[0, :20, :30] = -1
    data[2, 60:, 100:] = -1
    path = make_raster(tmp_path / "masked.tif", TRANSFORM, 128, 96, bands=3, nodata=-1, data=data)
    plain = make_raster(tmp_path / "plain.tif", TRANSFORM, 128, 96, bands=1, data=data[1])
    dataset = gdal.Open(plain, gdal.GA_Update)
    dataset.CreateMaskBand(gdal.GMF_PER_DATASET)
    band = dataset.GetRasterBand(1)
    mask = band.GetMaskBand()
    mask.WriteArray(np.where(np.arange(128)[None, :] < 50, 0, 255).repeat(96, axis=0).astype(np.uint8))
    band = mask = dataset = None
    return read_raster(path), read_raster(plain)


@pytest.mark.parametrize("window", [Window(0, 0, 64, 64), Window(10, 20, 64, 64), Window(64, 32, 64, 64)])
@pytest.mark.parametrize("band", [1, 3])
def test_a_block_inside_the_raster_is_read_as_the_views_read_it(masked, window, band):
    settings = ShiftSettings(band=band)
    for raster in masked:
        if band > len(raster.bands):
            continue
        read = Read(raster, window)
        grid = raster.grid.subgrid(window)
        assert _inside(read)
        values, valid = _block(read, settings, masks=True)
        np.testing.assert_array_equal(values, _band(read, grid, settings, "1"))
        np.testing.assert_array_equal(valid, CommonMask([read], grid).read(0, grid.height))


def test_the_masks_of_every_band_count_as_in_the_views(masked):
    raster, with_mask = masked
    read = Read(raster, Window(0, 0, 128, 96))
    _values, valid = _block(read, ShiftSettings(), masks=True)
    # Band 1's corner and band 3's corner are both invalid, whichever band the estimate reads.
    assert not valid[:20, :30].any() and not valid[60:, 100:].any()
    assert valid.sum() == 128 * 96 - 20 * 30 - 36 * 28
    _values, valid = _block(Read(with_mask, Window(0, 0, 128, 96)), ShiftSettings(), masks=True)
    assert not valid[:, :50].any() and valid[:, 50:].all()


def test_a_block_reaching_outside_the_raster_is_read_through_the_views(masked):
    raster = masked[0]
    window = Window(100, 80, 64, 64)
    read = Read(raster, window)
    assert not _inside(read)
    grid = raster.grid.subgrid(window)
    first, second, valid = _window_values((read, read), grid, ShiftSettings(min_valid=0.0), None, "1")
    assert first is not None and second is not None
    # Outside the raster nothing is valid; inside, what the raster's masks say.
    assert not valid[16:, :].any() and not valid[:, 28:].any()
    dataset = raster.open()
    np.testing.assert_array_equal(first[:16, :28], dataset.ReadAsArray(100, 80, 28, 16)[0].astype(float))
