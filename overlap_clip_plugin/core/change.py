"""The change map of two rasters on one grid (issue 22): where the second date differs from the first.

The inputs are a pair that already lies on one grid (same size, geotransform and CRS: the clipped pair the
plugin writes). Each pixel of the map is 1 (change), 0 (no change) or 255 (nodata: outside the common valid
area). A pixel is valid where both rasters are valid in every band (GDAL's masks, so nodata too; or the caller's
kept common mask, :class:`~overlap_clip_plugin.core.validity.MaskFile`) and the compared bands hold finite
values. Invalid pixels are nodata in the map and count in no fit and no threshold.

The difference
--------------
``d_b = second_b - first_b`` for each compared band ``b`` (:attr:`ChangeSettings.bands`, every band by default),
in the bands' own units: the dates must be radiometrically comparable (one sensor, or a normalised pair) and
registered (see :mod:`~overlap_clip_plugin.core.shift`).

The methods
-----------
- :data:`PCA_KMEANS`, after Celik (2009, IEEE GRSL 6(4), 772-776). The difference image is the magnitude
  ``sqrt(sum_b d_b**2)``: with one band it is Celik's absolute difference ``|d|``; with several it keeps his
  vectors ``h * h`` long whatever the band count and keeps his rule "the cluster of larger mean difference is
  change" one number per pixel (stacking the bands' differences would weigh each band by its own units in the
  PCA instead). As in the paper, the principal components are fitted on **non-overlapping** ``h x h`` blocks
  of the difference image (blocks on the lattice of multiples of ``h`` from the grid's corner, every pixel
  valid), and each pixel's feature vector is its own ``h x h`` **neighbourhood** (``h`` odd, so that the pixel
  is its centre) projected onto the leading ``S`` components (:attr:`ChangeSettings.components`). A neighbour
  that is invalid or outside the grid takes the blocks' mean there: it adds nothing to the projection. The
  feature vectors are split in two by k-means; the cluster whose pixels have the larger mean difference is
  change.
- :data:`MAGNITUDE`: change-vector analysis, the same magnitude over the compared bands, above a threshold.
- :data:`DIFFERENCE`: one band's ``d`` (:attr:`ChangeSettings.direction`: ``|d|``, ``d`` or ``-d``) above a
  threshold.

The threshold of the last two is :attr:`ChangeSettings.threshold`, or Otsu's (the between-class variance's
maximum over a 256-bin histogram) on the pixel sample below: an exact histogram would need a pass of its own to
learn its range first.

Bounded memory
--------------
Two passes over the grid, strip by strip, each strip a piece for the executor
(:mod:`~overlap_clip_plugin.core.executors`), reading its rows and a halo of ``h // 2`` rows each side. The first
pass samples: up to :attr:`ChangeSettings.block_samples` whole blocks (for the PCA) and up to
:attr:`ChangeSettings.pixel_samples` valid pixels with their neighbourhoods (for k-means and Otsu), each the
ones of lowest random priority over the whole grid (a bottom-k sample: uniform over the valid area, the same
whatever the order the strips come back in; each strip's priorities come from the seed and its first row). A
strip hands back only the pixels and blocks whose priority lies under :data:`OVERSAMPLE` times the share of the
grid's pixels (blocks) a sample takes: the k lowest overall whenever the valid area holds more than
1 / :data:`OVERSAMPLE` of the grid (``area="valid"`` shrinks the grid to it), a smaller uniform sample otherwise,
and never k neighbourhoods from every strip of a large grid. The fits are made on the samples; the second
pass labels each strip and returns it to be written here, so memory holds a few strips and the samples, never
the raster's vectors: a pass lets the workers run only :data:`AHEAD` strips each beyond those written, however
slowly the outputs are compressed. Labelling needs no feature vector either: "nearer the change centre" is
linear in the neighbourhood's values (:func:`nearer_centre_model`), one weighted sum of ``h * h`` neighbours
a pixel. The quantity is computed once: the sampling pass hands back each strip's (rounded to
Float32, as both passes then see it) and it is kept beside the outputs, uncompressed, for the labelling pass to
read instead of every compared band of both rasters. The outputs are written strip by strip in order, each
strip a strip of the GeoTIFF flushed at once, so that their bytes never depend on when GDAL's cache writes a
block. A seed gives the same bytes on any executor: every float operation a pixel goes through is the same, in
the same order.

Outputs are written in a hidden staging folder beside each and moved into place only when all are complete,
by the commit of :mod:`~overlap_clip_plugin.core.write`: with the clipped pair, in the one run
(:func:`~overlap_clip_plugin.core.run.run_clip` with ``change``); on a failure or a cancel nothing is left.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from osgeo import gdal

from overlap_clip_plugin.core.errors import (
    ChangeInputError,
    OutputFormatError,
    OutputPathError,
    UnsupportedOptionError,
    WriteError,
    translatable,
)
from overlap_clip_plugin.core.executors import InlineExecutor, Progress, pieces, workers
from overlap_clip_plugin.core.gdalenv import bounded_cache, gdal_call, gdal_mode, gdal_warnings, quiet_gdal
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.measure import pixel_areas
from overlap_clip_plugin.core.plan import check_output_paths
from overlap_clip_plugin.core.raster import RasterInfo, Read, read_raster
from overlap_clip_plugin.core.scratch import scratch_folder
from overlap_clip_plugin.core.validity import CommonMask, MaskFile, strips
from overlap_clip_plugin.core.views import set_georeference
from overlap_clip_plugin.core.write import commit, staged, staged_path

#: The methods (:attr:`ChangeSettings.method`).
PCA_KMEANS, MAGNITUDE, DIFFERENCE = "pca_kmeans", "magnitude", "difference"
METHODS = (PCA_KMEANS, MAGNITUDE, DIFFERENCE)
#: What the plain difference thresholds: ``|d|``, ``d`` (the second date brighter) or ``-d`` (darker).
BOTH, INCREASE, DECREASE = "both", "increase", "decrease"
DIRECTIONS = (BOTH, INCREASE, DECREASE)

#: The change map's values.
CHANGE, NO_CHANGE, NODATA = 1, 0, 255
#: Bins of Otsu's histogram.
OTSU_BINS = 256
#: k-means: starts (k-means++ seeding, the lowest inertia kept) and Lloyd iterations at most per start.
KMEANS_STARTS = 4
KMEANS_ITERATIONS = 300
#: k-means stops once its centres move by no more than this share of the points' mean variance per feature.
KMEANS_TOLERANCE = 1e-4

CHANGE_CANCELLED = translatable("Cancelled while mapping change; nothing was written.")
#: The outputs' compression: DEFLATE at its fastest level (ten times faster than the default level on a map
#: of scattered change, 20% larger; on a map of patches the sizes are alike).
DEFLATE_FAST = ("COMPRESS=DEFLATE", "ZLEVEL=1")
#: How many times its share of the grid a strip's samples may take, at most (see the module's docstring).
OVERSAMPLE = 4.0
#: Strips a pass lets each worker compute beyond those written: the strips waiting in memory are bounded
#: whatever the speed of the writing (on this thread) against the workers'.
AHEAD = 2
#: The sampling pass merges the strips' samples when they hold this many times a sample of pixels.
MERGE_AT = 4
#: The share of the progress the sampling pass takes (the labelling pass takes the rest).
SAMPLING_SHARE = 0.4


@dataclass(frozen=True)
class ChangeSettings:
    """How :func:`change_map` compares the dates (see the module's docstring)."""

    method: str = PCA_KMEANS
    #: The bands compared (1-based, the same in both rasters); None: every band (the plain difference: band 1).
    bands: tuple[int, ...] | None = None
    #: Celik's ``h``: the side of the blocks and neighbourhoods (odd pixels).
    block_size: int = 5
    #: Celik's ``S``: the principal components kept.
    components: int = 3
    #: The change threshold of MAGNITUDE and DIFFERENCE, in the bands' units; None: Otsu's.
    threshold: float | None = None
    direction: str = BOTH
    seed: int = 0
    block_samples: int = 20_000
    pixel_samples: int = 100_000
    #: Fewer valid blocks (PCA) or pixels (Otsu) than this: too small a common valid area to fit.
    min_samples: int = 200


@dataclass(frozen=True)
class ChangeRequest:
    """A change map asked of a run of two rasters (:func:`~overlap_clip_plugin.core.run.run_clip`'s
    ``change``): written at ``output`` (and the magnitude at ``magnitude``) from the clipped pair, in the
    run's commit."""

    output: str
    settings: ChangeSettings = ChangeSettings()
    magnitude: str | None = None

    @property
    def outputs(self) -> list[str]:
        """The files it writes: the map, then the magnitude if it is wanted."""
        return [self.output] if self.magnitude is None else [self.output, self.magnitude]


@dataclass(frozen=True)
class ChangeResult:
    """What :func:`change_map` wrote and found."""

    path: str
    magnitude_path: str | None
    method: str
    changed: int
    valid: int
    #: Changed pixels in percent of the valid ones (None without a valid pixel).
    changed_percent: float | None
    #: Changed area in square metres on the CRS's ellipsoid (:func:`~overlap_clip_plugin.core.measure.pixel_areas`);
    #: None without a CRS.
    changed_area_m2: float | None
    #: The threshold used (MAGNITUDE and DIFFERENCE).
    threshold: float | None = None
    #: PCA_KMEANS: the share of the blocks' variance the kept components hold.
    explained: float | None = None
    #: The bands compared (1-based).
    bands: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Model:
    """What the labelling pass needs: a pixel is change where its score lies above ``threshold``. The score of
    MAGNITUDE and DIFFERENCE is the quantity itself; that of PCA_KMEANS is ``sum_o weights[o] * (value_o -
    mean[o])`` over the pixel's neighbourhood (see :func:`_fitted`)."""

    threshold: float
    weights: np.ndarray | None = None
    mean: np.ndarray | None = None
    #: PCA_KMEANS: the Float32 the weighted sum of a pixel's values is compared with, computed once (here, not on
    #: every worker) so that every strip compares with the same number.
    cut: np.float32 | None = None


@dataclass(frozen=True)
class _Job:
    """What every piece of a change map reads: the two rasters on their grid, the settings, the bands
    compared and the kept common mask, if any."""

    reads: tuple[Read, Read]
    grid: Grid
    settings: ChangeSettings
    bands: tuple[int, ...]
    kept: MaskFile | None
    #: The labelling pass: the quantity the sampling pass wrote (Float32, NaN where invalid), read, not computed.
    quantity: str | None = None

    @property
    def halo(self) -> int:
        """The rows (and columns) each side of a strip that its pixels' neighbourhoods reach."""
        return self.settings.block_size // 2 if self.settings.method == PCA_KMEANS else 0


@dataclass(frozen=True)
class _Sample:
    """A strip's bottom-k samples: priorities and values of pixels (and their neighbourhoods) and of blocks."""

    valid: int
    pixel_priority: np.ndarray
    pixel_value: np.ndarray
    neighbourhoods: np.ndarray | None
    block_priority: np.ndarray | None
    blocks: np.ndarray | None


def _bands(first: RasterInfo, second: RasterInfo, settings: ChangeSettings) -> tuple[int, ...]:
    """The bands compared, checked against both rasters."""
    bands = settings.bands
    if bands is None:
        if settings.method == DIFFERENCE:
            bands = (1,)
        elif len(first.bands) != len(second.bands):
            raise ChangeInputError(
                "'{first}' has {first_count} bands and '{second}' has {second_count}; choose the bands to compare, "
                "which both must have.",
                first=first.name,
                first_count=len(first.bands),
                second=second.name,
                second_count=len(second.bands),
            )
        else:
            bands = tuple(range(1, len(first.bands) + 1))
    if not bands:
        raise UnsupportedOptionError("Choose at least one band to compare.")
    if settings.method == DIFFERENCE and len(bands) != 1:
        raise UnsupportedOptionError("The plain difference compares one band; {count} were chosen.", count=len(bands))
    for raster in (first, second):
        for band in bands:
            if not 1 <= band <= len(raster.bands):
                raise ChangeInputError(
                    "'{name}' has {count} bands, so no band {band} to compare.",
                    name=raster.name,
                    count=len(raster.bands),
                    band=band,
                )
    return tuple(bands)


def check_settings(settings: ChangeSettings) -> None:
    """Refuse settings that cannot work (UnsupportedOptionError), before any raster is read."""
    if settings.method not in METHODS:
        raise UnsupportedOptionError(
            "Unknown change method '{method}': use {methods}.", method=settings.method, methods=", ".join(METHODS)
        )
    if settings.direction not in DIRECTIONS:
        raise UnsupportedOptionError(
            "Unknown direction '{direction}': use {directions}.",
            direction=settings.direction,
            directions=", ".join(DIRECTIONS),
        )
    size = settings.block_size
    if size < 3 or size % 2 == 0:
        raise UnsupportedOptionError(
            "The block size must be an odd number of pixels, 3 or more; {size} was given.", size=size
        )
    if not 1 <= settings.components <= size * size:
        raise UnsupportedOptionError(
            "The number of principal components must be from 1 to {most} (the pixels of a block); {components} was "
            "given.",
            most=size * size,
            components=settings.components,
        )
    if settings.threshold is not None and not math.isfinite(settings.threshold):
        raise UnsupportedOptionError(
            "The change threshold must be a finite number; {threshold} was given.", threshold=settings.threshold
        )


def _check_grid(first: RasterInfo, second: RasterInfo) -> Grid:
    """The grid both rasters lie on, or ChangeInputError."""
    a, b = first.grid, second.grid
    same = (
        not first.warped
        and not second.warped
        and (a.width, a.height) == (b.width, b.height)
        and a.window_of(b) == Window(0, 0, a.width, a.height)
    )
    if not same:
        raise ChangeInputError(
            "'{first}' ({first_width} x {first_height} pixels, geotransform {first_transform}) and '{second}' "
            "({second_width} x {second_height} pixels, geotransform {second_transform}) do not lie on one grid in "
            "one CRS; clip them as a pair first (Clip raster pair to common area).",
            first=first.name,
            first_width=a.width,
            first_height=a.height,
            first_transform=a.transform,
            second=second.name,
            second_width=b.width,
            second_height=b.height,
            second_transform=b.transform,
        )
    return a


def _check_outputs(output: str, magnitude: str | None, inputs: tuple[str, str], clipped: Sequence[str]) -> None:
    for path in (output, magnitude):
        if path is not None and os.path.splitext(path)[1].lower() not in (".tif", ".tiff"):
            raise OutputFormatError("The change outputs are GeoTIFF files; give '{path}' a .tif extension.", path=path)
    taken = {os.path.realpath(path) for path in inputs}
    for path in (output, magnitude):
        if path is not None and os.path.realpath(path) in taken:
            raise OutputPathError("The output '{path}' would overwrite an input; choose another name.", path=path)
    if magnitude is not None and os.path.realpath(magnitude) == os.path.realpath(output):
        raise OutputPathError(
            "The change map and the magnitude cannot both be written to '{path}'; choose another name.", path=output
        )
    written = {os.path.realpath(path) for path in clipped}
    for path in (output, magnitude):
        if path is not None and os.path.realpath(path) in written:
            raise OutputPathError(
                "The change map, its magnitude and the clipped rasters need files of their own; '{path}' is named "
                "twice.",
                path=path,
            )


def check_change(
    first: RasterInfo,
    second: RasterInfo,
    output: str,
    settings: ChangeSettings,
    magnitude: str | None = None,
    clipped: Sequence[str] = (),
) -> tuple[int, ...]:
    """The bands the change map will compare, checked before anything is written.

    The run that clips the rasters and maps them checks the settings, the bands and the output paths (against
    the inputs and the ``clipped`` outputs) on the original rasters here, so that a bad choice writes nothing.

    Raises
    ------
    ChangeInputError, UnsupportedOptionError, OutputFormatError, OutputPathError
        As :func:`change_map` would.
    """
    check_settings(settings)
    bands = _bands(first, second, settings)
    _check_outputs(output, magnitude, (first.path, second.path), clipped)
    # As every output of a run: not an input, in a folder that exists and takes files.
    check_output_paths([first, second], [*clipped, *ChangeRequest(output, settings, magnitude).outputs])
    return bands


def change_strips(grid: Grid, bands: int, block_size: int) -> list[tuple[int, int]]:
    """``(row_off, rows)`` strips covering ``grid``: about as many pixels as the valid-data scan's strips
    (:func:`~overlap_clip_plugin.core.validity.strips`), each starting on a multiple of ``block_size`` rows so
    that a strip holds whole blocks."""
    rows = next(strips(grid, bands))[1]
    rows = max(block_size, rows // block_size * block_size)
    return [(row_off, min(rows, grid.height - row_off)) for row_off in range(0, grid.height, rows)]


def _difference(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``second - first`` exactly: in 32-bit integers for integer bands of up to 16 bits (a difference of such
    values always fits, and is exact in Float32 too), else in Float64 (the real part of complex values)."""
    if first.dtype.kind in "ui" and second.dtype.kind in "ui" and max(first.itemsize, second.itemsize) <= 2:
        return np.subtract(second, first, dtype=np.int32)
    return np.real(second).astype(np.float64) - np.real(first).astype(np.float64)


def _quantity(job: _Job, row_off: int, rows: int) -> np.ndarray:
    """The per-pixel quantity a method compares (the difference magnitude; the plain difference's ``|d|``,
    ``d`` or ``-d``) on rows ``row_off ..`` of ``grid``, rounded to Float32, NaN where it is not valid or lies
    beyond Float32's range. For integer bands of up to 16 bits the sum of squares is exact (Float64 of the
    differences' squares) before its root is rounded."""
    reads, grid, settings, kept = job.reads, job.grid, job.settings, job.kept
    valid = kept.read(grid, row_off, rows) if kept is not None else CommonMask(list(reads), grid).read(row_off, rows)
    datasets = [read.raster.open() for read in reads]
    total: np.ndarray | None = None
    for band in job.bands:
        values = []
        for dataset, read in zip(datasets, reads):
            array = dataset.GetRasterBand(band).ReadAsArray(0, row_off, grid.width, rows)
            if array is None:
                raise WriteError(
                    "Cannot read band {band} of '{name}': {reason}",
                    band=band,
                    name=read.raster.name,
                    reason=gdal.GetLastErrorMsg(),
                )
            values.append(array)
        difference = _difference(values[0], values[1])
        if difference.dtype.kind == "f":
            finite = np.isfinite(difference)
            valid &= finite
            difference[~finite] = 0.0
        if settings.method == DIFFERENCE:
            if settings.direction == DECREASE:
                np.negative(difference, out=difference)
            elif settings.direction == BOTH:
                np.abs(difference, out=difference)
            total = difference.astype(np.float32)
        else:
            square = np.multiply(difference, difference, dtype=np.float64)
            if total is None:
                total = square
            else:
                total += square
    assert total is not None
    with np.errstate(over="ignore"):
        quantity = total if settings.method == DIFFERENCE else np.sqrt(total, out=total).astype(np.float32)
    # Beyond Float32's range (Float inputs near its limits) a quantity is no number to compare: not valid.
    valid &= np.isfinite(quantity)
    quantity[~valid] = np.nan
    return quantity


def _framed(job: _Job, row_off: int, rows: int) -> np.ndarray:
    """The quantity of rows ``row_off ..`` (Float32) with a frame of ``h // 2`` pixels on each side: the halo
    rows above and below, NaN outside the grid and where invalid."""
    grid, halo = job.grid, job.halo
    start, stop = max(0, row_off - halo), min(grid.height, row_off + rows + halo)
    if job.quantity is not None:
        dataset = gdal_call(WriteError, "Cannot read the change quantity", gdal.Open, job.quantity)
        values = dataset.GetRasterBand(1).ReadAsArray(0, start, grid.width, stop - start)
    else:
        values = _quantity(job, start, stop - start)
    if not halo:
        return values
    frame = np.full((rows + 2 * halo, grid.width + 2 * halo), np.nan, dtype=np.float32)
    top = start - (row_off - halo)
    frame[top : top + stop - start, halo : halo + grid.width] = values
    return frame


def _bottom(priority: np.ndarray, count: int) -> np.ndarray:
    """The indexes of the ``count`` lowest of ``priority``, in order of priority."""
    if priority.size > count:
        chosen = np.argpartition(priority, count - 1)[:count]
        return chosen[np.argsort(priority[chosen], kind="stable")]
    return np.argsort(priority, kind="stable")


def _lowest(priority: np.ndarray, count: int, total: int) -> np.ndarray:
    """The indexes of the ``count`` lowest of ``priority`` among those under :data:`OVERSAMPLE` times
    ``count / total`` (a sample of ``count`` of ``total`` pixels or blocks of the grid), in order of priority."""
    cut = OVERSAMPLE * count / max(total, 1)
    if cut >= 1.0:
        return _bottom(priority, count)
    under = np.flatnonzero(priority < cut)
    return under[_bottom(priority[under], count)]


def _rng(settings: ChangeSettings, kind: int, row_off: int) -> np.random.Generator:
    return np.random.default_rng([settings.seed, kind, row_off])


def sample_strip(job: _Job, row_off: int, rows: int) -> tuple[_Sample, np.ndarray]:
    """A piece of the sampling pass: the strip's valid pixel count and its bottom-k samples, and its quantity
    (Float32, NaN where invalid) for the labelling pass to read."""
    frame = _framed(job, row_off, rows)
    grid, halo = job.grid, job.halo
    centre = frame[halo : halo + rows, halo : halo + grid.width]
    return _sampled(job, frame, centre, row_off, rows), np.ascontiguousarray(centre)


def _sampled(job: _Job, frame: np.ndarray, centre: np.ndarray, row_off: int, rows: int) -> _Sample:
    """The strip's valid pixel count and its samples, from its framed quantity and the strip itself."""
    grid, settings = job.grid, job.settings
    size = settings.block_size
    rows_at, cols_at = np.nonzero(np.isfinite(centre))
    priority = _rng(settings, 1, row_off).random(rows_at.size)
    chosen = _lowest(priority, settings.pixel_samples, grid.width * grid.height)
    rows_at, cols_at = rows_at[chosen], cols_at[chosen]
    sample = _Sample(int(priority.size), priority[chosen], centre[rows_at, cols_at], None, None, None)
    if settings.method != PCA_KMEANS:
        return sample
    neighbourhoods = np.stack([frame[rows_at + dy, cols_at + dx] for dy in range(size) for dx in range(size)], axis=1)
    across, down = grid.width // size, rows // size
    blocks = centre[: down * size, : across * size].reshape(down, size, across, size)
    blocks = blocks.transpose(0, 2, 1, 3).reshape(-1, size * size)
    blocks = blocks[np.isfinite(blocks).all(axis=1)]
    block_priority = _rng(settings, 2, row_off).random(len(blocks))
    chosen = _lowest(block_priority, settings.block_samples, (grid.width // size) * (grid.height // size))
    return _Sample(
        sample.valid, sample.pixel_priority, sample.pixel_value, neighbourhoods, block_priority[chosen], blocks[chosen]
    )


def _merged(samples: Sequence[_Sample], settings: ChangeSettings) -> _Sample:
    """The bottom-k samples of several strips' together."""
    if len(samples) == 1:
        return samples[0]
    priority = np.concatenate([one.pixel_priority for one in samples])
    chosen = _bottom(priority, settings.pixel_samples)
    neighbourhoods = block_priority = blocks = None
    if all(one.neighbourhoods is not None for one in samples):
        neighbourhoods = np.concatenate([one.neighbourhoods for one in samples])[chosen]
    if all(one.block_priority is not None and one.blocks is not None for one in samples):
        all_blocks = np.concatenate([one.block_priority for one in samples])
        picked = _bottom(all_blocks, settings.block_samples)
        block_priority, blocks = all_blocks[picked], np.concatenate([one.blocks for one in samples])[picked]
    return _Sample(
        sum(one.valid for one in samples),
        priority[chosen],
        np.concatenate([one.pixel_value for one in samples])[chosen],
        neighbourhoods,
        block_priority,
        blocks,
    )


def otsu_threshold(values: np.ndarray, bins: int = OTSU_BINS) -> float:
    """Otsu's threshold of ``values``: the bin edge that maximises the between-class variance of a histogram of
    ``bins`` bins over their range (change lies above it)."""
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return high
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    centres = (edges[:-1] + edges[1:]) / 2.0
    weight = np.cumsum(counts).astype(np.float64)
    total = weight[-1]
    below = np.cumsum(counts * centres)
    mean_low = below / np.maximum(weight, 1.0)
    mean_high = (below[-1] - below) / np.maximum(total - weight, 1.0)
    between = weight * (total - weight) * (mean_low - mean_high) ** 2
    return float(edges[1 + int(np.argmax(between[:-1]))])


def pca(blocks: np.ndarray, components: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The mean of ``blocks`` (one vector a row), its ``components`` leading principal axes (as columns, the
    eigenvectors of the covariance of largest eigenvalue first) and the share of the variance they hold."""
    mean = blocks.mean(axis=0)
    centred = blocks - mean
    covariance = np.einsum("ni,nj->ij", centred, centred) / max(len(blocks) - 1, 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1][:components]
    total = float(values.clip(min=0.0).sum())
    explained = float(values[order].clip(min=0.0).sum()) / total if total > 0 else 1.0
    return mean, vectors[:, order], explained


def projected(neighbourhoods: np.ndarray, mean: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """``neighbourhoods`` (one a row, NaN where a neighbour is invalid) projected onto ``axes``: a NaN neighbour
    takes the mean there (it adds nothing)."""
    centred = np.where(np.isnan(neighbourhoods), 0.0, neighbourhoods - mean)
    return np.einsum("ni,is->ns", centred, axes)


def _nearer(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each point's squared distance to each centre (a column a centre), less the point's own squared length:
    ``|c|^2 - 2 p.c``, one matrix product."""
    return np.einsum("ij,ij->i", centres, centres)[np.newaxis] - 2.0 * (points @ centres.T)


def two_means(points: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """k-means with two clusters of ``points`` (one a row): k-means++ seeding from ``seed``, Lloyd's iterations
    until no point changes cluster or the centres move by no more than :data:`KMEANS_TOLERANCE` of the points'
    variance (scikit-learn's rule), the lowest-inertia of :data:`KMEANS_STARTS` starts. Returns the centres
    and each point's cluster. A point's nearer centre is found from ``|c|^2 - 2 p.c`` (one product a centre)."""
    rng = np.random.default_rng(seed)
    squares = np.einsum("ij,ij->i", points, points)
    tolerance = KMEANS_TOLERANCE * float(points.var(axis=0).mean())
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(KMEANS_STARTS):
        first = points[rng.integers(len(points))]
        distance = ((points - first) ** 2).sum(axis=1)
        total = distance.sum()
        second = points[rng.choice(len(points), p=distance / total)] if total > 0 else first
        centres = np.stack([first, second])
        labels = np.full(len(points), -1)
        for _ in range(KMEANS_ITERATIONS):
            new = _nearer(points, centres).argmin(axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            moved = np.stack(
                [
                    points[labels == index].mean(axis=0) if (labels == index).any() else centres[index]
                    for index in (0, 1)
                ]
            )
            shift = float(((moved - centres) ** 2).sum())
            centres = moved
            if shift <= tolerance:
                break
        nearer = _nearer(points, centres)
        labels = nearer.argmin(axis=1)
        inertia = float((squares + nearer.min(axis=1)).sum())
        if best is None or inertia < best[0]:
            best = (inertia, centres, labels)
    assert best is not None
    return best[1], best[2]


#: Pixels of a strip's rows scored at once: small enough for the processor's cache.
SCORED_AT_ONCE = 32_768


def _float32_below(value: float) -> np.float32:
    """The largest Float32 not above ``value``: for a Float32 ``x``, ``x > value`` exactly when ``x >`` it."""
    with np.errstate(over="ignore"):
        below = np.float32(value)
    return np.nextafter(below, np.float32(-np.inf)) if float(below) > value else below


def _scores_above(frame: np.ndarray, rows: int, width: int, size: int, model: _Model) -> np.ndarray:
    """Where each pixel's score (:class:`_Model`) over its ``size x size`` neighbourhood in ``frame`` (NaN
    where invalid: such a neighbour takes the mean, adding nothing) lies above the threshold.

    The score is ``sum_o w_o * filled_o - sum_o w_o * mean_o * present_o``: the second sum is the constant
    ``sum_o w_o * mean_o`` (moved to the threshold) less the absent neighbours' terms, added only in the rows
    whose neighbourhoods hold an absent pixel and at the grid's left and right edges (elsewhere they add
    exact zeros). Summed in Float32 (the quantity's own precision), a few rows at a time, so that every
    partial sum stays in the cache."""
    assert model.weights is not None and model.mean is not None and model.cut is not None
    halo = size // 2
    absent = np.isnan(frame)
    filled = np.where(absent, np.float32(0.0), frame)
    weights = model.weights.astype(np.float32)
    missing = (model.weights * model.mean).astype(np.float32)
    cut = model.cut
    # Frame rows with an absent pixel inside the grid's columns (outside them every row has some).
    inner = absent[:, halo : halo + width].any(axis=1)
    absent_values = absent.astype(np.float32)
    edges = [np.s_[0:width]] if width <= 2 * halo else [np.s_[0:halo], np.s_[width - halo : width]]
    above = np.empty((rows, width), dtype=bool)
    chunk = max(1, SCORED_AT_ONCE // width)
    term = np.empty((chunk, width), dtype=np.float32)
    for start in range(0, rows, chunk):
        count = min(chunk, rows - start)
        total = np.zeros((count, width), dtype=np.float32)
        part = term[:count]
        for offset in range(size * size):
            dy, dx = divmod(offset, size)
            np.multiply(filled[start + dy : start + dy + count, dx : dx + width], weights[offset], out=part)
            total += part
        columns = [np.s_[0:width]] if inner[start : start + count + 2 * halo].any() else edges
        for span in columns:
            low, high = span.start, span.stop
            for offset in range(size * size):
                dy, dx = divmod(offset, size)
                window = np.s_[start + dy : start + dy + count, low + dx : high + dx]
                total[:, low:high] += absent_values[window] * missing[offset]
        np.greater(total, cut, out=above[start : start + count])
    return above


def label_strip(job: _Job, row_off: int, rows: int, model: _Model) -> tuple[np.ndarray, np.ndarray]:
    """A piece of the labelling pass: the change map's rows ``row_off ..`` (Byte) and the quantity (Float32,
    NaN where invalid)."""
    frame = _framed(job, row_off, rows)
    grid, settings, halo = job.grid, job.settings, job.halo
    centre = frame[halo : halo + rows, halo : halo + grid.width]
    valid = np.isfinite(centre)
    if model.weights is None:
        change = centre > _float32_below(model.threshold)
    else:
        change = _scores_above(frame, rows, grid.width, settings.block_size, model)
    labels = np.where(valid, np.where(change, CHANGE, NO_CHANGE), NODATA).astype(np.uint8)
    return labels, np.ascontiguousarray(centre)


def _fitted(sample: _Sample, settings: ChangeSettings) -> tuple[_Model, float | None]:
    """The model the labelling pass applies, and the share of variance the PCA holds (or None)."""
    needed = settings.min_samples
    if settings.method != PCA_KMEANS:
        if settings.threshold is not None:
            return _Model(threshold=settings.threshold), None
        if sample.valid < needed:
            raise ChangeInputError(
                "The common valid area is too small to set a threshold: it holds {count} valid pixels and {needed} "
                "are needed.",
                count=sample.valid,
                needed=needed,
            )
        return _Model(threshold=otsu_threshold(sample.pixel_value.astype(np.float64))), None
    assert sample.blocks is not None and sample.neighbourhoods is not None
    size = settings.block_size
    if len(sample.blocks) < needed:
        raise ChangeInputError(
            "The common valid area is too small to fit the clusters: it holds {count} whole blocks of {size} x {size} "
            "valid pixels and {needed} are needed.",
            count=len(sample.blocks),
            size=size,
            needed=needed,
        )
    # The samples are kept in Float32, the quantity's precision; the fits are made in Float64.
    mean, axes, explained = pca(sample.blocks.astype(np.float64), settings.components)
    clusters, labels = two_means(projected(sample.neighbourhoods.astype(np.float64), mean, axes), settings.seed)
    values = sample.pixel_value.astype(np.float64)
    means = [values[labels == index].mean() if (labels == index).any() else -np.inf for index in (0, 1)]
    return nearer_centre_model(mean, axes, clusters, int(means[1] > means[0])), explained


def nearer_centre_model(mean: np.ndarray, axes: np.ndarray, centres: np.ndarray, change: int) -> _Model:
    """The labelling pass's model of PCA + k-means: a pixel whose projected neighbourhood f lies nearer the
    change centre c (``centres[change]``) than the other c' is change. That is exactly
    ``2 f.(c - c') > |c|^2 - |c'|^2``, and ``f.(c - c')`` is the neighbourhood's centred values weighed by
    ``axes @ (c - c')``: one weight a neighbour, instead of a projection on every axis and two distances."""
    towards = centres[change] - centres[1 - change]
    threshold = float(centres[change] @ centres[change] - centres[1 - change] @ centres[1 - change]) / 2.0
    weights = axes @ towards
    return _Model(threshold, weights, mean, _float32_below(threshold + float(weights @ mean)))


def _scaled(progress: Progress | None, start: float, share: float) -> Progress | None:
    if progress is None:
        return None
    return lambda fraction: progress(start + share * fraction)


def _create(
    path: str, grid: Grid, data_type: int, nodata: float, rows: int, compress: Sequence[str] = DEFLATE_FAST
) -> gdal.Dataset:
    """A GeoTIFF on ``grid`` in strips of ``rows`` rows, the strips the pass writes, compressed as ``compress``
    says."""
    dataset = gdal_call(
        WriteError,
        f"Cannot create '{path}'",
        gdal.GetDriverByName("GTiff").Create,
        path,
        grid.width,
        grid.height,
        1,
        data_type,
        [f"BLOCKYSIZE={rows}", *compress, "BIGTIFF=IF_SAFER"],
    )
    set_georeference(dataset, grid)
    dataset.GetRasterBand(1).SetNoDataValue(nodata)
    return dataset


@gdal_mode()
@bounded_cache()
def change_map(
    first: str | RasterInfo,
    second: str | RasterInfo,
    output: str,
    settings: ChangeSettings | None = None,
    magnitude: str | None = None,
    kept: MaskFile | None = None,
    progress: Progress | None = None,
    executor: concurrent.futures.Executor | None = None,
    warn: Callable[[str], None] | None = None,
) -> ChangeResult:
    """Write the change map of ``second`` against ``first``, a pair already on one grid, at ``output`` (see the
    module's docstring). Rasters on any grids take the one run instead
    (:func:`~overlap_clip_plugin.core.run.run_clip` with ``change``), which clips them and maps them in one
    commit; both write through :func:`change_pass`.

    Parameters
    ----------
    first, second
        The earlier and the later date (paths or rasters read with
        :func:`~overlap_clip_plugin.core.raster.read_raster`), on one grid.
    output
        The change map: a Byte GeoTIFF, 1 change, 0 no change, 255 nodata, on the rasters' grid.
    settings
        Method, bands and their parameters (:class:`ChangeSettings` defaults when None).
    magnitude
        Where to write the quantity the method compares (Float32 GeoTIFF, NaN nodata), if anywhere.
    kept
        The common valid mask on the grid (a run's, or the clear-sky rules'); else the rasters' GDAL masks.
    progress, executor
        The progress rule of :mod:`~overlap_clip_plugin.core.executors` (False cancels, raising
        CancelledError); one strip a piece, on this thread without an executor.
    warn
        Called with each of GDAL's warnings; without it they become Python warnings.

    Raises
    ------
    ChangeInputError
        The rasters are not on one grid, lack a band, have different band counts with every band compared,
        or hold too small a common valid area to fit.
    UnsupportedOptionError, OutputFormatError, OutputPathError
        Settings or output paths that cannot work.
    CancelledError, WriteError
        ``progress`` cancelled, or GDAL failed to read or write; nothing is left behind.
    """
    settings = settings or ChangeSettings()
    with gdal_warnings(warn):
        rasters = [raster if isinstance(raster, RasterInfo) else read_raster(raster) for raster in (first, second)]
        check_change(rasters[0], rasters[1], output, settings, magnitude)
        targets = ChangeRequest(output, settings, magnitude).outputs
        with staged(targets) as stagings:
            written = [staged_path(path, staging) for path, staging in zip(targets, stagings)]
            result = change_pass(rasters[0], rasters[1], written, settings, kept, progress, executor)
            commit(list(zip(stagings, targets)), rasters)
    return replace(result, path=output, magnitude_path=magnitude)


def change_pass(
    first: RasterInfo,
    second: RasterInfo,
    targets: Sequence[str],
    settings: ChangeSettings,
    kept: MaskFile | None = None,
    progress: Progress | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> ChangeResult:
    """The change map of ``first`` and ``second`` (on one grid; settings and bands checked with
    :func:`check_change`) written at ``targets`` (the map, then the magnitude if it is wanted), paths the
    caller stages and commits: the two passes of the module's docstring, one strip a piece through
    ``executor``. Returns what was found, with ``targets`` as the paths."""
    grid = _check_grid(first, second)
    bands = _bands(first, second, settings)
    job = _Job((Read.on(first, grid), Read.on(second, grid)), grid, settings, bands, kept)
    executor = executor or InlineExecutor()
    strip_list = change_strips(grid, 2 * len(bands), settings.block_size)
    arguments = [(job, row_off, rows) for row_off, rows in strip_list]
    taken: list[_Sample] = []
    held = 0
    height = strip_list[0][1]
    # The quantity is computed once, by the sampling pass, and kept beside the outputs for the labelling pass
    # (where workers elsewhere see it too): it reads one band instead of every compared band of both rasters.
    scratch = scratch_folder(os.path.dirname(os.path.abspath(targets[0])), "quantity")
    kept_quantity: gdal.Dataset | None = None
    try:
        quantity = os.path.join(scratch, "quantity.tif")
        kept_quantity = _create(quantity, grid, gdal.GDT_Float32, math.nan, height, [])
        sampled = pieces(
            executor,
            sample_strip,
            arguments,
            _scaled(progress, 0.0, SAMPLING_SHARE),
            CHANGE_CANCELLED,
            ahead=AHEAD * workers(executor),
        )
        with contextlib.closing(sampled):
            for (row_off, _), (one, values) in zip(strip_list, sampled):
                # Merged when they hold a few samples' worth: the strips' own are a few times a sample at most.
                taken.append(one)
                held += len(one.pixel_priority)
                if held > MERGE_AT * settings.pixel_samples:
                    taken = [_merged(taken, settings)]
                    held = len(taken[0].pixel_priority)
                kept_quantity.GetRasterBand(1).WriteArray(values, 0, row_off)
                kept_quantity.GetRasterBand(1).FlushCache()
        kept_quantity = None
        model, explained = _fitted(_merged(taken, settings), settings)
        labelling = [(replace(job, quantity=quantity), row_off, rows) for row_off, rows in strip_list]
        result = _labelled(targets, grid, strip_list, labelling, model, progress, executor)
    finally:
        kept_quantity = None
        shutil.rmtree(scratch, ignore_errors=True)
    changed, valid, area = result
    return ChangeResult(
        targets[0],
        targets[1] if len(targets) > 1 else None,
        settings.method,
        changed,
        valid,
        100.0 * changed / valid if valid else None,
        area,
        # PCA_KMEANS' threshold is the model's own constant, in no unit the user has: not reported.
        model.threshold if model.weights is None else None,
        explained,
        bands,
    )


def _labelled(
    targets: Sequence[str],
    grid: Grid,
    strip_list: list[tuple[int, int]],
    arguments: list[tuple[_Job, int, int]],
    model: _Model,
    progress: Progress | None,
    executor: concurrent.futures.Executor,
) -> tuple[int, int, float | None]:
    """The labelling pass, written at ``targets`` strip by strip in order: the changed and valid pixel counts,
    and the changed area (None without a CRS)."""
    kinds = [(gdal.GDT_Byte, float(NODATA)), (gdal.GDT_Float32, math.nan)][: len(targets)]
    height = strip_list[0][1]
    datasets = [_create(path, grid, data_type, nodata, height) for path, (data_type, nodata) in zip(targets, kinds)]
    try:
        areas = pixel_areas(grid)
        changed = valid = 0
        area = 0.0 if areas is not None else None
        labelled = pieces(
            executor,
            label_strip,
            [(*one, model) for one in arguments],
            _scaled(progress, SAMPLING_SHARE, 1.0 - SAMPLING_SHARE),
            CHANGE_CANCELLED,
            ahead=AHEAD * workers(executor),
        )
        with contextlib.closing(labelled):
            for (row_off, _), (labels, values) in zip(strip_list, labelled):
                datasets[0].GetRasterBand(1).WriteArray(labels, 0, row_off)
                if len(datasets) > 1:
                    datasets[1].GetRasterBand(1).WriteArray(values, 0, row_off)
                for dataset in datasets:  # a whole strip of the file, written now and in order
                    dataset.GetRasterBand(1).FlushCache()
                is_change = labels == CHANGE
                changed += int(is_change.sum())
                valid += int((labels != NODATA).sum())
                if areas is not None and area is not None:
                    area += areas.of(row_off, is_change)
        with quiet_gdal():
            for dataset in datasets:
                dataset.FlushCache()
            datasets = []
            if gdal.GetLastErrorType() >= gdal.CE_Failure:
                raise WriteError("Cannot write the change map: {reason}", reason=gdal.GetLastErrorMsg())
    finally:
        datasets = []
    return changed, valid, area
