"""The global shift between two rasters' content, estimated on one output grid (issue 21, "ready means
registered").

Two rasters on one grid may show the same ground a fraction of a pixel, or a few pixels, apart: their
georeferences disagree. :func:`estimate_shift` measures that translation over their common valid area, as
AROSICS does (Scheffler et al. 2017, *Remote Sensing* 9(7), 676): phase correlation in several windows spread
over the grid, each refined to a sub-pixel peak, then a robust vote across the windows.

The method
----------
1. **Windows.** Square windows of ``W`` pixels, ``W`` the largest power of two no larger than
   :attr:`ShiftSettings.window_size` (256) nor half the grid's shorter side (at least :data:`MIN_WINDOW_SIZE`),
   up to :attr:`ShiftSettings.windows_per_axis` a side, evenly spread and overlapping by at most half. Each
   window is read on its own, as one piece for the executor (:mod:`~overlap_clip_plugin.core.executors`): memory
   holds a few windows, never a raster.
2. **What is read.** One band of each raster (the first by default) on the window's grid: a raster on the
   grid's lattice as it is (straight from the file where the window lies inside it, else through
   :func:`~overlap_clip_plugin.core.views.source_view`, which gives the same values), any other warped
   (Lanczos by default: nearest neighbour moves content by up to half a pixel, bilinear and cubic pull a shift
   towards whole pixels by up to 0.06 px, Lanczos by 0.01 px, measured). The valid pixels are the run's kept
   common mask when there is one, else both rasters' GDAL masks of every band
   (:class:`~overlap_clip_plugin.core.validity.CommonMask`); non-finite values are invalid too.
3. **Skipped windows.** Fewer than :attr:`ShiftSettings.min_valid` of its pixels valid ("invalid"); a standard
   deviation below :data:`FLAT_TOLERANCE` of the mean in either raster ("flat").
4. **Correlation.** The valid pixels' weighted mean is subtracted; the weight is the valid mask, eroded and
   feathered (a Gaussian of :data:`FEATHER_SIGMA` pixels), times a Tukey taper (:data:`TUKEY_ALPHA`). Both
   images share that weight: a hard mask edge or a mean-filled hole would correlate at shift zero and pull the
   estimate there (0.3 px of error with 30 % cloud, measured; 0.02 px feathered). Phase correlation with
   NumPy's FFT, the whitened cross-power spectrum weighted by a low-pass (:data:`LOW_PASS`: without it, content
   that a sensor aliases pulls shifts towards whole pixels, 0.08 px RMSE measured, 0.003 px with it), gives the
   whole-pixel peak; the inverse DFT evaluated around it on a lattice of 1/10, then
   1/:data:`UPSAMPLING` pixel (Guizar-Sicairos et al. 2008) gives the sub-pixel peak. The peak's strength is
   its height in standard deviations of the correlation surface: unrelated content peaks at 4 to 6 in a
   256-pixel window, so a window below :attr:`ShiftSettings.min_strength` (7) is "weak".
5. **Range.** A window measures shifts up to ``W / 4`` pixels on each axis (beyond, the windows' common part
   shrinks and the taper hides it); a clear peak further away is "out_of_range". Content more than ``W / 2``
   apart no longer correlates and reads as unrelated.
6. **Vote.** Around the median of the measured windows, a window agrees when it lies within three scaled
   MADs (at least :data:`AGREE_FLOOR_PX`, at most :data:`AGREE_CEIL_PX`) on each axis ("kept", else
   "outlier"). The estimate is the mean of the agreeing windows; it is reliable when at least
   :attr:`ShiftSettings.min_windows` and more than half the measured windows agree.

Sign convention
---------------
``dx_px > 0``: the other raster's content lies ``dx_px`` output pixels to the **east** of the reference's;
``dy_px > 0``: ``dy_px`` output pixels to the **south** (rows grow southwards, as in a geotransform). A
feature at the reference's pixel ``(col, row)`` is at the other's ``(col + dx_px, row + dy_px)``. In CRS units
the shift is ``dx = dx_px * grid.dx`` (east) and ``dy = dy_px * grid.dy`` (``grid.dy`` is negative: ``dy`` is
positive northwards). Moving the other raster's georeference by ``(-dx, -dy)`` aligns it
(:func:`corrected_transform`).

Distances on the ground: in a projected CRS, ``dx_m`` and ``dy_m`` are the shift in metres of the CRS's plane
(its linear unit, no scale factor); in a geographic CRS, metres on the ellipsoid at the grid centre's latitude
(meridian and prime-vertical radii of curvature); None without a CRS or in a local one.

Measured accuracy (tests/test_shift.py), RMSE over 0.1 to 3 px shifts: 0.003 px on band-limited 1/f textures
with 2 % sensor noise, 0.013 px with 30 % of the overlap under cloud, 0.003 px on an aliasing sensor (pixels
averaging finer ground), 0.004 px for a raster off the grid's lattice read through its Lanczos warp.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import math
from dataclasses import dataclass, field

import numpy as np
from osgeo import gdal

from overlap_clip_plugin.core.crs import transformation
from overlap_clip_plugin.core.errors import UnsupportedOptionError, WriteError, translatable
from overlap_clip_plugin.core.executors import InlineExecutor, Progress, pieces
from overlap_clip_plugin.core.gdalenv import bounded_cache, gdal_mode
from overlap_clip_plugin.core.grid import GeoTransform, Grid, Window
from overlap_clip_plugin.core.qa import clear_on_window
from overlap_clip_plugin.core.raster import RasterInfo, Read
from overlap_clip_plugin.core.validity import CommonMask, MaskFile
from overlap_clip_plugin.core.views import ALL_CPUS, source_view

#: The smallest window worth correlating (pixels a side).
MIN_WINDOW_SIZE = 32
#: A window is flat when a raster's standard deviation there is below this share of its mean's magnitude.
FLAT_TOLERANCE = 1e-4
#: The Gaussian (pixels) that feathers the valid mask's edges, after eroding them by about as much.
FEATHER_SIGMA = 4.0
#: The share of a window's side that the Tukey taper rolls off (half at each end).
TUKEY_ALPHA = 0.5
#: The cross-power spectrum rolls off between these frequencies (cycles per pixel): above them sensors alias and
#: noise dominates, and whitened they pull the peak towards whole pixels.
LOW_PASS = (0.15, 0.3)
#: The sub-pixel peak is found on a lattice of 1/UPSAMPLING pixel.
UPSAMPLING = 100
#: The bounds of the agreement tolerance around the windows' median (pixels, each axis).
AGREE_FLOOR_PX = 0.1
AGREE_CEIL_PX = 1.0

#: What became of a window: its shift counts; it disagrees with the others; too few valid pixels; no texture;
#: no clear correlation peak; a clear peak beyond what the window measures; a peak not yet voted on.
KEPT, OUTLIER, INVALID, FLAT, WEAK, OUT_OF_RANGE, MEASURED = (
    "kept",
    "outlier",
    "invalid",
    "flat",
    "weak",
    "out_of_range",
    "measured",
)

#: Why an estimate is unreliable, one sentence each ({named} fields; distances carry their unit).
TOO_SMALL = translatable(
    "The common area ({width} x {height} pixels) is too small to estimate a shift: it needs at least {size} x "
    "{size} pixels."
)
TOO_LITTLE_VALID = translatable(
    "Too little valid overlap to estimate a shift: none of the {total} windows of {size} x {size} pixels has "
    "at least {percent}% of its pixels valid in both rasters."
)
FLAT_CONTENT = translatable(
    "The content is too flat to estimate a shift: none of the {usable} windows with valid data shows texture in "
    "both rasters."
)
NO_MATCH = translatable(
    "The rasters' content does not match: none of the {usable} windows with texture shows a clear correlation "
    "peak (unrelated images, too much change, or a shift of more than {unmatched} pixels)."
)
DISAGREE = translatable(
    "The windows disagree on the shift: {agreeing} of the {measured} measured windows agree within {tolerance} "
    "pixels, and {needed} must."
)
OUT_OF_RANGE_SHIFT = translatable(
    "The rasters are shifted by more than the estimate can measure, {largest} pixels ({distance}) on each axis; "
    "register them roughly first."
)
#: The sentence of a cancel while the windows are correlated.
SHIFT_CANCELLED = translatable("Cancelled while estimating the shift between the rasters; nothing was written.")


@dataclass(frozen=True)
class ShiftSettings:
    """What :func:`estimate_shift` reads and how strict it is (see the module's docstring)."""

    band: int = 1
    window_size: int = 256
    windows_per_axis: int = 5
    resampling: str = "lanczos"
    min_valid: float = 0.5
    min_strength: float = 7.0
    min_windows: int = 3


@dataclass(frozen=True)
class WindowShift:
    """One window's measurement: its centre (CRS coordinates), the shift it found (output pixels, the module's
    sign convention; None where not measured), the peak's strength and what became of it (:data:`KEPT`, ...)."""

    window: Window
    x: float
    y: float
    dx_px: float | None
    dy_px: float | None
    strength: float
    status: str


@dataclass(frozen=True)
class ShiftEstimate:
    """The shift of the other raster's content against the reference's on ``grid`` (the module's sign
    convention), or why none can be given (``reliable`` False, ``reason`` one sentence, shifts None)."""

    reliable: bool
    grid: Grid
    dx_px: float | None
    dy_px: float | None
    #: In the grid CRS's units: ``dx`` eastwards, ``dy`` northwards, ``shift`` their length.
    dx: float | None
    dy: float | None
    shift: float | None
    #: In metres on the ground (see the module's docstring); None without a CRS.
    dx_m: float | None
    dy_m: float | None
    shift_m: float | None
    windows_used: int
    windows_total: int
    #: The RMS distance of the agreeing windows from the estimate (output pixels).
    spread_px: float | None
    window_size: int
    #: The largest shift a window measures, on each axis (output pixels).
    max_shift_px: float
    windows: tuple[WindowShift, ...] = ()
    reason_template: str = ""
    reason_fields: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def reason(self) -> str:
        """Why the estimate is unreliable, in English ("" when it is reliable)."""
        return self.reason_template.format(**self.reason_fields)


def window_size_for(grid: Grid, settings: ShiftSettings) -> int:
    """The side of the windows on ``grid``: the largest power of two at most ``settings.window_size`` and
    half the grid's shorter side; 0 when that is below :data:`MIN_WINDOW_SIZE`."""
    limit = min(settings.window_size, min(grid.width, grid.height) // 2)
    size = 1 << (limit.bit_length() - 1) if limit > 0 else 0
    return size if size >= MIN_WINDOW_SIZE else 0


def windows_on(grid: Grid, size: int, per_axis: int) -> list[Window]:
    """Up to ``per_axis`` x ``per_axis`` windows of ``size`` pixels evenly spread over ``grid``, overlapping by
    at most half a window, row by row from the north-west."""

    def offsets(extent: int) -> list[int]:
        count = min(per_axis, 1 + (extent - size) // (size // 2))
        if count <= 1:
            return [(extent - size) // 2]
        return [round(index * (extent - size) / (count - 1)) for index in range(count)]

    return [Window(col, row, size, size) for row in offsets(grid.height) for col in offsets(grid.width)]


def _sub_read(read: Read, window: Window) -> Read:
    """How ``read``'s raster is seen on the block ``window`` of its grid."""
    if read.window is None:
        return read
    return Read(
        read.raster,
        Window(read.window.col_off + window.col_off, read.window.row_off + window.row_off, window.width, window.height),
    )


def _band(read: Read, grid: Grid, settings: ShiftSettings, threads: str) -> np.ndarray:
    """The chosen band of ``read``'s raster on ``grid`` (a window's grid), as float64."""
    view = source_view(read.raster, grid, read.window, settings.resampling, threads)
    values = view.GetRasterBand(settings.band).ReadAsArray()
    return np.real(values).astype(np.float64)


def _inside(read: Read) -> bool:
    """Whether ``read`` is a block of its raster's own pixels that lies wholly inside the raster."""
    window, raster = read.window, read.raster
    return (
        window is not None
        and not raster.warped
        and window.col_off >= 0
        and window.row_off >= 0
        and window.col_off + window.width <= raster.grid.width
        and window.row_off + window.height <= raster.grid.height
    )


def _block(read: Read, settings: ShiftSettings, masks: bool) -> tuple[np.ndarray, np.ndarray]:
    """The chosen band of a block inside its raster (:func:`_inside`), as float64, and where every band is
    valid (with ``masks``; else all True; clear too, for a raster with a clear-sky rule): what the views give,
    read straight from the raster (one open, no VRT)."""
    window = read.window
    assert window is not None
    dataset = read.raster.open()
    area = (window.col_off, window.row_off, window.width, window.height)
    values = dataset.GetRasterBand(settings.band).ReadAsArray(*area)
    valid = np.ones((window.height, window.width), dtype=bool)
    for index in range(1, dataset.RasterCount + 1 if masks else 1):
        mask = dataset.GetRasterBand(index).GetMaskBand().ReadAsArray(*area)
        if mask is None:
            values = None
            break
        valid &= mask != 0
    if values is None:
        raise WriteError(
            "Cannot read a window of '{name}': {reason}", name=read.raster.name, reason=gdal.GetLastErrorMsg()
        )
    if masks and read.raster.qa is not None:
        # Valid as the common mask sees it: clouds and their shadows are no content to match.
        valid &= clear_on_window(read.raster.qa, read.raster, window)
    return np.real(values).astype(np.float64), valid


def _window_values(
    reads: tuple[Read, Read], grid: Grid, settings: ShiftSettings, kept: MaskFile | None, threads: str
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray]:
    """Both rasters' chosen band on a window's ``grid`` and where both are valid (from ``kept`` when given).
    The bands are None when too little is valid to read them."""
    if all(_inside(read) for read in reads):
        (first, first_valid), (second, second_valid) = (_block(read, settings, kept is None) for read in reads)
        valid = kept.read(grid, 0, grid.height) if kept is not None else first_valid & second_valid
        return first, second, valid
    valid = kept.read(grid, 0, grid.height) if kept is not None else CommonMask(list(reads), grid).read(0, grid.height)
    if valid.mean() < settings.min_valid:
        return None, None, valid
    return _band(reads[0], grid, settings, threads), _band(reads[1], grid, settings, threads), valid


def window_shift(
    reference: Read,
    other: Read,
    grid: Grid,
    window: Window,
    settings: ShiftSettings,
    kept: MaskFile | None = None,
    threads: str = ALL_CPUS,
) -> WindowShift:
    """A piece of the estimate: the shift of ``other`` against ``reference`` in the block ``window`` of
    ``grid`` (status :data:`MEASURED` when its peak is clear and in range)."""
    sub = grid.subgrid(window)
    x, y = sub.x0 + sub.width * sub.dx / 2.0, sub.y0 + sub.height * sub.dy / 2.0
    reads = (_sub_read(reference, window), _sub_read(other, window))
    first, second, valid = _window_values(reads, sub, settings, kept, threads)
    if first is None or second is None or valid.mean() < settings.min_valid:
        return WindowShift(window, x, y, None, None, 0.0, INVALID)
    valid &= np.isfinite(first) & np.isfinite(second)
    if valid.mean() < settings.min_valid:
        return WindowShift(window, x, y, None, None, 0.0, INVALID)
    if _flat(first[valid]) or _flat(second[valid]):
        return WindowShift(window, x, y, None, None, 0.0, FLAT)
    weight = _weight(valid)
    dx_px, dy_px, strength = phase_shift(_prepared(first, weight), _prepared(second, weight))
    largest = window.width / 4.0
    if strength < settings.min_strength:
        status = WEAK
    elif abs(dx_px) > largest or abs(dy_px) > largest:
        status = OUT_OF_RANGE
    else:
        status = MEASURED
    return WindowShift(window, x, y, dx_px, dy_px, strength, status)


def _flat(values: np.ndarray) -> bool:
    """Whether ``values`` vary too little to correlate."""
    return bool(values.std() <= FLAT_TOLERANCE * max(abs(float(values.mean())), 1e-30))


def _tukey(length: int) -> np.ndarray:
    """A Tukey (tapered cosine) window of ``length`` samples rolling off :data:`TUKEY_ALPHA` of them."""
    position = np.linspace(0.0, 1.0, length)
    edge = TUKEY_ALPHA / 2.0
    distance = np.minimum(position, 1.0 - position)
    return np.where(distance < edge, 0.5 * (1.0 - np.cos(np.pi * distance / edge)), 1.0)


def _blurred(values: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` convolved with a Gaussian of ``sigma`` pixels (edges repeated outwards)."""
    radius = int(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(values, radius, mode="edge")
    rows, cols = values.shape
    across = sum(kernel[i] * padded[:, i : i + cols] for i in range(kernel.size))
    return np.asarray(sum(kernel[i] * across[i : i + rows, :] for i in range(kernel.size)))


def _weight(valid: np.ndarray) -> np.ndarray:
    """The weight both images of a window take: the valid mask eroded and feathered, times a Tukey taper."""
    mask = valid.astype(np.float64)
    if not valid.all():
        # 2 * blur - 1 falls to 0 about one sigma inside the mask's edge: no invalid pixel weighs anything.
        mask = np.clip(2.0 * _blurred(mask, FEATHER_SIGMA) - 1.0, 0.0, 1.0) * valid
    return mask * np.outer(_tukey(valid.shape[0]), _tukey(valid.shape[1]))


def _prepared(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``values`` minus their weighted mean, times ``weight`` (invalid pixels weigh 0, whatever they hold)."""
    total = weight.sum()
    safe = np.where(weight > 0, values, 0.0)
    mean = (safe * weight).sum() / total if total > 0 else 0.0
    return (safe - mean) * weight


@functools.lru_cache(maxsize=8)
def _low_pass(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weight of each frequency of a half spectrum (1 up to the first of :data:`LOW_PASS`, a raised cosine
    down to 0 at the second), and the rows and columns where any weight is not 0 (the rest count for nothing)."""
    along_y, along_x = np.fft.fftfreq(rows, 1.0), np.fft.rfftfreq(cols, 1.0)
    frequency = np.hypot(along_y[:, None], along_x[None, :])
    start, stop = LOW_PASS
    weight = np.sin(np.clip((stop - frequency) / (stop - start), 0.0, 1.0) * np.pi / 2.0) ** 2
    weight.flags.writeable = False  # shared by every call with this shape
    return weight, np.flatnonzero(np.abs(along_y) < stop), np.flatnonzero(along_x < stop)


def phase_shift(reference: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """``(dx, dy, strength)``: where ``other``'s content lies against ``reference``'s (pixels east, south),
    to 1/:data:`UPSAMPLING` pixel, and the correlation peak's height in standard deviations of the surface."""
    rows, cols = reference.shape
    # Real images: half the spectrum says it all (the other half is its complex conjugate).
    product = np.fft.rfft2(other) * np.conj(np.fft.rfft2(reference))
    magnitude = np.abs(product)
    # Frequencies that hold (almost) nothing in either image would become unit-size noise once normalised.
    low_pass, support_rows, support_cols = _low_pass(rows, cols)
    spectrum = product / (magnitude + 1e-9 * magnitude.max() + 1e-300) * low_pass
    surface = np.fft.irfft2(spectrum, s=(rows, cols))
    spread = surface.std()
    peak_row, peak_col = np.unravel_index(int(np.argmax(surface)), surface.shape)
    strength = float((surface[peak_row, peak_col] - surface.mean()) / spread) if spread > 0 else 0.0
    # Whole-pixel peak, wrapped to -N/2 .. N/2.
    fine_dy = float(peak_row - rows if peak_row > rows // 2 else peak_row)
    fine_dx = float(peak_col - cols if peak_col > cols // 2 else peak_col)
    # The surface between pixels is the inverse DFT of the half spectrum, each column but the first (and the
    # last, for an even width) counted twice for its conjugate, over the frequencies the low-pass keeps (the
    # others weigh exactly 0): at 1/10 pixel within 1.5 pixels of the peak, then at 1/UPSAMPLING pixel within 0.15.
    twice = np.full(spectrum.shape[1], 2.0)
    twice[0] = 1.0
    if cols % 2 == 0:
        twice[-1] = 1.0
    weighted = (spectrum * twice)[np.ix_(support_rows, support_cols)]
    frequencies_y = np.fft.fftfreq(rows, 1.0)[support_rows]
    frequencies_x = np.fft.rfftfreq(cols, 1.0)[support_cols]
    for step, reach in ((0.1, 1.5), (1.0 / UPSAMPLING, 0.15)):
        steps = np.arange(-round(reach / step), round(reach / step) + 1) * step
        along_y = np.exp(2j * np.pi * np.outer(fine_dy + steps, frequencies_y))
        along_x = np.exp(2j * np.pi * np.outer(fine_dx + steps, frequencies_x))
        # Not matmul: a threaded BLAS (Debian's OpenBLAS) would start threads for these small products that
        # then spin on the other cores, where the outputs are being written (twice the CPU time, measured).
        fine = np.einsum("ij,jk->ik", along_y, np.einsum("ij,kj->ik", weighted, along_x)).real
        fine_row, fine_col = np.unravel_index(int(np.argmax(fine)), fine.shape)
        fine_dx, fine_dy = fine_dx + float(steps[fine_col]), fine_dy + float(steps[fine_row])
    return fine_dx, fine_dy, strength


def check_band(raster: RasterInfo, band: int) -> None:
    """Refuse a raster without the band the estimate reads (UnsupportedOptionError)."""
    if not 1 <= band <= len(raster.bands):
        raise UnsupportedOptionError(
            "'{name}' has {count} bands, so no band {band} to estimate a shift on.",
            name=raster.name,
            count=len(raster.bands),
            band=band,
        )


@gdal_mode()
@bounded_cache()
def estimate_shift(
    reference: Read,
    other: Read,
    grid: Grid,
    settings: ShiftSettings | None = None,
    kept: MaskFile | None = None,
    progress: Progress | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> ShiftEstimate:
    """The global shift of ``other``'s content against ``reference``'s on ``grid`` (see the module's docstring).

    Parameters
    ----------
    reference, other
        How each raster is read on ``grid`` (``Read.on(raster, grid)``, or a plan's output read).
    grid
        The output grid both are seen on; the shift is in its pixels and its CRS.
    settings
        Band, window size and thresholds (:class:`ShiftSettings` defaults when None).
    kept
        The run's common valid mask on ``grid``'s lattice, if it has one; else the rasters' masks are read.
    progress, executor
        The progress rule of :mod:`~overlap_clip_plugin.core.executors` (False cancels, raising
        CancelledError); one window a piece, on this thread without an executor.

    Returns
    -------
    ShiftEstimate
        Reliable with the shift, or unreliable with one sentence saying why.

    Raises
    ------
    UnsupportedOptionError
        A raster has no band ``settings.band``.
    CancelledError
        ``progress`` cancelled.
    """
    settings = settings or ShiftSettings()
    for read in (reference, other):
        check_band(read.raster, settings.band)
    size = window_size_for(grid, settings)
    largest = size / 4.0
    if size == 0:
        fields: dict[str, object] = {"width": grid.width, "height": grid.height, "size": 2 * MIN_WINDOW_SIZE}
        return _unreliable(grid, 0, largest, (), TOO_SMALL, fields)
    windows = windows_on(grid, size, settings.windows_per_axis)
    executor = executor or InlineExecutor()
    threads = ALL_CPUS if isinstance(executor, InlineExecutor) else "1"
    arguments = [(reference, other, grid, window, settings, kept, threads) for window in windows]
    measured = pieces(executor, window_shift, arguments, progress, SHIFT_CANCELLED)
    with contextlib.closing(measured):
        found = list(measured)
    return _voted(grid, size, found, settings)


def _unreliable(
    grid: Grid, size: int, largest: float, found: tuple[WindowShift, ...], template: str, fields: dict[str, object]
) -> ShiftEstimate:
    return ShiftEstimate(
        False, grid, None, None, None, None, None, None, None, None, 0, len(found), None, size, largest, found,
        template, fields,
    )  # fmt: skip


def _voted(grid: Grid, size: int, found: list[WindowShift], settings: ShiftSettings) -> ShiftEstimate:
    """The estimate from every window's measurement: the robust vote of the module's docstring."""
    largest = size / 4.0
    total = len(found)
    usable = [one for one in found if one.status != INVALID]
    textured = [one for one in usable if one.status != FLAT]
    if not usable:
        fields: dict[str, object] = {"total": total, "size": size, "percent": round(100 * settings.min_valid)}
        return _unreliable(grid, size, largest, tuple(found), TOO_LITTLE_VALID, fields)
    if not textured:
        return _unreliable(grid, size, largest, tuple(found), FLAT_CONTENT, {"usable": len(usable)})
    measured = [one for one in found if one.status == MEASURED]
    beyond = [one for one in found if one.status == OUT_OF_RANGE]
    if not measured and not beyond:
        fields = {"usable": len(textured), "unmatched": size // 2}
        return _unreliable(grid, size, largest, tuple(found), NO_MATCH, fields)
    if len(beyond) >= len(measured):
        fields = {"largest": _number(largest), "distance": _distance(grid, largest)}
        return _unreliable(grid, size, largest, tuple(found), OUT_OF_RANGE_SHIFT, fields)
    shifts = np.array([(one.dx_px, one.dy_px) for one in measured], dtype=np.float64)
    median = np.median(shifts, axis=0)
    mad = np.median(np.abs(shifts - median), axis=0)
    tolerance = np.clip(3.0 * 1.4826 * mad, AGREE_FLOOR_PX, AGREE_CEIL_PX)
    agrees = np.all(np.abs(shifts - median) <= tolerance, axis=1)
    keep = {id(one) for one, agreed in zip(measured, agrees) if agreed}
    voted = tuple(
        WindowShift(one.window, one.x, one.y, one.dx_px, one.dy_px, one.strength, KEPT if id(one) in keep else OUTLIER)
        if one.status == MEASURED
        else one
        for one in found
    )
    agreeing = int(agrees.sum())
    needed = max(settings.min_windows, len(measured) // 2 + 1)
    if agreeing < needed:
        fields = {
            "agreeing": agreeing,
            "measured": len(measured),
            "tolerance": _number(float(tolerance.max())),
            "needed": needed,
        }
        return _unreliable(grid, size, largest, voted, DISAGREE, fields)
    dx_px, dy_px = (float(value) for value in shifts[agrees].mean(axis=0))
    spread = float(np.sqrt(np.mean(np.sum((shifts[agrees] - (dx_px, dy_px)) ** 2, axis=1))))
    dx, dy = dx_px * grid.dx, dy_px * grid.dy
    ground = _metres(grid, dx, dy)
    return ShiftEstimate(
        True,
        grid,
        dx_px,
        dy_px,
        dx,
        dy,
        math.hypot(dx, dy),
        ground[0] if ground else None,
        ground[1] if ground else None,
        math.hypot(*ground) if ground else None,
        agreeing,
        total,
        spread,
        size,
        largest,
        voted,
    )


def _number(value: float) -> str:
    return f"{value:.6g}"


def _distance(grid: Grid, pixels: float) -> str:
    """``pixels`` of ``grid`` along x, in metres where known, else in the CRS's units (degrees also in metres)."""
    crs = grid.crs
    along = pixels * grid.dx
    ground = _metres(grid, along, 0.0)
    if crs is not None and crs.is_geographic:
        metres = f", {_number(ground[0])} m" if ground else ""
        return f"{_number(along)}°{metres}"
    return f"{_number(ground[0])} m" if ground else f"{_number(along)} " + translatable("map units")


def _metres(grid: Grid, dx: float, dy: float) -> tuple[float, float] | None:
    """The CRS shift ``(dx, dy)`` on ``grid`` in metres (the module's docstring says how); None where unknown."""
    crs = grid.crs
    if crs is None:
        return None
    srs = crs.srs
    if not crs.is_geographic:
        unit = srs.GetLinearUnits()
        return (dx * unit, dy * unit) if unit and not srs.IsLocal() else None
    semi_major = srs.GetSemiMajor()
    inverse_flattening = srs.GetInvFlattening()
    flattening = 1.0 / inverse_flattening if inverse_flattening else 0.0
    eccentricity2 = flattening * (2.0 - flattening)
    # The CRS's angular unit in radians (a degree's, usually; a grad-based CRS has another).
    radians = srs.GetAngularUnits()
    latitude = (grid.y0 + grid.height * grid.dy / 2.0) * radians
    sin2 = math.sin(latitude) ** 2
    prime_vertical = semi_major / math.sqrt(1.0 - eccentricity2 * sin2)
    meridian = semi_major * (1.0 - eccentricity2) / (1.0 - eccentricity2 * sin2) ** 1.5
    return dx * radians * prime_vertical * math.cos(latitude), dy * radians * meridian


def corrected_transform(raster: RasterInfo, estimate: ShiftEstimate) -> GeoTransform:
    """The geotransform that moves ``raster`` (the estimate's other raster) onto the reference: its own
    geotransform moved by minus the estimated shift.

    In the estimate grid's CRS the move is ``(-dx, -dy)`` exactly; a raster in another CRS moves by that shift
    carried into its CRS at the grid's centre (a translation, true near the centre).

    Raises
    ------
    UnsupportedOptionError
        The estimate is unreliable, or the raster is placed by GCPs, RPCs or a rotated geotransform (moving a
        geotransform cannot correct it), or one of the raster and the grid has a CRS and the other none.
    """
    if not estimate.reliable or estimate.dx is None or estimate.dy is None:
        raise UnsupportedOptionError(
            "The shift of '{name}' cannot be corrected: {reason}", name=raster.name, reason=estimate.reason
        )
    if raster.warped:
        raise UnsupportedOptionError(
            "'{name}' is placed by {how}, not by a north-up geotransform: correct its shift by warping it instead.",
            name=raster.name,
            how=raster.georeference,
        )
    grid = estimate.grid
    dx, dy = estimate.dx, estimate.dy
    if raster.crs != grid.crs:
        if raster.crs is None or grid.crs is None:
            raise UnsupportedOptionError(
                "The shift of '{name}' cannot be carried into its CRS: one of it and the grid has no CRS.",
                name=raster.name,
            )
        to_raster = transformation(grid.crs, raster.crs, "", raster.name)
        centre_x, centre_y = grid.x0 + grid.width * grid.dx / 2.0, grid.y0 + grid.height * grid.dy / 2.0
        start = to_raster.TransformPoint(centre_x, centre_y)
        end = to_raster.TransformPoint(centre_x + dx, centre_y + dy)
        dx, dy = end[0] - start[0], end[1] - start[1]
    x0, pixel_width, row_rotation, y0, column_rotation, pixel_height = raster.grid.transform
    return (x0 - dx, pixel_width, row_rotation, y0 - dy, column_rotation, pixel_height)
