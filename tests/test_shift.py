"""The shift estimate (core/shift.py) on real GDAL files: sub-pixel accuracy, clouds, what it refuses to
measure, its sign convention end to end, and memory that stays flat on a Sentinel-2-sized pair."""

from __future__ import annotations

import concurrent.futures
import os
import time
import tracemalloc

import numpy as np
import pytest
from osgeo import gdal
from rasters import UTM33, crs_wkt, make_raster
from shift_data import (
    ALIASED_SIZE,
    FINE,
    REAL_EAST,
    REAL_RASTER,
    REAL_WEST,
    S2_AROSICS_PX,
    S2_PAIR,
    SHIFT_TRANSFORM,
    SIZE,
    aliased_image,
    clouds,
    real_content,
    real_pair,
    real_shape,
    sensor_image,
    shifted,
    texture_spectrum,
    write_pair,
)

from overlap_clip_plugin.core.errors import CancelledError, UnsupportedOptionError
from overlap_clip_plugin.core.raster import Read, read_raster
from overlap_clip_plugin.core.run import run_clip
from overlap_clip_plugin.core.shift import (
    DISAGREE,
    FLAT,
    FLAT_CONTENT,
    INVALID,
    KEPT,
    NO_MATCH,
    OUT_OF_RANGE_SHIFT,
    TOO_LITTLE_VALID,
    TOO_SMALL,
    WEAK,
    ShiftSettings,
    corrected_transform,
    estimate_shift,
    phase_shift,
    window_size_for,
    windows_on,
)

#: Content moved by (east, south) pixels: 14 combinations from 0.1 to 3 pixels, of both signs.
SHIFTS = [
    (0.1, 0.0),
    (0.0, 0.1),
    (0.25, -0.4),
    (-0.5, 0.5),
    (0.73, 1.21),
    (-1.0, -1.0),
    (1.5, -0.35),
    (-1.85, 2.2),
    (2.05, 0.6),
    (-2.5, -1.45),
    (2.95, -2.95),
    (-0.15, 3.0),
    (3.0, 0.3),
    (-2.2, -0.05),
]


def estimate(reference_path, other_path, **settings):
    reference, other = read_raster(str(reference_path)), read_raster(str(other_path))
    grid = reference.grid
    return estimate_shift(Read.on(reference, grid), Read.on(other, grid), grid, ShiftSettings(**settings))


def rmse(errors) -> float:
    return float(np.sqrt(np.mean(np.sum(np.square(errors), axis=1))))


@pytest.mark.parametrize(("cover", "limit"), [(0.0, 0.05), (0.3, 0.1)])
def test_sub_pixel_shifts_are_measured_to_a_few_hundredths_of_a_pixel(tmp_path, cover, limit):
    cloud = clouds(cover=cover) if cover else None
    errors = []
    for index, (dx, dy) in enumerate(SHIFTS):
        folder = tmp_path / str(index)
        folder.mkdir()
        found = estimate(*write_pair(folder, dx, dy, cloud=cloud))
        assert found.reliable, found.reason
        assert found.reason == ""
        assert found.windows_used >= 3
        errors.append((found.dx_px - dx, found.dy_px - dy))
    print(f"\nRMSE with {cover:.0%} cloud: {rmse(errors):.4f} px, largest error {np.abs(errors).max():.4f} px")
    assert rmse(errors) <= limit


def test_shifts_on_an_aliasing_sensor_are_measured_to_a_few_hundredths_of_a_pixel(tmp_path):
    # Ground detail finer than a pixel, each pixel its mean: the aliased frequencies would pull a whitened
    # correlation towards whole pixels (0.08 px RMSE without the estimate's low-pass).
    def write(name, east, south, seed):
        data = aliased_image(east, south, seed)
        size = ALIASED_SIZE
        return make_raster(tmp_path / name, SHIFT_TRANSFORM, size, size, dtype=gdal.GDT_UInt16, nodata=0, data=data)

    reference_path = write("reference.tif", 0, 0, 1)
    errors = []
    for east, south in [(1, 0), (0, 1), (2, -3), (-5, 2), (6, 7), (-9, -1), (11, 3), (-12, 12), (3, -10), (-2, 5)]:
        found = estimate(reference_path, write("moved.tif", east, south, 2))
        assert found.reliable, found.reason
        errors.append((found.dx_px - east / FINE, found.dy_px - south / FINE))
    print(f"\nRMSE on an aliasing sensor: {rmse(errors):.4f} px")
    assert rmse(errors) <= 0.05


