"""Write planned outputs, block by block, safely; and clip in one call.

Each output is first a lazy VRT over its source (:mod:`overlap_clip_plugin.core.views`);
an unmasked output is then materialised with ``gdal.Translate`` in the
format its extension asks for (a ``.vrt`` output stays a lazy description of
its source). A masked output is written strip by strip, setting nodata where
the common valid-data mask says so. No window is ever read into memory whole.

Nothing is lost and nothing is left half-written: every output is written
under its final name in a hidden staging folder beside it
(``.overlapclip-<id>/``) and moved over the output path only when all
outputs of the run are complete, all or nothing (:func:`_commit`). On
failure or cancel the staging folders are removed and any file already at
an output path is untouched. Inputs are only ever opened read-only.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import os
import shutil
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Optional

from osgeo import gdal

from overlap_clip_plugin.core.distribute import run_pieces
from overlap_clip_plugin.core.errors import CancelledError, OutputPathError, WriteError, translatable
from overlap_clip_plugin.core.formats import check_output_format
from overlap_clip_plugin.core.plan import (
    AREA_EXTENTS,
    VALIDITY_ALPHA,
    VALIDITY_MASK,
    VALIDITY_NODATA,
    ClipPlan,
    OutputPlan,
    Progress,
    Warn,
    plan_clip,
)
from overlap_clip_plugin.core.raster import (
    ClipWarning,
    RasterInfo,
    Source,
    bounded_cache,
    gdal_call,
    gdal_mode,
    gdal_warnings,
    open_raster,
    quiet_gdal,
)
from overlap_clip_plugin.core.validity import strips, valid_reader
from overlap_clip_plugin.core.views import copy_band_properties, set_nodata, source_view, warp_settings, warping_with

GdalProgress = Callable[[float, str, object], int]


def staging_folder(path: str) -> str:
    """A new hidden folder beside ``path`` in which its output is written under its final name.

    Under its final name, a format whose header names its companion files
    (ISIS3, PDS4, ERS, ...) names them right; beside the output, the commit
    is a rename on one file system.
    """
    folder = os.path.dirname(os.path.abspath(path))
    return tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder)


#: The prefix of staging folders and of replaced files kept until a commit is complete.
STAGING_PREFIX = ".overlapclip-"


def staged_path(path: str, staging: str) -> str:
    """Where ``path``'s output is written inside ``staging``."""
    return os.path.join(staging, os.path.basename(path))


def remove_staging(staging: str) -> None:
    """Delete a staging folder and whatever is in it."""
    shutil.rmtree(staging, ignore_errors=True)


#: Side files GDAL keeps beside a raster; those of a replaced output would describe the wrong data.
SIDE_FILES = (".aux.xml", ".msk", ".ovr")


def _input_files(rasters: Sequence[RasterInfo]) -> dict[str, str]:
    """Every file of every input (side files included) -> the input it belongs to."""
    files = {}
    for raster in rasters:
        with quiet_gdal():
            dataset = gdal.OpenEx(
                raster.path, gdal.OF_RASTER | gdal.OF_READONLY, open_options=list(raster.open_options)
            )
            listed = (dataset.GetFileList() if dataset is not None else None) or [raster.path]
        for name in listed:
            files[os.path.realpath(name)] = raster.path
    return files


def _commit(pairs: Sequence[tuple[str, str]], rasters: Sequence[RasterInfo]) -> None:
    """Move each finished output (every file in its staging folder) into place, all or nothing.

    Refuses, before moving anything, a move that would replace a file of an
    input (a shared ``.hdr`` of a same-named input, say). Then every file the
    commit replaces, and the stale side files of a replaced output, are first
    renamed aside; only when every new file is in place are they deleted. If
    any rename fails, the ones done are undone in reverse, so every output
    path is as it was before the run.
    """
    protected = _input_files(rasters)
    moves: list[tuple[str, str]] = []
    for staging, path in pairs:
        folder = os.path.dirname(os.path.abspath(path))
        for name in sorted(os.listdir(staging)):
            target = os.path.join(folder, name)
            owner = protected.get(os.path.realpath(target))
            if owner is not None:
                raise OutputPathError(
                    "Writing '{output}' would replace '{file}', a file of the input '{input}'; choose another "
                    "output name.",
                    output=path,
                    file=target,
                    input=owner,
                )
            moves.append((os.path.join(staging, name), target))
    targets = {target for _, target in moves}
    stale = [os.path.abspath(path) + suffix for _, path in pairs for suffix in SIDE_FILES]
    replaced = sorted({name for name in [*targets, *stale] if os.path.lexists(name)})
    done: list[tuple[str, str]] = []
    try:
        for name in replaced:
            aside = os.path.join(os.path.dirname(name), f"{STAGING_PREFIX}replaced-{uuid.uuid4().hex[:12]}")
            os.replace(name, aside)
            done.append((name, aside))
        for source, target in moves:
            os.replace(source, target)
            done.append((source, target))
    except OSError as err:
        for source, target in reversed(done):
            os.replace(target, source)
        raise WriteError(
            "Cannot move the finished outputs into place ({file}: {reason}); every output path is as it was.",
            file=err.filename or "",
            reason=err.strerror or str(err),
        ) from err
    for name, aside in done[: len(replaced)]:
        with contextlib.suppress(OSError):
            os.remove(aside)


