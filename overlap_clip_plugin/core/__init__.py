"""Overlap Clip's core: clip rasters to their common area with GDAL alone (no QGIS).

Example::

    from overlap_clip_plugin.core import clip_pair

    plan = clip_pair("a.tif", "b.tif", "a_common.tif", "b_common.tif")
    for output in plan.outputs:
        print(output.path, output.grid, "copied" if output.copied else "resampled")
"""

from overlap_clip_plugin.core.area import common_area, crs_name, same_crs
from overlap_clip_plugin.core.errors import (
    CancelledError,
    CrsMismatchError,
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
from overlap_clip_plugin.core.grid import Bounds, Grid, Window
from overlap_clip_plugin.core.overlap import OverlapSummary, overlap_summary
from overlap_clip_plugin.core.plan import (
    AREA_EXTENTS,
    AREA_VALID,
    RESAMPLING_METHODS,
    ClipPlan,
    OutputPlan,
    driver_for_path,
    output_names,
    plan_clip,
)
from overlap_clip_plugin.core.raster import ClipWarning, GdalWarning, RasterInfo, Source, read_raster
from overlap_clip_plugin.core.write import (
    GRID_A,
    GRID_B,
    GRID_OWN,
    clip,
    clip_pair,
    pair_reference,
    write_output,
    write_plan,
)

__all__ = [
    "AREA_EXTENTS",
    "AREA_VALID",
    "GRID_A",
    "GRID_B",
    "GRID_OWN",
    "RESAMPLING_METHODS",
    "Bounds",
    "CancelledError",
    "ClipWarning",
    "ClipPlan",
    "CrsMismatchError",
    "GdalWarning",
    "Grid",
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
    "Source",
    "SplitAreaError",
    "UnsupportedGeoreferenceError",
    "UnsupportedOptionError",
    "Window",
    "WriteError",
    "clip",
    "clip_pair",
    "common_area",
    "crs_name",
    "driver_for_path",
    "output_names",
    "overlap_summary",
    "pair_reference",
    "plan_clip",
    "read_raster",
    "same_crs",
    "write_output",
    "write_plan",
]