def test_the_estimate_says_where_each_window_is_and_what_it_found(tmp_path):
    found = estimate(*write_pair(tmp_path, 1.2, -0.7, cloud=clouds(cover=0.3)))
    assert found.reliable and found.windows_total == 25 and found.window_size == 256 and found.max_shift_px == 64
    assert len(found.windows) == 25
    kept = [one for one in found.windows if one.status == KEPT]
    assert len(kept) == found.windows_used
    # Clouds leave some windows with too little valid data; each window's centre is on the ground.
    assert {one.status for one in found.windows} <= {KEPT, "outlier", "invalid"}
    x0, dx, _, y0, _, dy = SHIFT_TRANSFORM
    assert all(x0 < one.x < x0 + SIZE * dx and y0 + SIZE * dy < one.y < y0 for one in found.windows)
    assert found.spread_px is not None and found.spread_px < 0.05
    # In CRS units (10 m pixels): east 12 m, and 0.7 px north is +7 m; UTM metres are the CRS's own.
    assert found.dx == pytest.approx(10 * found.dx_px) and found.dy == pytest.approx(-10 * found.dy_px)
    assert (found.dx_m, found.dy_m) == pytest.approx((found.dx, found.dy))
    assert found.shift == pytest.approx(np.hypot(12.0, 7.0), abs=0.5)


def test_flat_content_is_unreliable(tmp_path):
    flat = np.full((SIZE, SIZE), 1200, dtype=np.uint16)
    reference = make_raster(tmp_path / "a.tif", SHIFT_TRANSFORM, SIZE, SIZE, dtype=gdal.GDT_UInt16, data=flat)
    other = make_raster(tmp_path / "b.tif", SHIFT_TRANSFORM, SIZE, SIZE, dtype=gdal.GDT_UInt16, data=flat)
    found = estimate(reference, other)
    assert not found.reliable and found.dx_px is None and found.dy_px is None and found.dx_m is None
    assert found.reason_template == FLAT_CONTENT
    assert found.reason == (
        "The content is too flat to estimate a shift: none of the 25 windows with valid data shows texture in "
        "both rasters."
    )


def test_unrelated_content_is_unreliable(tmp_path):
    found = estimate(*write_pair(tmp_path, 0.0, 0.0, other_seed=5))
    assert not found.reliable and found.dx_px is None and found.windows_used == 0
    assert found.reason_template == NO_MATCH
    assert "none of the 25 windows with texture shows a clear correlation peak" in found.reason
    assert "a shift of more than 128 pixels" in found.reason


@pytest.mark.parametrize(
    ("cover", "dtype", "limit"), [(0.0, np.uint16, 0.05), (0.3, np.uint16, 0.1), (0.0, np.uint8, 0.05)]
)
def test_sub_pixel_shifts_on_real_content_are_measured_to_a_few_hundredths_of_a_pixel(tmp_path, cover, dtype, limit):
    # A Landsat band (coast, tidal flats, open water, cumulus) upsampled twice: 1024 x 512 pixels, 15 windows. With
    # 30 % cloud in the shifted copy, 4 windows have too little valid data and the other 11 agree.
    cloud = clouds(cover=cover, shape=real_shape()) if cover else None
    errors = []
    for index, (dx, dy) in enumerate(SHIFTS):
        folder = tmp_path / str(index)
        folder.mkdir()
        found = estimate(*real_pair(folder, dx, dy, cloud=cloud, dtype=dtype))
        assert found.reliable, found.reason
        assert found.windows_total == 15
        assert [one.status for one in found.windows].count(INVALID) == (4 if cover else 0)
        assert found.windows_used == (11 if cover else 15)
        errors.append((found.dx_px - dx, found.dy_px - dy))
    assert rmse(errors) <= limit
    assert np.abs(errors).max() <= limit


def test_real_content_is_moved_exactly():
    # The upsampled band passes through the Landsat samples; whole pixels move it by whole samples, east and south.
    dataset = gdal.Open(REAL_RASTER)
    band = dataset.GetRasterBand(1).ReadAsArray().astype(np.float64)
    reference = real_content(0.0, 0.0)
    assert reference.shape == real_shape() == (512, 1024)
    np.testing.assert_allclose(reference[::2, ::2], band, atol=1e-9)
    np.testing.assert_allclose(real_content(3.0, -2.0)[:-2, 3:], reference[2:, :-3], atol=1e-9)