def _options(plan: OutputPlan, creation_options: Sequence[str]) -> list[str]:
    """The creation options for ``plan``'s output, naming a GeoPackage's raster table after the output."""
    options = list(creation_options)
    if plan.driver == "GPKG" and not any(option.upper().startswith("RASTER_TABLE=") for option in options):
        options.append("RASTER_TABLE=" + os.path.splitext(os.path.basename(plan.path))[0])
    return options


def _write_masked(
    plan: OutputPlan, view: gdal.Dataset, target: str, options: Sequence[str], callback: GdalProgress
) -> None:
    """Write ``view`` to ``target`` strip by strip, marking invalid wherever the common mask of
    ``plan.mask_with`` is: with nodata, in the alpha band, or in a mask band (``plan.validity``)."""
    driver = gdal.GetDriverByName(plan.driver)
    direct = driver.GetMetadataItem(gdal.DCAP_CREATE) == "YES"
    # Formats GDAL can only copy into are written as a GeoTIFF first, then copied.
    staging = target if direct else os.path.splitext(target)[0] + ".staging.tif"
    creator = driver if direct else gdal.GetDriverByName("GTiff")
    create_options = list(options) if direct else ["TILED=YES"]
    signed = plan.source.bands[0].signed_byte
    if signed and creator.ShortName == "GTiff" and not any(o.upper().startswith("PIXELTYPE=") for o in create_options):
        # GDAL before 3.7 keeps signed bytes as Byte marked SIGNEDBYTE: the mark must be written again.
        create_options.append("PIXELTYPE=SIGNEDBYTE")
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
        create_options,
    )
    try:
        out.SetGeoTransform(grid.transform)
        if plan.crs_wkt:
            out.SetProjection(plan.crs_wkt)
        # The output's nodata is the plan's; the source's own values would clash with it on the way.
        copy_band_properties(view, out, nodata=plan.validity != VALIDITY_NODATA)
        for index, nodata in enumerate(plan.nodata, start=1):
            if nodata is not None:
                set_nodata(out.GetRasterBand(index), nodata)
        alpha = [
            index
            for index in range(1, view.RasterCount + 1)
            if view.GetRasterBand(index).GetColorInterpretation() == gdal.GCI_AlphaBand
        ]
        mask_band = None
        if plan.validity == VALIDITY_MASK:
            gdal_call(WriteError, f"Cannot add a mask band to '{plan.path}'", out.CreateMaskBand, gdal.GMF_PER_DATASET)
            mask_band = out.GetRasterBand(1).GetMaskBand()
        # The run's one scan, kept, serves every masked output; only a raster's own mask is read here.
        read_valid = valid_reader(plan.common_mask, plan.mask_with, grid, plan.crs_wkt)
        for row_off, rows in strips(grid, view.RasterCount):
            valid = read_valid(row_off, rows)
            for index in range(1, view.RasterCount + 1):
                data = view.GetRasterBand(index).ReadAsArray(0, row_off, grid.width, rows)
                if data is None:
                    raise WriteError(
                        "Cannot read '{path}': {reason}", path=plan.source.path, reason=gdal.GetLastErrorMsg()
                    )
                if plan.validity == VALIDITY_NODATA:
                    data[~valid] = plan.nodata[index - 1]
                elif plan.validity == VALIDITY_ALPHA and index in alpha:
                    data[~valid] = 0
                out.GetRasterBand(index).WriteArray(data, 0, row_off)
            if mask_band is not None:
                mask_band.WriteArray(valid.astype("uint8") * 255, 0, row_off)
            if not callback((row_off + rows) / grid.height * (1.0 if direct else 0.5), "", None):
                raise WriteError("User terminated")
        mask_band = None
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
        mask_band = out = None
        if not direct and os.path.exists(staging):
            gdal.GetDriverByName("GTiff").Delete(staging)


