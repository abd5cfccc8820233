"""Write planned outputs, block by block, safely; and clip in one call.

Each output is first a lazy VRT over its source (:mod:`overlap_clip_plugin.core.views`);
an unmasked output is then materialised with ``gdal.Translate`` in the
format its extension asks for (a ``.vrt`` output stays a lazy description of
its source). A masked output is written strip by strip, setting nodata where
the common valid-data mask says so. No window is ever read into memory whole.

Nothing is lost and nothing is left half-written: every output is written
under a temporary name in its own folder (``.<name>.partial-<id><ext>``) and
renamed over the output path only when all outputs of the run are complete.
On failure or cancel the temporary files are removed and any file already at
an output path is untouched. Inputs are only ever opened read-only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from typing import Optional

from osgeo import gdal

from overlap_clip_plugin.core.errors import CancelledError, OutputPathError, WriteError
from overlap_clip_plugin.core.plan import AREA_EXTENTS, ClipPlan, OutputPlan, Progress, plan_clip
from overlap_clip_plugin.core.raster import RasterInfo, bounded_cache, gdal_call, gdal_mode, quiet_gdal
from overlap_clip_plugin.core.validity import CommonMask, strips
from overlap_clip_plugin.core.views import copy_band_properties, set_nodata, source_view

GdalProgress = Callable[[float, str, object], int]


def temporary_path(path: str) -> str:
    """A hidden, unique name beside ``path``, with the same extension (drivers may look at it)."""
    folder, name = os.path.split(os.path.abspath(path))
    stem, extension = os.path.splitext(name)
    return os.path.join(folder, f".{stem}.partial-{uuid.uuid4().hex[:12]}{extension}")


def _temporary_files(path: str) -> list[str]:
    """The files of the temporary dataset at ``path``: its name and the side files named after it.

    Matched by the temporary's unique name, never by what GDAL lists (a
    VRT's file list holds its sources).
    """
    folder, name = os.path.split(os.path.abspath(path))
    stem = os.path.splitext(name)[0]
    return sorted(
        os.path.join(folder, entry)
        for entry in os.listdir(folder)
        if entry in (name, stem) or entry.startswith(stem + ".")
    )


def remove_temporary(path: str) -> None:
    """Delete a temporary output and its side files, whatever state it is in."""
    for leftover in _temporary_files(path):
        os.remove(leftover)


#: Side files GDAL keeps beside a raster; those of a replaced output would describe the wrong data.
SIDE_FILES = (".aux.xml", ".msk", ".ovr")


def _renames(temporary: str, path: str) -> list[tuple[str, str]]:
    """Each file of the temporary output, and the name it takes beside ``path``."""
    folder = os.path.dirname(os.path.abspath(temporary))
    temporary_stem = os.path.splitext(os.path.basename(temporary))[0]
    final_stem = os.path.splitext(os.path.basename(path))[0]
    return [
        (source, os.path.join(folder, final_stem + os.path.basename(source)[len(temporary_stem) :]))
        for source in _temporary_files(temporary)
    ]


def _input_files(rasters: Sequence[RasterInfo]) -> dict[str, str]:
    """Every file of every input (side files included) -> the input it belongs to."""
    files = {}
    for raster in rasters:
        with quiet_gdal():
            dataset = gdal.OpenEx(raster.path, gdal.OF_RASTER | gdal.OF_READONLY)
            listed = (dataset.GetFileList() if dataset is not None else None) or [raster.path]
        for name in listed:
            files[os.path.realpath(name)] = raster.path
    return files


def _commit(pairs: Sequence[tuple[str, str]], rasters: Sequence[RasterInfo]) -> None:
    """Rename each finished temporary output (with its side files) over its output path.

    Refuses, before renaming anything, a rename that would replace a file of an
    input (a shared ``.hdr`` of a same-named input, say).
    """
    protected = _input_files(rasters)
    moves = [(path, _renames(temporary, path)) for temporary, path in pairs]
    for path, renames in moves:
        for _, target in renames:
            owner = protected.get(os.path.realpath(target))
            if owner is not None:
                raise OutputPathError(
                    "Writing '{output}' would replace '{file}', a file of the input '{input}'; choose another "
                    "output name.",
                    output=path,
                    file=target,
                    input=owner,
                )
    for path, renames in moves:
        try:
            for source, target in renames:
                os.replace(source, target)
        except OSError as err:
            raise WriteError(
                "Cannot move the finished output into place at '{path}': {reason}.", path=path, reason=err.strerror
            ) from err
        moved = {target for _, target in renames}
        for suffix in SIDE_FILES:
            stale = os.path.abspath(path) + suffix
            if stale not in moved and os.path.exists(stale):
                os.remove(stale)


def _options(plan: OutputPlan, creation_options: Sequence[str]) -> list[str]:
    """The creation options for ``plan``'s output, naming a GeoPackage's raster table after the output."""
    options = list(creation_options)
    if plan.driver == "GPKG" and not any(option.upper().startswith("RASTER_TABLE=") for option in options):
        options.append("RASTER_TABLE=" + os.path.splitext(os.path.basename(plan.path))[0])
    return options


def _write_masked(
    plan: OutputPlan, view: gdal.Dataset, target: str, options: Sequence[str], callback: GdalProgress
) -> None:
    """Write ``view`` to ``target`` strip by strip, nodata wherever the common mask of ``plan.mask_with`` is invalid."""
    driver = gdal.GetDriverByName(plan.driver)
    direct = driver.GetMetadataItem(gdal.DCAP_CREATE) == "YES"
    # Formats GDAL can only copy into are written as a GeoTIFF first, then copied.
    staging = target if direct else temporary_path(os.path.splitext(target)[0] + ".tif")
    creator = driver if direct else gdal.GetDriverByName("GTiff")
    grid = plan.grid
    out = gdal_call(
        WriteError,
        f"Cannot create '{plan.path}'",
        creator.Create,
        staging,
        grid.width,
        grid.height,
        view.RasterCount,
        view.GetRasterBand(1).DataType,
        list(options) if direct else ["TILED=YES"],
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
                    raise WriteError(
                        "Cannot read '{path}': {reason}", path=plan.source.path, reason=gdal.GetLastErrorMsg()
                    )
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
                target,
                staging,
                format=plan.driver,
                creationOptions=list(options),
                callback=lambda complete, message, data: callback(0.5 + complete / 2, message, data),
            )
            del written  # closes the file
    finally:
        out = None
        if not direct:
            remove_temporary(staging)


def _write_to(plan: OutputPlan, target: str, creation_options: Sequence[str], progress: Progress | None) -> None:
    """Write ``plan``'s output at ``target``. On failure or cancel ``target`` is removed."""
    cancelled = False

    def callback(complete: float, _message: str, _data: object) -> int:
        nonlocal cancelled
        if progress is not None and progress(complete) is False:
            cancelled = True
            return 0
        return 1

    failure = f"GDAL failed while writing '{plan.path}' from '{plan.source.path}'"
    try:
        view = source_view(plan.source, plan.grid, plan.crs_wkt, plan.window, plan.resampling)
        if plan.mask_with:
            _write_masked(plan, view, target, _options(plan, creation_options), callback)
        elif plan.driver == "VRT":
            # A VRT output stays a lazy description of its source.
            gdal_call(WriteError, failure, gdal.GetDriverByName("VRT").CreateCopy, target, view)
            callback(1.0, "", None)
        else:
            written = gdal_call(
                WriteError,
                failure,
                gdal.Translate,
                target,
                view,
                format=plan.driver,
                creationOptions=_options(plan, creation_options),
                callback=callback,
            )
            written.FlushCache()
            del written  # closes the file
        if cancelled:
            raise WriteError("User terminated")
    except BaseException as err:
        remove_temporary(target)
        if cancelled:
            raise CancelledError("Cancelled while writing '{path}'; nothing was written.", path=plan.path) from err
        raise