NINE_UNRELATED = (
    "The rasters' content does not match: none of the 9 windows with texture shows a clear correlation peak "
    "(unrelated images, too much change, or a shift of more than 128 pixels)."
)


@pytest.mark.parametrize("other", ["another crop", "noise"])
def test_real_content_against_unrelated_content_is_unreliable(tmp_path, other):
    # The Landsat band's west half (ocean and coast), 512 x 512 pixels, against its east half (island, channel and
    # open water) or against random noise through the same sensor: no window peaks clearly, so no number.
    reference_path, other_path = real_pair(tmp_path, 0.0, 0.0, columns=REAL_WEST, other_columns=REAL_EAST)
    if other == "noise":
        rows, cols = real_shape(REAL_WEST)
        noise = sensor_image(np.random.default_rng(3).standard_normal((rows, cols)), 1.0, 0.02, 5)
        other_path = make_raster(
            tmp_path / "noise.tif", SHIFT_TRANSFORM, cols, rows, dtype=gdal.GDT_UInt16, nodata=0, data=noise
        )
    found = estimate(reference_path, other_path)
    assert not found.reliable and found.dx_px is None and found.dy_px is None and found.windows_used == 0
    assert found.windows_total == 9 and {one.status for one in found.windows} == {WEAK}
    assert found.reason_template == NO_MATCH
    assert found.reason == NINE_UNRELATED


FIFTEEN_FLAT = (
    "The content is too flat to estimate a shift: none of the 15 windows with valid data shows texture in both rasters."
)
FIFTEEN_UNRELATED = (
    "The rasters' content does not match: none of the 15 windows with texture shows a clear correlation peak "
    "(unrelated images, too much change, or a shift of more than 128 pixels)."
)


@pytest.mark.parametrize(
    ("noise", "template", "status", "reason"),
    [(0.0, FLAT_CONTENT, FLAT, FIFTEEN_FLAT), (0.02, NO_MATCH, WEAK, FIFTEEN_UNRELATED)],
    ids=["exactly flat", "flat through noise"],
)
def test_real_content_against_a_flat_patch_is_unreliable(tmp_path, noise, template, status, reason):
    # The shifted copy sees flat ground (haze, a saturated cloud deck): exactly flat it has no texture; through a
    # sensor's noise it has texture that matches nothing.
    reference_path, _ = real_pair(tmp_path, 0.0, 0.0)
    rows, cols = real_shape()
    flat = sensor_image(np.zeros((rows, cols)), 1.0, noise, 5)
    flat_path = make_raster(
        tmp_path / "flat.tif", SHIFT_TRANSFORM, cols, rows, dtype=gdal.GDT_UInt16, nodata=0, data=flat
    )
    found = estimate(reference_path, flat_path)
    assert not found.reliable and found.dx_px is None and found.windows_used == 0
    assert found.windows_total == 15 and {one.status for one in found.windows} == {status}
    assert found.reason_template == template
    assert found.reason == reason


def test_a_shift_beyond_the_windows_reach_is_out_of_range_not_a_number(tmp_path):
    found = estimate(*write_pair(tmp_path, 100.0, -20.0))
    assert not found.reliable and found.dx_px is None and found.dx is None
    assert found.reason_template == OUT_OF_RANGE_SHIFT
    assert found.reason == (
        "The rasters are shifted by more than the estimate can measure, 64 pixels (640 m) on each axis; register "
        "them roughly first."
    )


def test_smaller_windows_measure_less(tmp_path):
    found = estimate(*write_pair(tmp_path, 0.0, 22.0), window_size=64)
    assert found.window_size == 64 and found.reason_template == OUT_OF_RANGE_SHIFT
    assert "16 pixels (160 m)" in found.reason


def test_a_fully_clouded_overlap_is_too_little_valid_data(tmp_path):
    found = estimate(*write_pair(tmp_path, 0.5, 0.5, cloud=clouds(cover=0.999)))
    assert not found.reliable and found.reason_template == TOO_LITTLE_VALID
    assert found.reason == (
        "Too little valid overlap to estimate a shift: none of the 25 windows of 256 x 256 pixels has at least 50% "
        "of its pixels valid in both rasters."
    )


