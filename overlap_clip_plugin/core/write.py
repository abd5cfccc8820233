"""Write planned outputs, block by block, safely: the write pass and the commit of a run.

Each output is first a lazy VRT over its source (:mod:`overlap_clip_plugin.core.views`); an unmasked output is
then materialised with ``gdal.Translate`` in the format its extension asks for (a ``.vrt`` output stays a lazy
description of its source). A masked output is written strip by strip, setting nodata where the common
valid-data mask says so. No window is ever read into memory whole.

Nothing is lost and nothing is left half-written: every output is written under its final name in a hidden
staging folder beside it (:mod:`~overlap_clip_plugin.core.scratch`) and moved over the output path only when
all outputs of the run are complete, all or nothing (:func:`write_plan`). On failure or cancel the staging
folders are removed and any file already at an output path is untouched; a run killed outright leaves them,
and the next run writing there removes them. Inputs are only ever opened read-only.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from osgeo import gdal

from overlap_clip_plugin.core.errors import CancelledError, OutputPathError, WriteError, translatable
from overlap_clip_plugin.core.executors import (
    InlineExecutor,
    Progress,
    cancelled_by,
    gdal_progress,
    run_pieces,
    runs_here,
)
from overlap_clip_plugin.core.gdalenv import bounded_cache, gdal_call, gdal_mode, gdal_warnings, quiet_gdal
from overlap_clip_plugin.core.plan import VALIDITY_ALPHA, VALIDITY_MASK, VALIDITY_NODATA, ClipPlan, OutputPlan, Warn
from overlap_clip_plugin.core.raster import RasterInfo, check_unchanged
from overlap_clip_plugin.core.scratch import aside_name, remove_stale, scratch_folder
from overlap_clip_plugin.core.validity import MaskFile, strips, valid_reader
from overlap_clip_plugin.core.views import (
    ALL_CPUS,
    copy_band_properties,
    copy_domains,
    set_georeference,
    set_nodata,
    source_view,
    warp_settings,
    write_vrt,
)

GdalProgress = Callable[[float, str, object], int]


def staging_folder(path: str) -> str:
    """A new hidden folder beside ``path`` in which its output is written under its final name.

    Under its final name, a format whose header names its companion files (ISIS3, PDS4, ERS, ...) names them
    right; beside the output, the commit is a rename on one file system.
    """
    return scratch_folder(path, "staging")


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


def commit(pairs: Sequence[tuple[str, str]], rasters: Sequence[RasterInfo]) -> None:
    """Move each finished output (every file in the staging folder of each ``(staging, path)``) into place,
    all or nothing.

    Refuses, before moving anything, a move that would replace a file of an input (a shared ``.hdr`` of a
    same-named input, say). Then every file the commit replaces, and the stale side files of a replaced
    output, are first renamed aside; only when every new file is in place are they deleted. If any rename
    fails, the ones done are undone in reverse, so every output path is as it was before the run.
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
            aside = aside_name(name)
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
    for _, aside in done[: len(replaced)]:
        with contextlib.suppress(OSError):
            os.remove(aside)


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
        set_georeference(out, grid)
        # The output's nodata is the plan's; the source's own values would clash with it on the way.
        # A lossy output marks validity in its mask alone: its values may take any nodata value.
        copy_band_properties(view, out, nodata=plan.validity != VALIDITY_NODATA and not plan.lossy)
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
        read_valid = valid_reader(plan.common_mask, plan.mask_with, grid)
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


def _written_by(
    function: Callable[..., gdal.Dataset],
    plan: OutputPlan,
    target: str,
    source: gdal.Dataset,
    options: Sequence[str],
    callback: GdalProgress,
    failure: str,
    **settings: object,
) -> gdal.Dataset:
    """``target`` written from ``source`` by ``function`` (``gdal.Warp`` or ``gdal.Translate``) in the output's
    format, with its creation options; a WriteError with GDAL's reason if GDAL fails."""
    return gdal_call(
        WriteError,
        failure,
        function,
        target,
        source,
        format=plan.driver,
        creationOptions=list(options),
        callback=callback,
        **settings,
    )


