"""Image-like content and sub-pixel shifted copies of it, for the shift estimate's tests.

The texture is band-limited noise with a natural image's 1/f amplitude spectrum (several scales at once), made
periodic by the FFT, so that the Fourier shift theorem moves it by any fraction of a pixel exactly; sensor-like
noise and quantisation to UInt16 come after the shift, independently in each image.

:func:`real_pair` does the same on real content: a Landsat band (tests/data/landsat_green.tif) upsampled twice
by Fourier interpolation, which makes it band-limited and so exactly shiftable too.

:func:`aliased_image` is the harder case of a real sensor: content with detail finer than its pixels, each pixel
the mean of the ground it covers (so the image aliases), moved by whole pixels of a 4 times finer ground.

:data:`S2_PAIR` is no synthetic shift at all: two real Sentinel-2 dates whose georeferences disagree, with the
shift AROSICS measures between them as the reference.
"""

from __future__ import annotations

import functools
import os

import numpy as np
from osgeo import gdal
from rasters import make_raster

#: Every test image: 1024 x 1024 pixels of 10 m in UTM 33N.
SHIFT_TRANSFORM = (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)
SIZE = 1024


def texture_spectrum(size: int = SIZE, seed: int = 1, slope: float = 1.6) -> np.ndarray:
    """The spectrum (``np.fft.fft2`` layout) of a periodic ``size`` x ``size`` texture: random phases,
    amplitude falling as 1/f**slope, nothing at or beyond 0.8 of the Nyquist frequency (so that it is
    band-limited and a shifted copy is exact)."""
    rng = np.random.default_rng(seed)
    noise = np.fft.fft2(rng.standard_normal((size, size)))
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.fftfreq(size)[None, :]
    f = np.hypot(fx, fy)
    amplitude = np.where(f > 0, np.maximum(f, 1.0 / size) ** -slope, 0.0)
    amplitude[f >= 0.4] = 0.0
    return noise * amplitude