def test_a_band_the_rasters_lack_is_refused(tmp_path):
    with pytest.raises(UnsupportedOptionError) as caught:
        estimate(*write_pair(tmp_path, 0.5, 0.5), band=2)
    assert str(caught.value) == "'reference.tif' has 1 bands, so no band 2 to estimate a shift on."


def test_a_tiny_common_area_is_too_small(tmp_path):
    image = np.arange(40 * 40, dtype=np.uint16).reshape(40, 40)
    a = make_raster(tmp_path / "a.tif", SHIFT_TRANSFORM, 40, 40, dtype=gdal.GDT_UInt16, data=image)
    found = estimate(a, a)
    assert found.reason_template == TOO_SMALL and found.windows_total == 0
    assert (
        found.reason
        == "The common area (40 x 40 pixels) is too small to estimate a shift: it needs at least 64 x 64 pixels."
    )


def test_windows_that_disagree_make_the_estimate_unreliable(tmp_path):
    # Each quarter of the image (west to east) moved its own way, -3, -1, 1 and 3 pixels: no translation.
    spectrum = texture_spectrum()
    reference = np.fft.ifft2(spectrum).real
    scale = float(reference.std())
    quarter = np.arange(SIZE)[None, :] // (SIZE // 4)
    other = reference.copy()
    for index, dx in enumerate((-3.0, -1.0, 1.0, 3.0)):
        other = np.where(quarter == index, shifted(spectrum, dx, 0.0), other)
    ref_path = make_raster(
        tmp_path / "a.tif", SHIFT_TRANSFORM, SIZE, SIZE, dtype=gdal.GDT_UInt16,
        data=sensor_image(reference, scale, 0.02, 1),
    )  # fmt: skip
    other_path = make_raster(
        tmp_path / "b.tif", SHIFT_TRANSFORM, SIZE, SIZE, dtype=gdal.GDT_UInt16, data=sensor_image(other, scale, 0.02, 2)
    )
    found = estimate(ref_path, other_path)
    assert not found.reliable and found.reason_template == DISAGREE
    assert found.reason.startswith("The windows disagree on the shift: ")


def test_the_sign_convention_holds_end_to_end(tmp_path):
    reference_path, other_path = write_pair(tmp_path, 1.7, -0.6)
    found = estimate(reference_path, other_path)
    # Content 1.7 px east and 0.6 px north of the reference's.
    assert found.dx_px == pytest.approx(1.7, abs=0.05) and found.dy_px == pytest.approx(-0.6, abs=0.05)
    other = read_raster(other_path)
    corrected = corrected_transform(other, found)
    assert corrected == pytest.approx(
        (500000.0 - 10 * found.dx_px, 10.0, 0.0, 5000000.0 + 10 * found.dy_px, 0.0, -10.0)
    )
    # The shifted raster's pixels with the corrected georeference: now off the reference's lattice, warped onto
    # it (Lanczos), and registered.
    moved = gdal.Translate(str(tmp_path / "corrected.tif"), other_path)
    moved.SetGeoTransform(corrected)
    moved = None
    again = estimate(reference_path, tmp_path / "corrected.tif")
    assert again.reliable, again.reason
    print(f"\nresidual after correction: {again.dx_px:+.4f}, {again.dy_px:+.4f} px")
    assert abs(again.dx_px) <= 0.1 and abs(again.dy_px) <= 0.1


def test_a_raster_off_the_lattice_is_measured_through_its_warp(tmp_path):
    # The same content on a georeference moved by a fraction of a pixel: read through a Lanczos warp onto the
    # reference's grid, its content lies that far from the reference's.
    errors = []
    for index, (dx, dy) in enumerate([(0.3, 0.0), (0.5, -0.5), (1.7, -0.6), (-0.25, 0.8), (0.1, 0.45)]):
        folder = tmp_path / str(index)
        folder.mkdir()
        reference_path, other_path = write_pair(folder, 0.0, 0.0)
        dataset = gdal.Open(other_path, gdal.GA_Update)
        x0, width, _, y0, _, height = dataset.GetGeoTransform()
        dataset.SetGeoTransform((x0 + dx * width, width, 0.0, y0 + dy * height, 0.0, height))
        dataset = None
        reference, other = read_raster(reference_path), read_raster(other_path)
        grid = reference.grid
        assert Read.on(other, grid).window is None
        found = estimate_shift(Read.on(reference, grid), Read.on(other, grid), grid)
        errors.append((found.dx_px - dx, found.dy_px - dy))
    print(f"\nRMSE through a Lanczos warp: {rmse(errors):.4f} px")
    assert rmse(errors) <= 0.03