def write_output(plan: OutputPlan, creation_options: Sequence[str] = (), progress: Progress | None = None) -> None:
    """Write one planned output: under a temporary name, then renamed over ``plan.path``.

    Raises
    ------
    CancelledError
        ``progress`` returned False; nothing is left behind.
    WriteError
        GDAL failed to write; nothing is left behind.
    """
    write_plan(ClipPlan((plan,), (plan.source, *plan.mask_with)), creation_options, progress)


@gdal_mode()
@bounded_cache()
def write_plan(plan: ClipPlan, creation_options: Sequence[str] = (), progress: Progress | None = None) -> None:
    """Write every output of ``plan``; progress runs from 0 to 1 over all of them.

    All outputs are written under temporary names first and renamed over the
    output paths only when every one is complete: if one fails or is
    cancelled, no output path changes.
    """
    count = len(plan.outputs)
    targets: list[str] = []
    try:
        for index, output in enumerate(plan.outputs):

            def part(fraction: float, index: int = index) -> bool:
                return True if progress is None else progress((index + fraction) / count)

            target = temporary_path(output.path)
            targets.append(target)
            _write_to(output, target, creation_options, part)
            # Each output's share ends where it is complete, however GDAL reported along the way.
            if not part(1.0):
                raise CancelledError("Cancelled while writing '{path}'; nothing was written.", path=output.path)
        _commit([(target, output.path) for output, target in zip(plan.outputs, targets)], plan.rasters)
    finally:
        # Whatever is still under a temporary name did not make it: remove it.
        for target in targets:
            remove_temporary(target)


@gdal_mode()
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
