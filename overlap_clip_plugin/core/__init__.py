"""Overlap Clip's core: clip rasters to their common area with GDAL alone (no QGIS).

Example::

    from overlap_clip_plugin.core import clip_pair

    plan = clip_pair("a.tif", "b.tif", "a_common.tif", "b_common.tif")
    for output in plan.outputs:
        print(output.path, output.grid, "copied" if output.copied else "resampled")
"""

from overlap_clip_plugin.core.area import common_area, crs_name, same_crs
from overlap_clip_plugin.core.clip import (
    GRID_A,
    GRID_B,
    GRID_OWN,
    RESAMPLING_METHODS,
    ClipPlan,
    OutputPlan,
    clip,
    clip_pair,
    driver_for_path,
    pair_reference,
    plan_clip,
    write_output,
    write_plan,
)
from overlap_clip_plugin.core.errors import (
    CancelledError,
    CrsMismatchError,
    NoOverlapError,
    OutputFormatError,
    OutputPathError,
    OverlapClipError,
    RasterOpenError,
    UnsupportedGeoreferenceError,
    WriteError,
)
from overlap_clip_plugin.core.grid import Bounds, Grid, Window
from overlap_clip_plugin.core.raster import RasterInfo, read_raster

__all__ = [
    "GRID_A",
    "GRID_B",
    "GRID_OWN",
    "RESAMPLING_METHODS",
    "Bounds",
    "CancelledError",
    "ClipPlan",
    "CrsMismatchError",
    "Grid",
    "NoOverlapError",
    "OutputFormatError",
    "OutputPathError",
    "OutputPlan",
    "OverlapClipError",
    "RasterInfo",
    "RasterOpenError",
    "UnsupportedGeoreferenceError",
    "Window",
    "WriteError",
    "clip",
    "clip_pair",
    "common_area",
    "crs_name",
    "driver_for_path",
    "pair_reference",
    "plan_clip",
    "read_raster",
    "same_crs",
    "write_output",
    "write_plan",
]
