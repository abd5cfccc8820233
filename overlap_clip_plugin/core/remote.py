"""Inputs in object storage or behind HTTP, read by the overlap only, and once.

GDAL reads a Cloud-Optimized GeoTIFF through ``/vsicurl/``, ``/vsis3/`` and the like by byte ranges, so
a run that reads the overlap once (the raster extents as common area, no common mask) fetches only the
overlap's tiles. A run that reads it twice (the valid-data scan, then the writing) would fetch them
twice: for such a run each remote input's part over the common area (and a margin for resampling) is
fetched once into a local copy, and the run reads that. The copies live in a hidden folder beside the
first output, where the workers of a cluster see them too, for as long as the plan does.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import weakref
from collections.abc import Sequence

from osgeo import gdal

from overlap_clip_plugin.core.area import common_area
from overlap_clip_plugin.core.errors import CancelledError, RasterOpenError
from overlap_clip_plugin.core.executors import Progress, gdal_progress
from overlap_clip_plugin.core.gdalenv import gdal_call
from overlap_clip_plugin.core.grid import Window
from overlap_clip_plugin.core.raster import RasterInfo, Source, read_raster
from overlap_clip_plugin.core.validity import SCAN_CANCELLED

#: GDAL's virtual file systems that reach over the network.
NETWORK_FILE_SYSTEMS = tuple(
    f"/vsi{name}/" for name in "curl curl_streaming s3 s3_streaming gs az adls oss swift webhdfs hdfs".split()
)

#: Output pixels kept around the common area in a local copy of a raster that will be resampled: the
#: reach of each method's kernel, and one more; the other methods (average, mode, minimum, ...) gather
#: the source pixels under one output pixel. GDAL widens a kernel by as much as it shrinks the raster.
MARGIN = {"near": 1, "bilinear": 2, "cubic": 3, "cubicspline": 3, "lanczos": 4}


def is_remote(path: str) -> bool:
    """Whether GDAL reads ``path`` over the network (a /vsicurl/, /vsis3/, ... name, or an http(s) URL)."""
    return path.startswith(NETWORK_FILE_SYSTEMS) or path.startswith(("http://", "https://"))


class LocalCopies:
    """A hidden folder beside ``output`` holding the local copies of one plan, removed with the plan."""

    def __init__(self, output: str) -> None:
        self.folder = tempfile.mkdtemp(prefix=".overlapclip-inputs-", dir=os.path.dirname(os.path.abspath(output)))
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.folder, True)

    def remove(self) -> None:
        """Remove the copies now (a plan that failed): an error's traceback may keep this object alive."""
        self._finalizer()

    def __getstate__(self) -> dict:
        # A worker elsewhere gets the folder's name only; the client removes it.
        return {"folder": self.folder}

    def __setstate__(self, state: dict) -> None:
        self.folder = state["folder"]
        self._finalizer = None  # type: ignore[assignment]


def _grown(window: Window, margin: int, width: int, height: int) -> Window:
    col, row = max(0, window.col_off - margin), max(0, window.row_off - margin)
    right = min(width, window.col_off + window.width + margin)
    bottom = min(height, window.row_off + window.height + margin)
    return Window(col, row, right - col, bottom - row)


def fetched_once(
    rasters: Sequence[RasterInfo],
    outputs: Sequence[str],
    reference: int | None,
    resampling: str = "near",
    progress: Progress | None = None,
) -> tuple[tuple[RasterInfo, ...], LocalCopies | None]:
    """``rasters`` with each remote one (not placed by a transformer) replaced by a local copy of its part
    over the common area of all (with a margin for resampling where it will be resampled); and the folder
    holding the copies (None when nothing is remote)."""
    remote = [index for index, raster in enumerate(rasters) if is_remote(raster.path) and not raster.warped]
    if not remote:
        return tuple(rasters), None
    copies = LocalCopies(outputs[0])
    try:
        return _fetched(rasters, remote, copies, reference, resampling, progress), copies
    except BaseException:
        copies.remove()
        raise


def _fetched(
    rasters: Sequence[RasterInfo],
    remote: list[int],
    copies: LocalCopies,
    reference: int | None,
    resampling: str,
    progress: Progress | None,
) -> tuple[RasterInfo, ...]:
    local = list(rasters)
    for index in remote:
        raster = rasters[index]
        window = raster.grid.window_for(common_area(rasters, index))
        if window.is_empty:
            continue  # The plan says why, in the same words as for a local raster.
        # A raster on the reference's lattice, in its CRS, is copied as a window of itself: no margin.
        if reference is not None and raster.grid.offset_on(rasters[reference].grid) is None:
            # How many of this raster's pixels span one output pixel, from both windows over the common area.
            output_window = rasters[reference].grid.window_for(common_area(rasters, reference))
            shrink = math.sqrt(window.width * window.height / max(1, output_window.width * output_window.height))
            margin = MARGIN.get(resampling, 1) * math.ceil(max(1.0, shrink)) + 1
            window = _grown(window, margin, raster.grid.width, raster.grid.height)
        # One folder an input: two remote inputs may share a file name.
        target = os.path.join(copies.folder, str(index), raster.name)
        os.makedirs(os.path.dirname(target))
        cancelled: list[bool] = []
        # The fetch's own fraction is not the run's: the run stays at its start meanwhile.
        callback = gdal_progress(None if progress is None else lambda _fraction: progress(0.0), cancelled)
        try:
            copied = gdal_call(
                RasterOpenError,
                f"Cannot read '{raster.path}'",
                gdal.Translate,
                target,
                raster.open(),
                format="GTiff",
                srcWin=[window.col_off, window.row_off, window.width, window.height],
                creationOptions=["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"],
                callback=callback,
            )
        except RasterOpenError:
            if cancelled:
                raise CancelledError(SCAN_CANCELLED) from None
            raise
        del copied  # closes the copy
        local[index] = read_raster(Source(target))
    return tuple(local)
