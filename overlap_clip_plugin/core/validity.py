"""Where rasters have valid data, on an output grid, in bounded memory.

Validity follows GDAL's mask semantics (nodata values, alpha bands, per-dataset masks, ``GetMaskBand()``): **a
pixel is valid when its mask says so in every band**. A pixel outside a raster's footprint is invalid.

Each raster's masks are seen on the output grid through a lazy VRT whose bands read the source's mask bands
(``mask,N``): a window when the raster lies on the output grid's lattice, a nearest-neighbour warp otherwise.
The common valid mask is then read a strip of rows at a time, so memory stays bounded by the strip, never by
the raster: at most :data:`STRIP_PIXELS` pixels per raster band at once.

A raster with a clear-sky rule (:attr:`RasterInfo.qa`, see :mod:`overlap_clip_plugin.core.qa`) is valid only where
its QA band also calls the pixel clear: the common valid area is then the clear-sky common area.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from osgeo import gdal

from overlap_clip_plugin.core.errors import CancelledError, NoValidNodataError, WriteError, translatable
from overlap_clip_plugin.core.executors import InlineExecutor, Progress, cancelled_by, pieces, runs_here
from overlap_clip_plugin.core.gdalenv import bounded_cache, gdal_call, gdal_mode
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.qa import clear_on_view, clear_on_window, qa_on_grid
from overlap_clip_plugin.core.raster import RasterInfo, Read
from overlap_clip_plugin.core.views import on_grid, set_georeference

#: Pixels per band read at once when scanning masks.
STRIP_PIXELS = 4 * 1024 * 1024


def strips(grid: Grid, bands: int = 1) -> Iterator[tuple[int, int]]:
    """``(row_off, rows)`` strips covering ``grid``, each at most STRIP_PIXELS pixels per band."""
    rows = max(1, STRIP_PIXELS // max(grid.width * max(bands, 1), 1))
    for row_off in range(0, grid.height, rows):
        yield row_off, min(rows, grid.height - row_off)


def _mask_vrt(raster: RasterInfo) -> gdal.Dataset:
    """A lazy VRT of ``raster``'s mask bands (255 valid, 0 invalid), on ``raster``'s own grid."""
    grid = raster.grid
    source = escape(raster.path)
    options = "".join(
        f'<OOI key="{escape(key)}">{escape(value)}</OOI>'
        for key, _, value in (option.partition("=") for option in raster.open_options)
    )
    bands = "".join(
        f'<VRTRasterBand dataType="Byte" band="{index}"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{source}</SourceFilename>'
        f"<OpenOptions>{options}</OpenOptions>"
        f"<SourceBand>mask,{index}</SourceBand>"
        f'<SrcRect xOff="0" yOff="0" xSize="{grid.width}" ySize="{grid.height}"/>'
        f'<DstRect xOff="0" yOff="0" xSize="{grid.width}" ySize="{grid.height}"/>'
        f"</SimpleSource></VRTRasterBand>"
        for index in range(1, len(raster.bands) + 1)
    )
    xml = (
        f'<VRTDataset rasterXSize="{grid.width}" rasterYSize="{grid.height}">'
        f"<SRS>{escape(raster.crs.wkt if raster.crs is not None else '')}</SRS>"
        f"<GeoTransform>{', '.join(repr(v) for v in grid.transform)}</GeoTransform>"
        f"{bands}</VRTDataset>"
    )
    return gdal_call(WriteError, f"Cannot read the masks of '{raster.path}'", gdal.Open, xml)


def mask_on_grid(read: Read, grid: Grid) -> gdal.Dataset:
    """The mask bands of ``read``'s raster seen on ``grid`` (0, invalid, outside the raster), as a lazy VRT."""
    raster = read.raster
    if raster.warped:
        # GDAL's warper says where its transformer brings valid source data: the alpha band it adds.
        warped = on_grid(raster.open(), raster.path, grid, None, "near", raster.warp_options, alpha=True)
        return gdal_call(
            WriteError,
            f"Cannot read the masks of '{raster.path}'",
            gdal.Translate,
            "",
            warped,
            format="VRT",
            bandList=[warped.RasterCount],
        )
    return on_grid(_mask_vrt(raster), raster.path, grid, read.window, "near")


