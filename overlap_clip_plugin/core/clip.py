"""Clip rasters to their common area: plan every output first, then write.

:func:`plan_clip` reads the inputs, checks everything that can be checked and
fixes each output's grid; nothing is written until it has succeeded.
:func:`write_output` then writes one output.

Each output is first described as a lazy GDAL VRT over its source: a pixel
window of the source when the source already lies on the output grid (same
CRS, pixel size and pixel phase), so values are copied bit for bit; a warped
VRT otherwise. The VRT gets the output grid's exact geotransform and CRS, so
that outputs meant to share a grid share it to the last bit, and then it is
materialised block by block with ``gdal.Translate`` in the format the output's
extension asks for. No window is ever read into memory whole.

Two rasters or many take the same path: a pair is the case ``N = 2``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Optional

from osgeo import gdal

from overlap_clip_plugin.core.area import common_area, crs_name, same_crs
from overlap_clip_plugin.core.errors import (
    CancelledError,
    NoOverlapError,
    OutputFormatError,
    OutputPathError,
    WriteError,
)
from overlap_clip_plugin.core.grid import Bounds, Grid, Window
from overlap_clip_plugin.core.raster import RasterInfo, gdal_call, open_raster, quiet_gdal, read_raster

#: Resampling methods, by their GDAL names, in the order the algorithm lists them.
RESAMPLING_METHODS: tuple[str, ...] = (
    "near",
    "bilinear",
    "cubic",
    "cubicspline",
    "lanczos",
    "average",
    "mode",
    "min",
    "max",
    "med",
    "q1",
    "q3",
)

#: A progress callback: receives the fraction done (0 to 1), returns False to cancel.
Progress = Callable[[float], bool]


@dataclass(frozen=True)
class OutputPlan:
    """How one output is made.

    ``window`` is the block of the source copied as is, or ``None`` when the
    source is resampled onto ``grid``. ``area`` is the common area in the
    output's CRS, before the pixel rule is applied.
    """

    source: RasterInfo
    path: str
    driver: str
    grid: Grid
    crs_wkt: str
    area: Bounds
    window: Window | None

    @property
    def copied(self) -> bool:
        return self.window is not None


@dataclass(frozen=True)
class ClipPlan:
    """Every output of one run, in input order."""

    outputs: tuple[OutputPlan, ...]


def driver_for_path(path: str) -> str:
    """The short name of the GDAL driver that writes rasters with ``path``'s extension.

    Raises
    ------
    OutputFormatError
        The path has no extension, or no installed driver writes it.
    """
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if not extension:
        raise OutputFormatError(
            f"The output '{path}' has no file extension, so its format is unknown (use .tif, for example)."
        )
    # Registration order puts the general-purpose driver first (GTiff before COG).
    for index in range(gdal.GetDriverCount()):
        driver = gdal.GetDriver(index)
        metadata = driver.GetMetadata() or {}
        if metadata.get("DCAP_RASTER") != "YES":
            continue
        if metadata.get("DCAP_CREATE") != "YES" and metadata.get("DCAP_CREATECOPY") != "YES":
            continue
        if extension in (metadata.get("DMD_EXTENSIONS") or "").lower().split():
            return str(driver.ShortName)
    raise OutputFormatError(f"No GDAL raster driver on this machine writes '.{extension}' files (output '{path}').")


def _same_file(path_a: str, path_b: str) -> bool:
    if os.path.exists(path_a) and os.path.exists(path_b):
        return os.path.samefile(path_a, path_b)
    return os.path.normcase(os.path.realpath(path_a)) == os.path.normcase(os.path.realpath(path_b))


def _check_output_paths(inputs: Sequence[RasterInfo], outputs: Sequence[str]) -> list[str]:
    """The driver of each output, after refusing outputs that would overwrite inputs or each other."""
    drivers = []
    for index, output in enumerate(outputs):
        for raster in inputs:
            if _same_file(output, raster.path):
                raise OutputPathError(
                    f"The output '{output}' is the input '{raster.path}'; choose another output path."
                )
        for other in outputs[:index]:
            if _same_file(output, other):
                raise OutputPathError(f"Two outputs have the same path '{output}'; give each output its own path.")
        folder = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(folder):
            raise OutputPathError(f"The folder '{folder}' of the output '{output}' does not exist.")
        drivers.append(driver_for_path(output))
    return drivers


def _empty_window_error(raster: RasterInfo, area: Bounds, grid: Grid) -> NoOverlapError:
    return NoOverlapError(
        f"The common area {area} in {crs_name(raster.crs_wkt)} holds no pixel centre of the "
        f"{abs(grid.dx):g} x {abs(grid.dy):g} grid of '{raster.name}': it is thinner than one pixel."
    )


def _copy_window(source: RasterInfo, target: Grid, target_crs: str) -> Window | None:
    """The block of ``source`` that lies exactly on ``target``, or None when ``source`` must be resampled."""
    if not same_crs(source.crs_wkt, target_crs):
        return None
    offset = source.grid.offset_on(target)
    if offset is None:
        return None
    # The target's pixel (0, 0) is the source's pixel (-col, -row).
    window = Window(-offset[0], -offset[1], target.width, target.height)
    inside = (
        window.col_off >= 0
        and window.row_off >= 0
        and window.col_off + window.width <= source.grid.width
        and window.row_off + window.height <= source.grid.height
    )
    return window if inside else None


def plan_clip(inputs: Sequence[str], outputs: Sequence[str], reference: Optional[int] = 0) -> ClipPlan:
    """Check the inputs and outputs and fix every output's grid, writing nothing.

    Parameters
    ----------
    inputs
        Paths of two or more rasters.
    outputs
        One output path per input; the extension chooses the format.
    reference
        Index of the input whose grid (CRS, pixel size, pixel phase) every
        output takes; ``None`` keeps each raster on its own grid, never
        resampling.

    Returns
    -------
    ClipPlan
        One :class:`OutputPlan` per input. With a reference, all outputs have
        the same CRS and grid (geotransform and size), bit for bit.

    Raises
    ------
    OverlapClipError
        Any subclass, for bad inputs or outputs and for rasters without a
        common area.
    """
    if len(inputs) < 2:
        raise ValueError("At least two input rasters are needed.")
    if len(outputs) != len(inputs):
        raise ValueError(f"{len(inputs)} inputs need {len(inputs)} outputs, not {len(outputs)}.")
    if reference is not None and not 0 <= reference < len(inputs):
        raise ValueError(f"The reference index {reference} is not one of the {len(inputs)} inputs.")
    rasters = [read_raster(path) for path in inputs]
    drivers = _check_output_paths(rasters, outputs)

    plans = []
    if reference is not None:
        ref = rasters[reference]
        area = common_area(rasters, reference)
        window = ref.grid.window_for(area)
        if window.is_empty:
            raise _empty_window_error(ref, area, ref.grid)
        grid = ref.grid.subgrid(window)
        for raster, path, driver in zip(rasters, outputs, drivers):
            copy = _copy_window(raster, grid, ref.crs_wkt)
            plans.append(OutputPlan(raster, path, driver, grid, ref.crs_wkt, area, copy))
    else:
        for index, (raster, path, driver) in enumerate(zip(rasters, outputs, drivers)):
            area = common_area(rasters, index)
            window = raster.grid.window_for(area)
            if window.is_empty:
                raise _empty_window_error(raster, area, raster.grid)
            plans.append(OutputPlan(raster, path, driver, raster.grid.subgrid(window), raster.crs_wkt, area, window))
    return ClipPlan(tuple(plans))


def _copy_band_properties(source: gdal.Dataset, view: gdal.Dataset) -> None:
    """Carry what a warp may drop over to ``view``: metadata, descriptions, colours, scale and offset."""
    view.SetMetadata(source.GetMetadata() or {})
    for index in range(1, source.RasterCount + 1):
        src, dst = source.GetRasterBand(index), view.GetRasterBand(index)
        dst.SetDescription(src.GetDescription())
        dst.SetMetadata(src.GetMetadata() or {})
        dst.SetColorInterpretation(src.GetColorInterpretation())
        table = src.GetColorTable()
        if table is not None:
            dst.SetColorTable(table)
        scale, offset = src.GetScale(), src.GetOffset()
        if scale is not None and scale != 1.0:
            dst.SetScale(scale)
        if offset is not None and offset != 0.0:
            dst.SetOffset(offset)
        if src.GetUnitType():
            dst.SetUnitType(src.GetUnitType())
        nodata = src.GetNoDataValue()
        if nodata is not None:
            dst.SetNoDataValue(nodata)


def _view(plan: OutputPlan, resampling: str) -> gdal.Dataset:
    """A lazy VRT of ``plan``'s output: a source window, or a warp onto the output grid."""
    source = open_raster(plan.source.path)
    if plan.window is not None:
        w = plan.window
        view = gdal_call(
            WriteError,
            f"Cannot read a window of '{plan.source.path}'",
            gdal.Translate,
            "",
            source,
            format="VRT",
            srcWin=[w.col_off, w.row_off, w.width, w.height],
        )
    else:
        bounds = plan.grid.bounds
        view = gdal_call(
            WriteError,
            f"Cannot resample '{plan.source.path}'",
            gdal.Warp,
            "",
            source,
            format="VRT",
            outputBounds=(bounds.xmin, bounds.ymin, bounds.xmax, bounds.ymax),
            width=plan.grid.width,
            height=plan.grid.height,
            dstSRS=plan.crs_wkt or None,
            resampleAlg=resampling,
            multithread=True,
            warpOptions=["NUM_THREADS=ALL_CPUS"],
        )
    view.SetGeoTransform(plan.grid.transform)
    if plan.crs_wkt:
        view.SetProjection(plan.crs_wkt)
    _copy_band_properties(source, view)
    return view