def _warp_to(
    plan: OutputPlan, target: str, options: Sequence[str], callback: GdalProgress, failure: str, threads: str
) -> None:
    """Resample ``plan``'s source straight into ``target`` with GDAL's warper, as gdalwarp does: the
    warper then works on chunks as large as its memory allows, on every core, reading while it computes
    (through a lazy VRT it would warp one small block at a time). The output takes the grid to the last
    bit and the source's band properties, as a view would give them."""
    source = plan.source.open()
    settings = warp_settings(plan.grid, plan.resampling, plan.source.warp_options, threads)
    out = _written_by(gdal.Warp, plan, target, source, options, callback, failure, **settings)
    set_georeference(out, plan.grid)
    copy_band_properties(source, out, resampling=plan.resampling)
    out.FlushCache()
    del out  # closes the file


def _write_view(
    plan: OutputPlan, target: str, options: Sequence[str], callback: GdalProgress, failure: str, threads: str
) -> None:
    """Write ``plan``'s output from a lazy view of its source: masked strip by strip, as a VRT, or copied
    by gdal_translate."""
    view = source_view(plan.source, plan.grid, plan.window, plan.resampling, threads)
    if plan.mask_with:
        _write_masked(plan, view, target, options, callback)
    elif plan.driver == "VRT":
        # A VRT output stays a lazy description of its source, named relative to where the output will be.
        write_vrt(view, target, plan.path, failure)
        callback(1.0, "", None)
    else:
        written = _written_by(gdal.Translate, plan, target, view, options, callback, failure)
        # gdal_translate carries the default metadata domain alone.
        copy_domains(view, written)
        written.FlushCache()
        del written  # closes the file


def write_piece(plan: OutputPlan, target: str, progress: Progress | None, threads: str) -> None:
    """A piece of a run: write ``plan``'s output at ``target`` (in its staging folder), on any worker.

    ``progress`` (only where the piece runs in the caller's process) follows the piece strip by strip,
    and stops it when it cancels. GDAL's warper takes ``threads`` threads: on a cluster or a process pool
    one, since the workers are the cores; in the caller's process, every core. On failure or cancel
    ``target`` is removed with its staging folder by the caller.
    """
    stopped: list[bool] = []
    callback = gdal_progress(progress, stopped)
    failure = f"GDAL failed while writing '{plan.path}' from '{plan.source.path}'"
    options = plan.options
    try:
        if not plan.mask_with and not plan.copied and plan.driver == "GTiff":
            # Other formats keep the lazy view and gdal_translate's copy: some (GeoPackage) refuse a
            # geotransform once the warper has set one, some keep less of the band properties.
            _warp_to(plan, target, options, callback, failure, threads)
        else:
            _write_view(plan, target, options, callback, failure, threads)
        if stopped:
            raise WriteError("User terminated")
        if not os.path.exists(target):
            # Some drivers name their files themselves (ILWIS writes one band as .mpr, whatever was asked).
            raise WriteError(
                "GDAL's {driver} driver did not write '{path}' but {files}; give the output the name that "
                "GDAL gives it.",
                driver=plan.driver,
                path=plan.path,
                files=", ".join(repr(name) for name in sorted(os.listdir(os.path.dirname(target)))),
            )
    except BaseException as err:
        if stopped:
            raise CancelledError("Cancelled while writing '{path}'; nothing was written.", path=plan.path) from err
        raise


@contextlib.contextmanager
def staged(paths: Sequence[str]) -> Iterator[list[str]]:
    """One new staging folder beside each of ``paths``, in their order, removed on leaving (with whatever is
    left in them: a committed output has been moved out). The stale hidden entries of a killed run are
    removed from their folders first."""
    folders: list[str] = []
    try:
        for folder in dict.fromkeys(os.path.dirname(os.path.abspath(path)) for path in paths):
            remove_stale(folder)
        folders.extend(staging_folder(path) for path in paths)
        yield folders
    finally:
        for folder in folders:
            remove_staging(folder)


#: A pass over a run's written outputs that writes more of them (:func:`write_plan`'s ``then``): called with
#: where each planned output was written and where each of its own outputs is to be written, all staged.
ThenPass = Callable[[Sequence[str], Sequence[str]], None]


