"""Inputs in object storage or behind HTTP, read by the overlap only, and once.

GDAL reads a Cloud-Optimized GeoTIFF through ``/vsicurl/``, ``/vsis3/`` and the like by byte ranges, so
a run that reads the overlap once (the raster extents as common area, no common mask) fetches only the
overlap's tiles. A run that reads it twice (the valid-data scan, then the writing) would fetch them
twice: for such a run each remote input's part over the common area (and a margin for resampling) is
fetched once into a local copy, and the run reads that. The copies live in a hidden folder beside the
first output, where the workers of a cluster see them too, until the run ends (a plan made by ``plan_clip``
alone keeps them while it lives).
"""

from __future__ import annotations

import math
import os
import shutil
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from osgeo import gdal

from overlap_clip_plugin.core.errors import CancelledError, RasterOpenError
from overlap_clip_plugin.core.executors import Progress, gdal_progress
from overlap_clip_plugin.core.gdalenv import gdal_call
from overlap_clip_plugin.core.geometry import box_polygon, envelope
from overlap_clip_plugin.core.globe import DENSIFY_POINTS, carried
from overlap_clip_plugin.core.grid import Window
from overlap_clip_plugin.core.raster import RasterInfo, Source, read_raster
from overlap_clip_plugin.core.scratch import scratch_folder
from overlap_clip_plugin.core.validity import SCAN_CANCELLED

if TYPE_CHECKING:
    from overlap_clip_plugin.core.plan import OutputPlan

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
    """A hidden folder beside ``output`` holding the local copies of one plan, removed at the end of the run
    (:meth:`remove`), or else with the plan."""

    def __init__(self, output: str) -> None:
        self.folder = scratch_folder(output, "inputs")
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


def source_window(output: OutputPlan, margin: int) -> Window:
    """The block of ``output``'s source its write reads: the window it copies, or, for a warp, the part
    under the output grid with ``margin`` of the source's pixels for each output pixel's reach around it
    (all of the source where the grid cannot be carried into its CRS)."""
    raster, grid = output.source, output.grid
    if output.window is not None:
        return output.window
    whole = Window(0, 0, raster.grid.width, raster.grid.height)
    area = grid.bounds
    if grid.crs is not None and raster.crs is not None:
        moved = carried(box_polygon(area, DENSIFY_POINTS), grid.crs, raster.crs, "", raster.name)
        if moved is None:
            return whole
        area = envelope(moved)
    window = raster.grid.window_for(area)
    # GDAL widens a kernel by as much as it shrinks the raster: how many source pixels span one output pixel.
    shrink = math.sqrt(window.width * window.height / max(1, grid.width * grid.height))
    reach = margin * math.ceil(max(1.0, shrink)) + 1
    col, row = max(0, window.col_off - reach), max(0, window.row_off - reach)
    right = min(whole.width, window.col_off + window.width + reach)
    return Window(col, row, right - col, min(whole.height, window.row_off + window.height + reach) - row)


def fetched_once(
    outputs: Sequence[OutputPlan], progress: Progress | None = None
) -> tuple[tuple[RasterInfo, ...], LocalCopies | None]:
    """The sources of ``outputs`` (a plan of the extents) with each remote one (not placed by a transformer)
    replaced by a local copy of the block its write reads (:func:`source_window`); and the folder holding
    the copies (None when nothing is remote)."""
    local = [output.source for output in outputs]
    remote = [index for index, raster in enumerate(local) if is_remote(raster.path) and not raster.warped]
    if not remote:
        return tuple(local), None
    copies = LocalCopies(outputs[0].path)
    try:
        for index in remote:
            local[index] = _fetched(outputs[index], copies, str(index), progress)
    except BaseException:
        copies.remove()
        raise
    return tuple(local), copies


def _fetched(output: OutputPlan, copies: LocalCopies, key: str, progress: Progress | None) -> RasterInfo:
    raster = output.source
    window = source_window(output, MARGIN.get(output.resampling, 1))
    # One folder an input: two remote inputs may share a file name.
    target = os.path.join(copies.folder, key, raster.name)
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
    return read_raster(Source(target))