class CommonMask:
    """The common valid mask of several rasters on one grid, read strip by strip."""

    def __init__(self, reads: Sequence[Read], grid: Grid) -> None:
        self.grid = grid
        self._reads = tuple(reads)
        self._views = [mask_on_grid(read, grid) for read in reads]
        # A raster read as a block of its pixels reads the same block of QA values; a resampled one, its QA
        # values resampled alike.
        self._qa_views = [
            qa_on_grid(read.raster.qa, read.raster, grid) if read.raster.qa and read.window is None else None
            for read in reads
        ]

    def read_each(self, row_off: int, rows: int) -> list[np.ndarray]:
        """One boolean array (rows x width) per raster: True where it is valid in every band (and clear, for a
        raster with a clear-sky rule)."""
        each = []
        for read, view, qa_view in zip(self._reads, self._views, self._qa_views):
            valid = np.ones((rows, self.grid.width), dtype=bool)
            for index in range(1, view.RasterCount + 1):
                strip = view.GetRasterBand(index).ReadAsArray(0, row_off, self.grid.width, rows)
                if strip is None:
                    raise WriteError("Cannot read masks: {reason}", reason=gdal.GetLastErrorMsg())
                valid &= strip != 0
            rule = read.raster.qa
            if qa_view is not None and rule is not None:
                valid &= clear_on_view(rule, qa_view, row_off, rows)
            elif rule is not None and read.window is not None:
                block = Window(read.window.col_off, read.window.row_off + row_off, self.grid.width, rows)
                valid &= clear_on_window(rule, read.raster, block)
            each.append(valid)
        return each

    def read(self, row_off: int, rows: int) -> np.ndarray:
        """Boolean array (rows x width): True where every raster is valid in every band."""
        return _combined(self.read_each(row_off, rows))[1]


class MaskFile:
    """The common valid mask of a run on its grid, scanned once and kept (1 bit a pixel) for every later step.

    The plan's scan writes it strip by strip; the masked writes, the overlap polygon and the
    overlap numbers read it instead of scanning the rasters again. It lives in a temporary folder
    that goes with the object.
    """

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        #: How many pixels of the grid are valid in every raster (set when the scan is complete).
        self.count = 0
        #: How many of them lie in each row of the grid (for areas that vary from row to row).
        self.row_counts = np.zeros(grid.height, dtype=np.int64)
        folder = tempfile.mkdtemp(prefix="overlapclip-mask-")
        weakref.finalize(self, shutil.rmtree, folder, True)
        self.path = os.path.join(folder, "common_mask.tif")
        self._dataset = gdal_call(
            WriteError,
            "Cannot keep the common mask",
            gdal.GetDriverByName("GTiff").Create,
            self.path,
            grid.width,
            grid.height,
            1,
            gdal.GDT_Byte,
            ["TILED=YES", "COMPRESS=DEFLATE", "NBITS=1", "SPARSE_OK=TRUE"],
        )
        set_georeference(self._dataset, grid)

    def write(self, row_off: int, valid: np.ndarray) -> None:
        """Keep the rows of ``valid`` from ``row_off`` on, and their counts."""
        self._dataset.GetRasterBand(1).WriteArray(valid.astype(np.uint8), 0, row_off)
        self.row_counts[row_off : row_off + valid.shape[0]] = valid.sum(axis=1)

    def finish(self) -> None:
        """Close the file once written; readers open it themselves (no GDAL object outlives its use)."""
        self._dataset.FlushCache()
        self._dataset = None

    def window(self, grid: Grid) -> Window:
        """Where ``grid`` (on this mask's lattice, inside it) lies in the mask."""
        window = self.grid.window_of(grid, inside=False)
        if window is None:
            raise ValueError("The grid is not on the common mask's lattice.")
        return window

    def read(self, grid: Grid, row_off: int, rows: int) -> np.ndarray:
        """Boolean array (rows x width) of ``grid``'s rows ``row_off ..``: True where every raster is valid."""
        window = self.window(grid)
        dataset = gdal_call(WriteError, "Cannot read the common mask", gdal.Open, self.path)
        strip = dataset.GetRasterBand(1).ReadAsArray(window.col_off, window.row_off + row_off, grid.width, rows)
        dataset = None
        if strip is None:
            raise WriteError("Cannot read the common mask: {reason}", reason=gdal.GetLastErrorMsg())
        return strip != 0


