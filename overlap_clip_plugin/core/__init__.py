"""Overlap Clip's core: clip rasters to their common area with GDAL alone (no QGIS).

Example::

    from overlap_clip_plugin.core import clip_pair

    plan = clip_pair("a.tif", "b.tif", "a_common.tif", "b_common.tif") for output in plan.outputs:
        print(output.path, output.grid, "copied" if output.copied else "resampled")

Every run takes one road, :func:`run_clip` (see :mod:`overlap_clip_plugin.core.run`).
"""

from overlap_clip_plugin.core.area import common_area
from overlap_clip_plugin.core.crs import Crs, crs_from_wkt, crs_name
from overlap_clip_plugin.core.errors import (
    CancelledError,
    CrsMismatchError,
    ExecutorError,
    InputChangedError,
    NoOverlapError,
    NoValidDataError,
    NoValidNodataError,
    OutputFormatError,
    OutputPathError,
    OverlapClipError,
    RasterOpenError,
    SplitAreaError,
    UnsupportedGeoreferenceError,
    UnsupportedOptionError,
    WriteError,
)
from overlap_clip_plugin.core.executors import InlineExecutor, make_executor
from overlap_clip_plugin.core.gdalenv import ClipWarning, GdalWarning
from overlap_clip_plugin.core.grid import Bounds, Grid, Window
from overlap_clip_plugin.core.overlap import OverlapSummary, overlap_summary
from overlap_clip_plugin.core.plan import (
    AREAS,
    RESAMPLING_METHODS,
    ClipPlan,
    OutputPlan,
    driver_for_path,
    output_names,
    plan_clip,
)
from overlap_clip_plugin.core.raster import RasterInfo, Source, read_raster
from overlap_clip_plugin.core.run import PAIR_GRIDS, RunResult, clip, clip_pair, reference_of, run_clip
from overlap_clip_plugin.core.write import write_output, write_plan

__all__ = [
    "AREAS",
    "PAIR_GRIDS",
    "RESAMPLING_METHODS",
    "Bounds",
    "CancelledError",
    "ClipPlan",
    "ClipWarning",
    "Crs",
    "CrsMismatchError",
    "ExecutorError",
    "InputChangedError",
    "GdalWarning",
    "Grid",
    "InlineExecutor",
    "NoOverlapError",
    "NoValidDataError",
    "NoValidNodataError",
    "OutputFormatError",
    "OutputPathError",
    "OutputPlan",
    "OverlapClipError",
    "OverlapSummary",
    "RasterInfo",
    "RasterOpenError",
    "RunResult",
    "Source",
    "SplitAreaError",
    "UnsupportedGeoreferenceError",
    "UnsupportedOptionError",
    "Window",
    "WriteError",
    "clip",
    "clip_pair",
    "common_area",
    "crs_from_wkt",
    "crs_name",
    "driver_for_path",
    "make_executor",
    "output_names",
    "overlap_summary",
    "plan_clip",
    "read_raster",
    "reference_of",
    "run_clip",
    "write_output",
    "write_plan",
]
