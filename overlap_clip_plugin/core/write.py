"""Write planned outputs, block by block, and clip in one call.

Each output is first a lazy VRT over its source (:mod:`overlap_clip_plugin.core.views`);
an unmasked output is then materialised with ``gdal.Translate`` in the
format its extension asks for (a ``.vrt`` output stays a lazy description of
its source). A masked output is written strip by strip, setting nodata where
the common valid-data mask says so. No window is ever read into memory whole.
On failure or cancel the partial output is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Optional

from osgeo import gdal

from overlap_clip_plugin.core.errors import CancelledError, WriteError
from overlap_clip_plugin.core.plan import AREA_EXTENTS, ClipPlan, OutputPlan, Progress, plan_clip
from overlap_clip_plugin.core.raster import bounded_cache, gdal_call, quiet_gdal
from overlap_clip_plugin.core.validity import CommonMask, strips
from overlap_clip_plugin.core.views import copy_band_properties, set_nodata, source_view


def remove_dataset(path: str) -> None:
    """Delete a possibly half-written output and its side files."""
    with quiet_gdal():
        driver = gdal.IdentifyDriver(path)
        if driver is not None:
            driver.Delete(path)
    for leftover in (path, path + ".aux.xml", path + ".ovr"):
        if os.path.exists(leftover):
            os.remove(leftover)


def _write_masked(plan: OutputPlan, view: gdal.Dataset, creation_options: Sequence[str], callback) -> None:
    """Write ``view`` strip by strip with nodata wherever the common mask of ``plan.mask_with`` is invalid."""
    driver = gdal.GetDriverByName(plan.driver)
    direct = driver.GetMetadataItem(gdal.DCAP_CREATE) == "YES"
    # Formats GDAL can only copy into are written as a GeoTIFF first, then copied.
    staging = plan.path if direct else tempfile.mktemp(suffix=".tif", dir=os.path.dirname(os.path.abspath(plan.path)))
    target = driver if direct else gdal.GetDriverByName("GTiff")
    options = list(creation_options) if direct else ["TILED=YES"]
    grid = plan.grid
    data_type = view.GetRasterBand(1).DataType
    out = gdal_call(
        WriteError,
        f"Cannot create '{plan.path}'",
        target.Create,
        staging,
        grid.width,
        grid.height,
        view.RasterCount,
        data_type,
        options,
    )
    try:
        out.SetGeoTransform(grid.transform)
        if plan.crs_wkt:
            out.SetProjection(plan.crs_wkt)
        copy_band_properties(view, out)
        for index, nodata in enumerate(plan.nodata, start=1):
            if nodata is not None:
                set_nodata(out.GetRasterBand(index), nodata)
        mask = CommonMask(plan.mask_with, grid, plan.crs_wkt)
        for row_off, rows in strips(grid, view.RasterCount):
            valid = mask.read(row_off, rows)
            for index in range(1, view.RasterCount + 1):
                data = view.GetRasterBand(index).ReadAsArray(0, row_off, grid.width, rows)
                if data is None:
                    raise WriteError(f"Cannot read '{plan.source.path}': {gdal.GetLastErrorMsg()}")
                data[~valid] = plan.nodata[index - 1]
                out.GetRasterBand(index).WriteArray(data, 0, row_off)
            if not callback((row_off + rows) / grid.height * (1.0 if direct else 0.5), "", None):
                raise WriteError("User terminated")
        out.FlushCache()
        out = None
        if not direct:
            written = gdal_call(
                WriteError,
                f"Cannot write '{plan.path}'",
                gdal.Translate,
                plan.path,
                staging,
                format=plan.driver,
                creationOptions=list(creation_options),
                callback=lambda complete, message, data: callback(0.5 + complete / 2, message, data),
            )
            del written  # closes the file
    finally:
        out = None
        if not direct:
            remove_dataset(staging)


def write_output(plan: OutputPlan, creation_options: Sequence[str] = (), progress: Progress | None = None) -> None:
    """Write one planned output.

    Raises
    ------
    CancelledError
        ``progress`` returned False; the partial output is removed.
    WriteError
        GDAL failed to write; the partial output is removed.
    """
    cancelled = False

    def callback(complete: float, _message: str, _data: object) -> int:
        nonlocal cancelled
        if progress is not None and progress(complete) is False:
            cancelled = True
            return 0
        return 1

    view = source_view(plan.source, plan.grid, plan.crs_wkt, plan.window, plan.resampling)
    try:
        if plan.mask_with:
            _write_masked(plan, view, creation_options, callback)
        elif plan.driver == "VRT":
            # A VRT output stays a lazy description of its source.
            gdal_call(
                WriteError, f"Cannot write '{plan.path}'", gdal.GetDriverByName("VRT").CreateCopy, plan.path, view
            )
            callback(1.0, "", None)
        else:
            written = gdal_call(
                WriteError,
                f"Cannot write '{plan.path}'",
                gdal.Translate,
                plan.path,
                view,
                format=plan.driver,
                creationOptions=list(creation_options),
                callback=callback,
            )
            written.FlushCache()
            written = None
    except WriteError as err:
        remove_dataset(plan.path)
        if cancelled:
            raise CancelledError(f"Cancelled while writing '{plan.path}'; the partial file was removed.") from err
        raise
    if cancelled:
        remove_dataset(plan.path)
        raise CancelledError(f"Cancelled while writing '{plan.path}'; the partial file was removed.")


@bounded_cache()
def write_plan(plan: ClipPlan, creation_options: Sequence[str] = (), progress: Progress | None = None) -> None:
    """Write every output of ``plan``; progress runs from 0 to 1 over all of them.

    If writing one output fails or is cancelled, the outputs already written
    by this call are removed too.
    """
    count = len(plan.outputs)
    done: list[str] = []
    for index, output in enumerate(plan.outputs):

        def part(fraction: float, index: int = index) -> bool:
            return True if progress is None else progress((index + fraction) / count)

        try:
            write_output(output, creation_options, part)
        except Exception:
            for path in done:
                remove_dataset(path)
            raise
        done.append(output.path)


def clip(
    inputs: Sequence[str],
    outputs: Sequence[str],
    reference: Optional[int] = 0,
    resampling: str = "near",
    creation_options: Sequence[str] = (),
    progress: Progress | None = None,
    area: int = AREA_EXTENTS,
    mask_common: bool = False,
) -> ClipPlan:
    """Clip ``inputs`` to their common area and write ``outputs``.

    :func:`~overlap_clip_plugin.core.plan.plan_clip` then :func:`write_plan`;
    see those for the parameters. Progress covers the writing.
    """
    plan = plan_clip(inputs, outputs, reference, area, mask_common, resampling)
    write_plan(plan, creation_options, progress)
    return plan


#: Grid modes of a pair, as the algorithm numbers them.
GRID_A, GRID_B, GRID_OWN = 0, 1, 2


def pair_reference(grid: int) -> Optional[int]:
    """The ``reference`` argument of ``plan_clip`` for a pair's grid mode.

    :data:`GRID_A` puts both outputs on A's grid, :data:`GRID_B` on B's grid,
    :data:`GRID_OWN` keeps each on its own grid (never resampling).
    """
    references: dict[int, Optional[int]] = {GRID_A: 0, GRID_B: 1, GRID_OWN: None}
    if grid not in references:
        raise ValueError(f"Unknown grid mode {grid}; use 0 (A's grid), 1 (B's grid) or 2 (each raster's own grid).")
    return references[grid]


def clip_pair(
    input_a: str,
    input_b: str,
    output_a: str,
    output_b: str,
    grid: int = GRID_A,
    resampling: str = "near",
    creation_options: Sequence[str] = (),
    progress: Progress | None = None,
    area: int = AREA_EXTENTS,
    mask_common: bool = False,
) -> ClipPlan:
    """Clip two rasters to their common area: :func:`clip` with ``N = 2``; see :func:`pair_reference`."""
    return clip(
        [input_a, input_b],
        [output_a, output_b],
        pair_reference(grid),
        resampling,
        creation_options,
        progress,
        area,
        mask_common,
    )