def write_pass(
    plan: ClipPlan,
    stagings: Sequence[str],
    progress: Progress | None = None,
    executor: concurrent.futures.Executor | None = None,
) -> None:
    """Write every output of ``plan`` into its staging folder, each as a piece through ``executor`` (this
    thread without one); progress runs from 0 to 1 over all of them.

    Where the pieces run in this process (this thread, a thread pool) each reports its progress as it goes
    and a cancel stops the running ones at their next strip; elsewhere progress moves output by output and
    a cancel stops the pieces not started. The files are the same, byte for byte, whatever the executor.
    """
    executor = executor or InlineExecutor()
    count = len(plan.outputs)
    here = runs_here(executor)
    inline = isinstance(executor, InlineExecutor)
    shares = [0.0] * count
    stopped = threading.Event()

    def overall(done: float) -> bool:
        going = not cancelled_by(progress, max(done, sum(shares) / count))
        if not going:
            stopped.set()
        return going

    def piece_progress(index: int) -> Progress:
        def report(fraction: float) -> bool:
            shares[index] = fraction
            # On this thread the piece itself asks the caller; on a pool the client asks it meanwhile.
            return overall(0.0) if inline else not stopped.is_set()

        return report

    with _shared_mask(plan.outputs, here) as outputs:
        arguments = [
            (
                output,
                staged_path(output.path, staging),
                piece_progress(index) if here else None,
                ALL_CPUS if here or count == 1 else "1",
            )
            for index, (output, staging) in enumerate(zip(outputs, stagings))
        ]
        run_pieces(
            executor,
            write_piece,
            arguments,
            overall,
            translatable("Cancelled while writing; nothing was written."),
            on_stop=stopped.set,
        )


@gdal_mode()
@bounded_cache()
def write_plan(
    plan: ClipPlan,
    progress: Progress | None = None,
    warn: Warn | None = None,
    executor: concurrent.futures.Executor | None = None,
    before_commit: Callable[[], None] | None = None,
    then: ThenPass | None = None,
    then_outputs: Sequence[str] = (),
) -> None:
    """Write every output of ``plan`` and move them into place, all or nothing.

    Every output is written with its planned creation options in a staging folder beside it
    (:func:`write_pass`); ``then``, if given, is a pass over them that writes ``then_outputs`` (a change map
    of the pair, say) into staging folders of their own; ``before_commit`` is called (whatever else a run
    writes; if it raises, no output path changes); and every output, the plan's and ``then``'s, is moved
    over its path in one commit. If one fails or is cancelled, or a move fails, no output path changes and
    no staging folder is left. GDAL's warnings go to ``warn`` (Python warnings without it).
    """
    outputs = [output.path for output in plan.outputs]
    with gdal_warnings(warn):
        # Read since the plan, and read once more while writing: an input changed meanwhile fails the run.
        check_unchanged(plan.rasters)
        with staged([*outputs, *then_outputs]) as stagings:
            write_pass(plan, stagings[: len(outputs)], progress, executor)
            if then is not None:
                then(
                    [staged_path(path, staging) for path, staging in zip(outputs, stagings)],
                    [staged_path(path, staging) for path, staging in zip(then_outputs, stagings[len(outputs) :])],
                )
            check_unchanged(plan.rasters)
            if before_commit is not None:
                before_commit()
            commit(list(zip(stagings, [*outputs, *then_outputs])), plan.rasters)


def write_output(plan: OutputPlan, progress: Progress | None = None) -> None:
    """Write one planned output (see :func:`write_plan`)."""
    write_plan(ClipPlan((plan,), (plan.source, *(read.raster for read in plan.mask_with))), progress)


@contextlib.contextmanager
def shared_mask(kept: MaskFile, beside: str, here: bool) -> Iterator[MaskFile]:
    """``kept``, or where the pieces do not run ``here`` (in this process) a copy of it in a hidden folder
    beside the path ``beside``, where workers on other machines see it too, for as long as the ``with`` block
    lasts."""
    if here:
        yield kept
        return
    folder = staging_folder(beside)
    try:
        shared = copy.copy(kept)
        shared.path = os.path.join(folder, os.path.basename(kept.path))
        shutil.copyfile(kept.path, shared.path)
        yield shared
    finally:
        remove_staging(folder)


@contextlib.contextmanager
def _shared_mask(outputs: Sequence[OutputPlan], here: bool) -> Iterator[list[OutputPlan]]:
    """``outputs`` reading the run's kept common mask where the pieces run (see :func:`shared_mask`), beside
    the first output."""
    kept = next((output.common_mask for output in outputs if output.common_mask is not None), None)
    if kept is None:
        yield list(outputs)
        return
    with shared_mask(kept, outputs[0].path, here) as shared:
        yield [replace(output, common_mask=shared) if output.common_mask is not None else output for output in outputs]