def valid_reader(kept: MaskFile | None, reads: Sequence[Read], grid: Grid) -> Callable[[int, int], np.ndarray]:
    """``read(row_off, rows)`` of the common valid mask of ``reads`` on ``grid``: from the run's kept
    mask when there is one (no raster is read again), else from the rasters' masks."""
    if kept is not None:
        return lambda row_off, rows: kept.read(grid, row_off, rows)
    return CommonMask(reads, grid).read


@dataclass(frozen=True)
class ValidSummary:
    """Where the common valid data lie on a grid: their bounding window and pixel count, and how many
    pixels of the grid each raster has valid on its own (to say which one leaves nothing)."""

    window: Window
    count: int
    counts: tuple[int, ...] = ()
    mask: MaskFile | None = None


#: The sentence of a cancel while the valid data are read (the scan, or fetching remote inputs for it).
SCAN_CANCELLED = translatable("Cancelled while finding where the rasters have valid data; nothing was written.")


class ViewsByThread:
    """One :class:`CommonMask` a thread for one scan in this process, so that its strips share the views
    opened once (and GDAL's cache of the tiles strips share); gone, with its datasets, with the scan."""

    def __init__(self) -> None:
        self._masks: dict[int, CommonMask] = {}

    def mask(self, reads: Sequence[Read], grid: Grid) -> CommonMask:
        """The views of ``reads`` on ``grid`` for the calling thread."""
        key = threading.get_ident()
        if key not in self._masks:
            self._masks[key] = CommonMask(reads, grid)
        return self._masks[key]


def scan_strip(
    reads: Sequence[Read], grid: Grid, row_off: int, rows: int, views: ViewsByThread | None = None
) -> tuple[list[int], np.ndarray]:
    """A piece of the valid-data scan: for rows ``row_off ..`` of ``grid``, how many pixels each raster
    has valid, and where all are valid (packed 8 pixels a byte, to travel light). In this process the
    views come from ``views``; elsewhere (None) the piece opens its own."""
    mask = views.mask(reads, grid) if views is not None else CommonMask(reads, grid)
    counts, valid = _combined(mask.read_each(row_off, rows))
    return counts, np.packbits(valid, axis=1)


def _combined(each: list[np.ndarray]) -> tuple[list[int], np.ndarray]:
    """How many pixels each mask of ``each`` has valid, and where all are."""
    counts = [int(one.sum()) for one in each]
    valid = each[0].copy()
    for other in each[1:]:
        valid &= other
    return counts, valid


@gdal_mode()
@bounded_cache()
def valid_summary(
    reads: Sequence[Read],
    grid: Grid,
    progress: Progress | None = None,
    keep: bool = False,
    executor: concurrent.futures.Executor | None = None,
) -> ValidSummary:
    """Bounding window and count of the pixels of ``grid`` where every raster of ``reads`` has valid data.

    The window is empty when there is no such pixel. With ``keep`` the common mask is kept
    (:class:`MaskFile`) so that no later step scans the rasters again. The strips are scanned as pieces
    through ``executor`` (see :mod:`overlap_clip_plugin.core.executors`; this thread without one).
    """
    kept = MaskFile(grid) if keep else None
    rows_any = np.zeros(grid.height, dtype=bool)
    cols_any = np.zeros(grid.width, dtype=bool)
    count = 0
    counts = [0] * len(reads)
    strip_list = list(strips(grid, sum(len(read.raster.bands) for read in reads)))
    executor = executor or InlineExecutor()
    views = ViewsByThread() if runs_here(executor) else None
    arguments = [(tuple(reads), grid, row_off, rows, views) for row_off, rows in strip_list]
    scanned = pieces(executor, scan_strip, arguments, progress, SCAN_CANCELLED)
    with contextlib.closing(scanned):
        for (row_off, rows), (strip_counts, packed) in zip(strip_list, scanned):
            valid = np.unpackbits(packed, axis=1, count=grid.width).astype(bool)
            for index, valid_count in enumerate(strip_counts):
                counts[index] += valid_count
            if kept is not None:
                kept.write(row_off, valid)
            rows_any[row_off : row_off + rows] = valid.any(axis=1)
            cols_any |= valid.any(axis=0)
            count += int(valid.sum())
    if kept is not None:
        kept.count = count
        kept.finish()
    if not rows_any.any():
        return ValidSummary(Window(0, 0, 0, 0), 0, tuple(counts), kept)
    row_idx, col_idx = np.flatnonzero(rows_any), np.flatnonzero(cols_any)
    window = Window(
        int(col_idx[0]), int(row_idx[0]), int(col_idx[-1] - col_idx[0] + 1), int(row_idx[-1] - row_idx[0] + 1)
    )
    return ValidSummary(window, count, tuple(counts), kept)


