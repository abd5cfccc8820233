"""Image-like content and sub-pixel shifted copies of it, for the shift estimate's tests.

The texture is band-limited noise with a natural image's 1/f amplitude spectrum (several scales at once), made
periodic by the FFT, so that the Fourier shift theorem moves it by any fraction of a pixel exactly; sensor-like
noise and quantisation to UInt16 come after the shift, independently in each image.

:func:`aliased_pair` is the harder case of a real sensor: content with detail finer than its pixels, each pixel
the mean of the ground it covers (so the image aliases), moved by whole pixels of a 4 times finer ground.
"""

from __future__ import annotations

import functools

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


def sensor_image(texture: np.ndarray, scale: float, noise: float, seed: int) -> np.ndarray:
    """``texture`` as a UInt16 sensor sees it: stretched to about 1000..5000 (``scale`` being the texture's
    standard deviation), with Gaussian noise of ``noise`` times the content's standard deviation, rounded."""
    rng = np.random.default_rng(seed)
    image = 3000.0 + 600.0 * texture / scale
    image += rng.standard_normal(image.shape) * 600.0 * noise
    return np.clip(np.rint(image), 1, 65535).astype(np.uint16)


def clouds(size: int = SIZE, cover: float = 0.3, seed: int = 7) -> np.ndarray:
    """A boolean mask of blob-shaped clouds over ``cover`` of a ``size`` x ``size`` image."""
    field = np.fft.ifft2(texture_spectrum(size, seed, slope=3.0)).real
    return field > np.quantile(field, 1.0 - cover)


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
    height, width = ref_image.shape
    ref_path = make_raster(
        f"{folder}/reference.tif", transform, width, height, dtype=gdal.GDT_UInt16, nodata=0, data=ref_image
    )
    other_path = make_raster(
        f"{folder}/shifted.tif", transform, width, height, dtype=gdal.GDT_UInt16, nodata=0, data=other_image
    )
    return ref_path, other_path


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