def _remove_dataset(path: str) -> None:
    """Delete a possibly half-written output and its side files."""
    with quiet_gdal():
        driver = gdal.IdentifyDriver(path)
        if driver is not None:
            driver.Delete(path)
    for leftover in (path, path + ".aux.xml", path + ".ovr"):
        if os.path.exists(leftover):
            os.remove(leftover)


def write_output(
    plan: OutputPlan,
    resampling: str = "near",
    creation_options: Sequence[str] = (),
    progress: Progress | None = None,
) -> None:
    """Write one planned output.

    Raises
    ------
    CancelledError
        ``progress`` returned False; the partial output is removed.
    WriteError
        GDAL failed to write; the partial output is removed.
    """
    if resampling not in RESAMPLING_METHODS:
        raise ValueError(f"Unknown resampling method '{resampling}'; use one of {', '.join(RESAMPLING_METHODS)}.")
    cancelled = False

    def callback(complete: float, _message: str, _data: object) -> int:
        nonlocal cancelled
        if progress is not None and progress(complete) is False:
            cancelled = True
            return 0
        return 1

    view = _view(plan, resampling)
    try:
        if plan.driver == "VRT":
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
            del written
    except WriteError as err:
        _remove_dataset(plan.path)
        if cancelled:
            raise CancelledError(f"Cancelled while writing '{plan.path}'; the partial file was removed.") from err
        raise
    if cancelled:
        _remove_dataset(plan.path)
        raise CancelledError(f"Cancelled while writing '{plan.path}'; the partial file was removed.")