def _warp_to(plan: OutputPlan, target: str, options: Sequence[str], callback: GdalProgress, failure: str) -> None:
    """Resample ``plan``'s source straight into ``target`` with GDAL's warper, as gdalwarp does: the
    warper then works on chunks as large as its memory allows, on every core, reading while it computes
    (through a lazy VRT it would warp one small block at a time). The output takes the grid to the last
    bit and the source's band properties, as a view would give them."""
    source = open_raster(plan.source.path, plan.source.open_options)
    out = gdal_call(
        WriteError,
        failure,
        gdal.Warp,
        target,
        source,
        format=plan.driver,
        creationOptions=list(options),
        callback=callback,
        **warp_settings(plan.grid, plan.crs_wkt, plan.resampling, plan.source.warp_options),
    )
    out.SetGeoTransform(plan.grid.transform)
    if plan.crs_wkt:
        out.SetProjection(plan.crs_wkt)
    copy_band_properties(source, out)
    out.FlushCache()
    del out  # closes the file


def _write_view(plan: OutputPlan, target: str, options: Sequence[str], callback: GdalProgress, failure: str) -> None:
    """Write ``plan``'s output from a lazy view of its source: masked strip by strip, as a VRT, or copied
    by gdal_translate."""
    view = source_view(plan.source, plan.grid, plan.crs_wkt, plan.window, plan.resampling)
    if plan.mask_with:
        _write_masked(plan, view, target, options, callback)
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
            creationOptions=list(options),
            callback=callback,
        )
        written.FlushCache()
        del written  # closes the file


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
        if not plan.mask_with and not plan.copied and plan.driver == "GTiff":
            # Other formats keep the lazy view and gdal_translate's copy: some (GeoPackage) refuse a
            # geotransform once the warper has set one, some keep less of the band properties.
            _warp_to(plan, target, _options(plan, creation_options), callback, failure)
        else:
            _write_view(plan, target, _options(plan, creation_options), callback, failure)
        if cancelled:
            raise WriteError("User terminated")
    except BaseException as err:
        if cancelled:
            raise CancelledError("Cancelled while writing '{path}'; nothing was written.", path=plan.path) from err
        raise