def test_an_unreliable_estimate_corrects_nothing(tmp_path):
    reference_path, other_path = write_pair(tmp_path, 0.0, 0.0, other_seed=5)
    found = estimate(reference_path, other_path)
    with pytest.raises(UnsupportedOptionError, match="cannot be corrected: The rasters' content does not match"):
        corrected_transform(read_raster(other_path), found)


def test_a_geographic_grid_gives_metres_at_its_centre_latitude(tmp_path):
    # 0.0001 degree pixels around 45 N: a degree of longitude is 78 847 m there, of latitude 111 132 m (WGS 84).
    transform = (10.0, 0.0001, 0.0, 45.0512, 0.0, -0.0001)
    reference_path, other_path = write_pair(tmp_path, 1.0, -2.0, transform=transform)
    for path in (reference_path, other_path):
        dataset = gdal.Open(path, gdal.GA_Update)
        dataset.SetProjection(gdal.osr.SpatialReference(gdal.osr.SRS_WKT_WGS84_LAT_LONG).ExportToWkt())
        dataset = None
    found = estimate(reference_path, other_path)
    assert found.reliable
    assert found.dx == pytest.approx(0.0001 * found.dx_px) and found.dy == pytest.approx(-0.0001 * found.dy_px)
    assert found.dx_m == pytest.approx(found.dx * 78847.0, rel=1e-3)
    assert found.dy_m == pytest.approx(found.dy * 111132.0, rel=1e-3)


def test_a_pool_of_threads_gives_the_inline_answer_and_a_cancel_stops_it(tmp_path):
    reference_path, other_path = write_pair(tmp_path, 0.4, 0.9)
    reference, other = read_raster(reference_path), read_raster(other_path)
    grid = reference.grid
    reads = (Read.on(reference, grid), Read.on(other, grid), grid)
    inline = estimate_shift(*reads)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pooled = estimate_shift(*reads, executor=pool)
    assert (pooled.dx_px, pooled.dy_px, pooled.windows) == (inline.dx_px, inline.dy_px, inline.windows)
    seen = []
    with pytest.raises(CancelledError, match="Cancelled while estimating the shift"):
        estimate_shift(*reads, progress=lambda fraction: seen.append(fraction) or fraction < 0.2)
    assert 0 < len(seen) < 10


def test_the_runs_kept_common_mask_gives_the_masks_answer(tmp_path):
    from overlap_clip_plugin.core.validity import valid_summary

    reference_path, other_path = write_pair(tmp_path, -0.6, 1.4, cloud=clouds(cover=0.3))
    reference, other = read_raster(reference_path), read_raster(other_path)
    grid = reference.grid
    reads = (Read.on(reference, grid), Read.on(other, grid))
    kept = valid_summary(reads, grid, keep=True).mask
    with_kept = estimate_shift(*reads, grid, kept=kept)
    without = estimate_shift(*reads, grid)
    assert (with_kept.dx_px, with_kept.dy_px, with_kept.windows) == (without.dx_px, without.dy_px, without.windows)


@pytest.mark.parametrize(("dx", "dy"), [(0.3, 0.0), (-1.25, 2.5), (0.0, -0.8)])
def test_phase_shift_finds_a_fourier_shift_of_a_window(dx, dy):
    spectrum = texture_spectrum(size=128, seed=3)
    reference, other = np.fft.ifft2(spectrum).real, shifted(spectrum, dx, dy)
    found_dx, found_dy, strength = phase_shift(reference, other)
    assert (found_dx, found_dy) == pytest.approx((dx, dy), abs=0.011)
    assert strength > 50


def test_windows_spread_over_the_grid_overlapping_by_at_most_half():
    from overlap_clip_plugin.core.grid import Grid

    grid = Grid(SHIFT_TRANSFORM, 1000, 300)
    size = window_size_for(grid, ShiftSettings())
    assert size == 128
    windows = windows_on(grid, size, 5)
    assert sorted({w.col_off for w in windows}) == [0, 218, 436, 654, 872]
    assert sorted({w.row_off for w in windows}) == [0, 86, 172]
    assert window_size_for(Grid(SHIFT_TRANSFORM, 63, 500), ShiftSettings()) == 0