def shifted(spectrum: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The texture of ``spectrum`` with its content moved ``dx`` pixels east (columns) and ``dy`` pixels south
    (rows), by the Fourier shift theorem."""
    size_y, size_x = spectrum.shape
    fy = np.fft.fftfreq(size_y)[:, None]
    fx = np.fft.fftfreq(size_x)[None, :]
    return np.fft.ifft2(spectrum * np.exp(-2j * np.pi * (fx * dx + fy * dy))).real


def sensor_image(
    texture: np.ndarray,
    scale: float,
    noise: float,
    seed: int,
    level: float = 3000.0,
    spread: float = 600.0,
    dtype: type = np.uint16,
) -> np.ndarray:
    """``texture`` as a sensor sees it: stretched to a mean of ``level`` and a standard deviation of ``spread``
    (about 1000..5000 by default; ``scale`` being the texture's standard deviation), with Gaussian noise of
    ``noise`` times that spread, rounded and clipped to ``dtype``'s range above 0 (the nodata value)."""
    rng = np.random.default_rng(seed)
    image = level + spread * texture / scale
    image += rng.standard_normal(image.shape) * spread * noise
    return np.clip(np.rint(image), 1, np.iinfo(dtype).max).astype(dtype)


def clouds(size: int = SIZE, cover: float = 0.3, seed: int = 7, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A boolean mask of blob-shaped clouds over ``cover`` of a ``size`` x ``size`` image, or of its north-west
    part of ``shape`` (rows, columns) when given."""
    field = np.fft.ifft2(texture_spectrum(size, seed, slope=3.0)).real
    if shape is not None:
        field = field[: shape[0], : shape[1]]
    return field > np.quantile(field, 1.0 - cover)


def _write_images(folder, transform, ref_image: np.ndarray, other_image: np.ndarray) -> tuple[str, str]:
    """``reference.tif`` and ``shifted.tif`` in ``folder``: the two images on one georeference, nodata 0."""
    dtype = gdal.GDT_Byte if ref_image.dtype == np.uint8 else gdal.GDT_UInt16
    height, width = ref_image.shape
    paths = [
        make_raster(f"{folder}/{name}", transform, width, height, dtype=dtype, nodata=0, data=image)
        for name, image in (("reference.tif", ref_image), ("shifted.tif", other_image))
    ]
    return paths[0], paths[1]


def write_pair(
    folder,
    dx: float,
    dy: float,
    noise: float = 0.02,
    cloud: np.ndarray | None = None,
    seed: int = 1,
    other_seed: int | None = None,
    transform=SHIFT_TRANSFORM,
) -> tuple[str, str]:
    """A reference and an identically georeferenced copy whose content lies ``dx`` px east and ``dy`` px south
    of the reference's (UInt16, nodata 0); ``cloud`` pixels are nodata in the copy. With ``other_seed`` the copy
    shows another, unrelated texture."""
    spectrum = texture_spectrum(seed=seed)
    reference = np.fft.ifft2(spectrum).real
    scale = float(reference.std())
    other = shifted(texture_spectrum(seed=other_seed) if other_seed is not None else spectrum, dx, dy)
    ref_image = sensor_image(reference, scale, noise, seed=100)
    other_image = sensor_image(other, scale, noise, seed=200)
    if cloud is not None:
        other_image[cloud] = 0
    return _write_images(folder, transform, ref_image, other_image)


#: The aliased images: ALIASED_SIZE pixels a side, each the mean of FINE x FINE pixels of the ground.
ALIASED_SIZE, FINE = 512, 4


@functools.lru_cache(maxsize=1)
def _fine_ground() -> np.ndarray:
    """A 1/f texture with detail up to the Nyquist frequency of a grid FINE times finer than the images'."""
    size = ALIASED_SIZE * FINE + 64
    rng = np.random.default_rng(3)
    f = np.hypot(np.fft.fftfreq(size)[None, :], np.fft.fftfreq(size)[:, None])
    amplitude = np.where(f > 0, np.maximum(f, 1.0 / size) ** -1.3, 0.0)
    ground = np.fft.ifft2(np.fft.fft2(rng.standard_normal((size, size))) * amplitude).real
    return 3000.0 + 600.0 * ground / ground.std()


def aliased_image(east: int, south: int, seed: int, noise: float = 0.03) -> np.ndarray:
    """The ground moved ``east`` and ``south`` fine pixels (1/FINE of an image pixel), seen by a sensor whose
    pixels average the ground they cover, with Gaussian noise of ``noise`` times the content's spread (UInt16)."""
    ground = np.roll(_fine_ground(), (south, east), axis=(0, 1))[
        32 : 32 + ALIASED_SIZE * FINE, 32 : 32 + ALIASED_SIZE * FINE
    ]
    image = ground.reshape(ALIASED_SIZE, FINE, ALIASED_SIZE, FINE).mean(axis=(1, 3))
    image += np.random.default_rng(seed).standard_normal(image.shape) * 600.0 * noise
    return np.clip(np.rint(image), 1, 65535).astype(np.uint16)


#: The real content: 512 x 256 pixels of 300 m, band 2 (green) of a Landsat 7 ETM+ scene of the Bahamas (coast,
#: tidal flats, open water, small cumulus), from rasterio's tests/data/RGB.byte.tif; tests/data/landsat_green.txt
#: says where from, what was done to it and its licence.
REAL_RASTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "landsat_green.tif")
#: Column ranges of REAL_RASTER: all of it, its west half (ocean and coast) and its east half (island, channel
#: and open water): the halves are unrelated content.
REAL_ALL, REAL_WEST, REAL_EAST = (0, 512), (0, 256), (256, 512)
#: The real pairs' pixels are REAL_RASTER's upsampled this many times: all of it gives 1024 x 512 pixels.
REAL_UPSAMPLING = 2


def real_shape(columns: tuple[int, int] = REAL_ALL) -> tuple[int, int]:
    """The (rows, columns) of a real pair's images showing ``columns`` of REAL_RASTER."""
    return 256 * REAL_UPSAMPLING, (columns[1] - columns[0]) * REAL_UPSAMPLING


@functools.lru_cache(maxsize=4)
def real_spectrum(columns: tuple[int, int] = REAL_ALL) -> np.ndarray:
    """The spectrum (``np.fft.rfft2`` layout) of ``columns`` of REAL_RASTER, mirrored into a periodic image
    twice its size (the image, its mirror east, both mirrored south) and upsampled REAL_UPSAMPLING times by
    padding that spectrum with zeros (Fourier interpolation), its Nyquist row and column dropped.

    Why Fourier and not GDAL's cubicspline: Fourier interpolation passes through the original samples and leaves
    nothing above the original Nyquist frequency (half the new one), so the Fourier shift theorem then moves the
    content by any fraction of a pixel exactly; a cubic B-spline smooths the samples and leaves some energy up to
    the new Nyquist frequency, where a Fourier shift is no longer a translation of the content. The mirror makes
    the period continuous, so a shift brings the mirrored image in at an edge instead of wrapping the opposite
    edge's content round (a seam that would correlate at shift zero)."""
    start, stop = columns
    dataset = gdal.Open(REAL_RASTER)
    band = dataset.GetRasterBand(1).ReadAsArray(start, 0, stop - start).astype(np.float64)
    periodic = np.block([[band, band[:, ::-1]], [band[::-1, :], band[::-1, ::-1]]])
    small = np.fft.rfft2(periodic)
    height, width = periodic.shape
    factor = REAL_UPSAMPLING
    spectrum = np.zeros((factor * height, factor * width // 2 + 1), dtype=complex)
    half = height // 2
    # Rows: the non-negative frequencies first, the negative ones last; the Nyquist row and column are left out.
    spectrum[:half, : width // 2] = small[:half, : width // 2]
    spectrum[-half + 1 :, : width // 2] = small[-half + 1 :, : width // 2]
    return spectrum * factor**2


@functools.lru_cache(maxsize=4)
def real_content(dx: float, dy: float, columns: tuple[int, int] = REAL_ALL) -> np.ndarray:
    """``columns`` of REAL_RASTER upsampled (:func:`real_spectrum`), its content moved ``dx`` pixels east and
    ``dy`` pixels south (pixels of the upsampled image) by the Fourier shift theorem, in the original's digital
    numbers (0..255, with overshoot where the interpolation rings); read-only (cached)."""
    spectrum = real_spectrum(columns)
    height = spectrum.shape[0]
    width = 2 * (spectrum.shape[1] - 1)
    # The phase ramp is separable: two 1-D exponentials, not one over the whole spectrum.
    ramp_y = np.exp(-2j * np.pi * np.fft.fftfreq(height) * dy)[:, None]
    ramp_x = np.exp(-2j * np.pi * np.fft.rfftfreq(width) * dx)[None, :]
    moved = np.fft.irfft2(spectrum * ramp_y * ramp_x, s=(height, width))
    rows, cols = real_shape(columns)
    content = moved[:rows, :cols]
    content.flags.writeable = False
    return content


def real_pair(
    folder,
    dx: float,
    dy: float,
    noise: float = 0.02,
    cloud: np.ndarray | None = None,
    columns: tuple[int, int] = REAL_ALL,
    other_columns: tuple[int, int] | None = None,
    dtype: type = np.uint16,
    transform=SHIFT_TRANSFORM,
) -> tuple[str, str]:
    """:func:`write_pair` on real content: ``reference.tif`` and ``shifted.tif`` in ``folder``, of
    :func:`real_shape` pixels on ``transform``, the copy's content ``dx`` px east and ``dy`` px south of the
    reference's; ``cloud`` (a mask of that shape, see :func:`clouds`) pixels are nodata (0) in the copy. With
    ``other_columns`` the copy shows those columns of REAL_RASTER instead (unrelated content when they do not
    overlap ``columns``).

    Both images are :func:`real_content`, each with its own Gaussian noise of ``noise`` times the reference
    content's standard deviation, then quantised: ``np.uint16`` stretched to a mean of 3000 and a standard
    deviation of 600 (as :func:`write_pair`), or ``np.uint8`` in the original's numbers (saturating at 255, as
    the bright clouds already do). Bias: the shift itself is exact to float precision (the shift theorem on a
    band-limited periodic image); what is easier than a real sensor is the content, which has nothing above half
    the images' Nyquist frequency (so no aliasing, unlike :func:`aliased_image`), and the noise, which is white.
    """
    reference = real_content(0.0, 0.0, columns)
    other = real_content(dx, dy, other_columns or columns)
    mean, scale = float(reference.mean()), float(reference.std())
    level, spread = (3000.0, 600.0) if dtype == np.uint16 else (mean, scale)
    ref_image = sensor_image(reference - mean, scale, noise, 100, level, spread, dtype)
    other_image = sensor_image(other - mean, scale, noise, 200, level, spread, dtype)
    if cloud is not None:
        other_image[cloud] = 0
    return _write_images(folder, transform, ref_image, other_image)


#: Two Sentinel-2A dates of one place (tests/data/s2_t33uuu.txt says where from): the 2016-06-08 scene (the
#: reference) and the 2016-05-29 one, 768 x 768 pixels of 10 m, misregistered by about 19 m.
S2_PAIR = tuple(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", name)
    for name in ("s2_t33uuu_20160608.tif", "s2_t33uuu_20160529.tif")
)
#: AROSICS 1.13.2's COREG (default settings) on S2_PAIR, in this project's convention (px east, px south of the
#: reference's content: its x_shift_px -0.5978 and y_shift_px +1.7615 negated), measured by
#: tests/bench_arosics.py; make bench part shift measures it again.
S2_AROSICS_PX = (0.5978, -1.7615)