def write_output(plan: OutputPlan, creation_options: Sequence[str] = (), progress: Progress | None = None) -> None:
    """Write one planned output: in a staging folder, then moved over ``plan.path``.

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
def write_plan(
    plan: ClipPlan,
    creation_options: Sequence[str] = (),
    progress: Progress | None = None,
    warn: Warn | None = None,
    before_commit: Callable[[], None] | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> None:
    """Write every output of ``plan``; progress runs from 0 to 1 over all of them.

    The creation options are first checked with each output's driver, and
    every warning GDAL gives goes to ``warn`` (see :func:`plan_clip`).
    ``before_commit`` is called when every output is complete and before any
    is moved into place: whatever else a run writes (an overlap polygon, say)
    is written there, and if it raises, no output path changes.

    All outputs are written in staging folders beside them first (under their
    final names) and moved over the output paths only when every one is
    complete; if one fails or is cancelled, or a move fails, no output path
    changes and no staging folder is left.

    With ``executor`` (any ``concurrent.futures.Executor``: a thread pool,
    ``distributed.Client(...).get_executor()``) each output is written as a
    piece through it, into its staging folder, which the workers must see
    (the same machine, or shared storage); this caller commits once every
    piece has succeeded. The files are the same, byte for byte, whatever the
    executor. Progress then moves output by output, and a cancel stops every
    piece not yet started.
    """
    with gdal_warnings(warn):
        checked = set()
        for output in plan.outputs:
            options = tuple(_options(output, creation_options))
            key = (output.driver, options, output.source.bands)
            if key not in checked:
                check_output_format(output.driver, output.path, options, output.source)
                checked.add(key)
        _write_all(plan, creation_options, progress, before_commit, executor)


def write_piece(
    output: OutputPlan,
    target: str,
    creation_options: Sequence[str],
    progress: Progress | None = None,
    threads: str = "1",
) -> None:
    """A piece of a run: write one output at ``target`` (in its staging folder), on any worker.

    ``progress`` (only where the piece runs in the caller's process: a thread pool) follows the piece
    strip by strip, and stops it when it returns False. GDAL's warper takes ``threads`` threads: on a
    cluster or a process pool one, since the workers are the cores (one worker a core, as Dask runs
    them); on a thread pool in the caller's process, every core, as the threads share them anyway.
    """
    with warping_with(threads):
        _write_to(output, target, creation_options, progress)


def _write_pieces(
    plan: ClipPlan,
    stagings: list[str],
    shared: list[str],
    creation_options: Sequence[str],
    progress: Progress | None,
    executor: concurrent.futures.Executor,
) -> None:
    """Write every output of ``plan`` into its staging folder as a piece through ``executor``.

    On a thread pool each piece reports its progress as it goes and a cancel stops the running ones at
    their next strip; elsewhere progress moves output by output and a cancel stops the pieces not started.
    """
    count = len(plan.outputs)
    local = isinstance(executor, concurrent.futures.ThreadPoolExecutor)
    shares = [0.0] * count
    stopped = threading.Event()

    def piece_progress(index: int) -> Progress:
        def report(fraction: float) -> bool:
            shares[index] = fraction
            return not stopped.is_set()

        return report

    def overall(done: float) -> bool:
        going = True if progress is None else progress(max(done, sum(shares) / count))
        if going is False:
            stopped.set()
        return going

    stagings.extend(staging_folder(output.path) for output in plan.outputs)
    outputs = _shared_mask(plan.outputs, shared)
    pieces = [
        (
            output,
            staged_path(output.path, staging),
            tuple(creation_options),
            piece_progress(index) if local else None,
            "ALL_CPUS" if local or count == 1 else "1",
        )
        for index, (output, staging) in enumerate(zip(outputs, stagings))
    ]
    run_pieces(
        executor,
        write_piece,
        pieces,
        overall,
        translatable("Cancelled while writing; nothing was written."),
        on_stop=stopped.set,
    )


def _shared_mask(outputs: Sequence[OutputPlan], folders: list[str]) -> list[OutputPlan]:
    """``outputs`` reading the run's kept common mask from a copy in a hidden folder beside the first
    output, where workers on other machines see it too (the folder is added to ``folders``)."""
    kept = next((output.common_mask for output in outputs if output.common_mask is not None), None)
    if kept is None:
        return list(outputs)
    folders.append(staging_folder(outputs[0].path))
    shared = copy.copy(kept)
    shared.path = os.path.join(folders[-1], os.path.basename(kept.path))
    shutil.copyfile(kept.path, shared.path)
    return [replace(output, common_mask=shared) if output.common_mask is not None else output for output in outputs]


def _write_all(
    plan: ClipPlan,
    creation_options: Sequence[str],
    progress: Progress | None,
    before_commit: Callable[[], None] | None,
    executor: concurrent.futures.Executor | None = None,
) -> None:
    count = len(plan.outputs)
    stagings: list[str] = []
    shared: list[str] = []
    try:
        if executor is not None:
            _write_pieces(plan, stagings, shared, creation_options, progress, executor)
        else:
            for index, output in enumerate(plan.outputs):

                def part(fraction: float, index: int = index) -> bool:
                    return True if progress is None else progress((index + fraction) / count)

                stagings.append(staging_folder(output.path))
                _write_to(output, staged_path(output.path, stagings[-1]), creation_options, part)
                # Each output's share ends where it is complete, however GDAL reported along the way.
                if not part(1.0):
                    raise CancelledError("Cancelled while writing '{path}'; nothing was written.", path=output.path)
        if before_commit is not None:
            before_commit()
        _commit([(staging, output.path) for output, staging in zip(plan.outputs, stagings)], plan.rasters)
    finally:
        for staging in [*stagings, *shared]:
            remove_staging(staging)


@gdal_mode()
def clip(
    inputs: Sequence[str | Source],
    outputs: Sequence[str],
    reference: Optional[int] = 0,
    resampling: str = "near",
    creation_options: Sequence[str] = (),
    progress: Progress | None = None,
    area: int = AREA_EXTENTS,
    mask_common: bool = False,
    warn: Warn | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> ClipPlan:
    """Clip ``inputs`` to their common area and write ``outputs``.

    :func:`~overlap_clip_plugin.core.plan.plan_clip` then :func:`write_plan`;
    see those for the parameters. Progress covers the writing. With
    ``executor`` the run's pieces (reading each input, scanning the valid
    data, writing each output) go through it.
    """
    plan = plan_clip(inputs, outputs, reference, area, mask_common, resampling, warn=warn, executor=executor)
    for note in plan.warnings:
        if warn is not None:
            warn(str(note))
        else:
            warnings.warn(str(note), ClipWarning, stacklevel=2)
    write_plan(plan, creation_options, progress, warn, executor=executor)
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
    warn: Warn | None = None,
    executor: concurrent.futures.Executor | None = None,
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
        warn,
        executor,
    )