def nodata_candidates(data_type: str, signed_byte: bool = False) -> list[float]:
    """Nodata values to try, in order, for a band of ``data_type`` that declares none.

    The type's lowest value, then its highest; for floating-point types the lowest finite value, then NaN.
    Complex types use their real part's type; 64-bit integers only their lowest value (the highest is not a
    double). ``signed_byte`` marks a Byte band that holds signed bytes (GDAL before 3.7).
    """
    # GDAL's names are NumPy's, but for Byte; a complex type's real part has the type without its C.
    name = "Int8" if signed_byte else data_type[1:] if data_type.startswith("C") else data_type
    numpy_type: Any = np.dtype("uint8" if name == "Byte" else name.lower())
    if numpy_type.kind == "f":
        return [float(np.finfo(numpy_type).min), math.nan]
    info = np.iinfo(numpy_type)
    if numpy_type.itemsize == 8:
        return [float(info.min)]
    return [float(info.min), float(info.max)]


def _same(a: float | None, b: float | None) -> bool:
    return a == b or (a is not None and b is not None and math.isnan(a) and math.isnan(b))


def pick_nodata(
    view: gdal.Dataset, name: str, progress: Progress | None = None, signed_byte: bool = False
) -> tuple[float | None, ...]:
    """One nodata value for every band of a masked output (many formats keep only one).

    The bands' own nodata value when they all declare the same one; otherwise a value no band's pixels take (a
    band's own nodata pixels do not count: they become nodata anyway), found by scanning the bands strip by
    strip. The output's bands take the first band's data type, so its candidates are tried: a declared nodata
    value first, then the type's extremes.

    Raises
    ------
    NoValidNodataError
        The pixels use every candidate (for example all 256 values of a Byte band).
    """
    count = view.RasterCount
    declared = [view.GetRasterBand(i).GetNoDataValue() for i in range(1, count + 1)]
    if declared[0] is not None and all(_same(value, declared[0]) for value in declared):
        return tuple(declared)
    candidates: list[float] = [value for value in declared if value is not None]
    candidates += nodata_candidates(gdal.GetDataTypeName(view.GetRasterBand(1).DataType), signed_byte)
    grid = Grid(tuple(view.GetGeoTransform()), view.RasterXSize, view.RasterYSize)
    for row_off, rows in strips(grid, count):
        for index in range(count):
            data = view.GetRasterBand(index + 1).ReadAsArray(0, row_off, grid.width, rows)
            if np.iscomplexobj(data):
                data = data.real
            candidates = [
                c
                for c in candidates
                if _same(c, declared[index]) or not (np.isnan(data).any() if math.isnan(c) else (data == c).any())
            ]
        if cancelled_by(progress, (row_off + rows) / grid.height):
            raise CancelledError(
                "Cancelled while choosing a nodata value for '{name}'; nothing was written.", name=name
            )
        if not candidates:
            raise NoValidNodataError(
                "The bands of '{name}' use every value that could mark nodata; set a nodata value on them first "
                "(Raster > Conversion > Translate, -a_nodata).",
                name=name,
            )
    return (candidates[0],) * count