def _large_pair(folder, size: int) -> tuple[str, str]:
    """Two tiled UInt16 GeoTIFFs of ``size`` x ``size`` pixels showing a periodic texture, the second's content 3
    px east and 2 px north of the first's; written a band of rows at a time."""
    tile = np.fft.ifft2(texture_spectrum(size=1024, seed=11)).real
    tile = np.clip(3000 + 600 * tile / tile.std(), 1, 65535).astype(np.uint16)
    paths = []
    for name, moved in (("a.tif", tile), ("b.tif", np.roll(tile, (-2, 3), axis=(0, 1)))):
        path = str(folder / name)
        dataset = gdal.GetDriverByName("GTiff").Create(path, size, size, 1, gdal.GDT_UInt16, ["TILED=YES"])
        dataset.SetGeoTransform((300000.0, 10.0, 0.0, 5000040.0, 0.0, -10.0))
        dataset.SetProjection(crs_wkt(UTM33))
        band = dataset.GetRasterBand(1)
        band.SetNoDataValue(0)
        row = np.tile(moved, (1, size // 1024 + 1))[:, :size]
        for row_off in range(0, size, 1024):
            band.WriteArray(row[: min(1024, size - row_off)], 0, row_off)
        dataset = None
        paths.append(path)
    return paths[0], paths[1]


def _bytes_read() -> int:
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar:")).split()[1])


def test_a_sentinel_2_sized_pair_is_read_window_by_window(tmp_path):
    size = 10980
    reference_path, other_path = _large_pair(tmp_path, size)
    raster_bytes = size * size * 2
    reference, other = read_raster(reference_path), read_raster(other_path)
    grid = reference.grid
    read_before = _bytes_read()
    tracemalloc.start()
    started = time.perf_counter()
    found = estimate_shift(Read.on(reference, grid), Read.on(other, grid), grid)
    took = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    read = _bytes_read() - read_before
    assert found.reliable and (found.dx_px, found.dy_px) == pytest.approx((3.0, -2.0), abs=0.02)
    # 25 windows of 256 x 256 pixels in 256-pixel tiles: at most 4 tiles each per raster, read twice (the mask
    # from the nodata value, then the values), and never the 482 MB of the pair.
    assert read < 2 * 25 * 4 * 256 * 256 * 2 * 2 * 1.1
    assert peak < 100 * 1024 * 1024
    started = time.perf_counter()
    gdal.Translate(str(tmp_path / "copy.tif"), reference_path)
    translate = time.perf_counter() - started
    os.remove(tmp_path / "copy.tif")
    print(
        f"\n{size} x {size}: estimate {took:.2f} s, gdal_translate {translate:.2f} s, ratio {took / translate:.3f}; "
        f"read {read / 1e6:.1f} MB of {2 * raster_bytes / 1e6:.0f} MB, Python peak {peak / 1e6:.1f} MB"
    )


def test_a_real_pair_of_dates_is_measured_as_arosics_measures_it():
    # Two Sentinel-2 dates from before the global reference image: no synthetic shift, their georeferences disagree.
    found = estimate(*S2_PAIR)
    assert found.reliable, found.reason
    assert found.windows_used >= 20 and found.windows_total == 25, found.windows
    assert found.spread_px < 0.1
    # Within 0.1 px of AROSICS's COREG on the same files: content 0.6 px east and 1.8 px north, about 19 m.
    assert (found.dx_px, found.dy_px) == pytest.approx(S2_AROSICS_PX, abs=0.1)
    assert found.shift_m == pytest.approx(10.0 * np.hypot(*S2_AROSICS_PX), abs=1.0)


def test_a_real_pair_of_dates_corrected_is_registered_within_a_tenth_of_a_pixel(tmp_path):
    out = [str(tmp_path / "a.tif"), str(tmp_path / "b.tif")]
    corrected = run_clip(list(S2_PAIR), out, shift="correct", resampling="cubic")
    assert corrected.corrections[1] == pytest.approx(S2_AROSICS_PX, abs=0.1)
    again = estimate(*out)
    assert again.reliable, again.reason
    assert abs(again.dx_px) <= 0.1 and abs(again.dy_px) <= 0.1, (again.dx_px, again.dy_px)