def write_plan(
    plan: ClipPlan,
    resampling: str = "near",
    creation_options: Sequence[str] = (),
    progress: Progress | None = None,
) -> None:
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
            write_output(output, resampling, creation_options, part)
        except Exception:
            for path in done:
                _remove_dataset(path)
            raise
        done.append(output.path)


def clip(
    inputs: Sequence[str],
    outputs: Sequence[str],
    reference: Optional[int] = 0,
    resampling: str = "near",
    creation_options: Sequence[str] = (),
    progress: Progress | None = None,
) -> ClipPlan:
    """Clip ``inputs`` to their common area and write ``outputs``.

    :func:`plan_clip` then :func:`write_plan`; see those for the parameters.
    """
    if resampling not in RESAMPLING_METHODS:
        raise ValueError(f"Unknown resampling method '{resampling}'; use one of {', '.join(RESAMPLING_METHODS)}.")
    plan = plan_clip(inputs, outputs, reference)
    write_plan(plan, resampling, creation_options, progress)
    return plan


#: Grid modes of a pair, as the algorithm numbers them.
GRID_A, GRID_B, GRID_OWN = 0, 1, 2


def pair_reference(grid: int) -> Optional[int]:
    """The ``reference`` argument of :func:`plan_clip` for a pair's grid mode.

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
) -> ClipPlan:
    """Clip two rasters to their common area: :func:`clip` with ``N = 2``; see :func:`pair_reference`."""
    return clip([input_a, input_b], [output_a, output_b], pair_reference(grid), resampling, creation_options, progress)
