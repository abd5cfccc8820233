"""One run of a clip, whoever calls it: plan, the passes over the data, then the commit.

Every caller takes this road: the processing algorithms, the batch command and plain Python. Each
translates its own inputs (enum positions, options, JSON) into names and calls :func:`run_clip`:

1. **plan** (:func:`~overlap_clip_plugin.core.plan.plan_clip`): read the inputs, check everything (the
   creation options with each driver too), fix every output's grid and how it is made; with
   ``area="valid"`` or ``mask_common`` this scans where the rasters have valid data (the first fifth of
   the progress);
2. **overlap** (on request): the overlap polygon and its numbers
   (:func:`~overlap_clip_plugin.core.overlap.overlap_summary`);
3. **write** (:func:`~overlap_clip_plugin.core.write.write_plan`): every output written into a staging
   folder beside it; on request the change map of the pair, made from the staged outputs
   (:func:`~overlap_clip_plugin.core.change.change_pass`) into staging folders of its own; ``before_commit``
   (whatever else the caller writes); then every output, the map's too, moved into place, all or nothing.
   The caller may look at the plan (``on_plan``) first.

Every pass goes through one executor (this thread when none is given), and one progress rule holds:
False cancels, anything else goes on. On a failure or a cancel no output path changes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from overlap_clip_plugin.core.change import ChangeRequest, ChangeResult, change_pass, check_change
from overlap_clip_plugin.core.errors import CancelledError, translatable
from overlap_clip_plugin.core.executors import POLL, InlineExecutor, Progress, cancelled_by, runs_here
from overlap_clip_plugin.core.gdalenv import ClipWarning, bounded_cache, gdal_mode, gdal_warnings, relay_warning
from overlap_clip_plugin.core.overlap import OverlapSummary, overlap_summary
from overlap_clip_plugin.core.plan import ClipPlan, Note, Warn, plan_clip
from overlap_clip_plugin.core.raster import Read, Source, read_raster
from overlap_clip_plugin.core.shift import (
    SHIFT_CANCELLED,
    ShiftEstimate,
    ShiftSettings,
    check_band,
    corrected_transform,
    estimate_shift,
)
from overlap_clip_plugin.core.write import shared_mask, write_plan

#: The output grid of a pair by name: A's, B's, or each raster's own.
PAIR_GRIDS = ("a", "b", "own")

#: What a run does about shifts between the rasters' content: nothing, estimate each raster's against the
#: reference's (:mod:`~overlap_clip_plugin.core.shift`), or estimate and correct them before the outputs' grids
#: are planned (each output is then resampled once, never twice).
SHIFTS = ("", "estimate", "correct")

#: A correction within this many pixels of a whole number of them is that whole number, no finer than the
#: estimate (0.003 px RMSE, 0.013 px under 30 % cloud: tests/test_shift.py), so that a raster on the grid's
#: lattice is still copied, not resampled.
WHOLE_PIXEL = 0.05

#: The share of the progress that a scan of the valid data takes, when the plan makes one.
SCAN_SHARE = 0.2
#: The share of the rest that writing the clipped rasters takes when a change map is made of them.
CLIP_SHARE = 0.4


@dataclass(frozen=True)
class RunResult:
    """What a run made: its plan (every output, as written) and, when asked for, the overlap and each
    output's shift against the reference (None for the reference itself), with the shift each corrected
    raster was moved by, in reference pixels (None where none was), and the change map."""

    plan: ClipPlan
    overlap: OverlapSummary | None = None
    shifts: tuple[ShiftEstimate | None, ...] = ()
    corrections: tuple[tuple[float, float] | None, ...] = ()
    change: ChangeResult | None = None


def reference_of(grid: str | int) -> int | None:
    """The input whose grid every output takes, for a grid named "a" (the first input's), "b" (the
    second's), "own" (each raster's own: None) or given as an input's index (0 = first)."""
    if isinstance(grid, int) and not isinstance(grid, bool):
        return grid
    if not isinstance(grid, str) or grid not in PAIR_GRIDS:
        raise ValueError(f"Unknown grid {grid!r}; use 'a', 'b', 'own' or an input's index.")
    return {"a": 0, "b": 1, "own": None}[grid]


def _stoppable(progress: Progress | None, stop: threading.Event) -> Progress:
    """``progress``, answering False (cancel) once ``stop`` is set."""
    return lambda fraction: False if stop.is_set() else None if progress is None else progress(fraction)


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[threading.Event]:
    """An event that SIGTERM sets, and SIGINT where nothing else takes it, while a run on the main thread
    lasts: a signal that would kill the process at once (leaving its staging folders) cancels the run
    instead, and is delivered again, with its usual effect, once the run has removed what it made. Off the
    main thread (QGIS's tasks, the batch command's jobs) signals are the caller's, and nothing changes."""
    stop = threading.Event()
    caught: list[int] = []

    def handler(number: int, _frame: object) -> None:
        caught.append(number)
        stop.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            if signal.getsignal(number) == signal.SIG_DFL:
                previous[number] = signal.signal(number, handler)
    try:
        yield stop
    finally:
        for signal_number, before in previous.items():
            signal.signal(signal_number, before)
        if caught:
            os.kill(os.getpid(), caught[0])


def _between(progress: Progress | None, start: float, end: float) -> Progress | None:
    """``progress`` for a step that runs from ``start`` to ``end`` of the run."""
    if progress is None:
        return None
    return lambda fraction: progress(start + (end - start) * fraction)


@gdal_mode()
@bounded_cache()
def run_clip(
    inputs: Sequence[str | Source],
    outputs: Sequence[str],
    grid: str | int = "a",
    area: str = "extents",
    mask_common: bool = False,
    resampling: str = "near",
    creation_options: Sequence[str] = (),
    progress: Progress | None = None,
    warn: Warn | None = None,
    executor: concurrent.futures.Executor | None = None,
    gcp_method: str = "polynomial",
    rpc_dem: str | None = None,
    overlap: str = "",
    whole_inputs: bool = True,
    shift: str = "",
    change: ChangeRequest | None = None,
    on_plan: Callable[[ClipPlan], None] | None = None,
    before_commit: Callable[[RunResult], None] | None = None,
) -> RunResult:
    """Clip ``inputs`` to their common area and write ``outputs``: the one road of every run.

    Parameters
    ----------
    inputs, outputs
        Two or more rasters (paths, any GDAL dataset name, or :class:`Source` with open options), and one
        output path per input; the extension chooses the format.
    grid
        "a" (the first input's grid), "b" (the second's), "own" (each raster's own, never resampled), or
        the index of the input whose grid every output takes.
    area, mask_common, resampling, gcp_method, rpc_dem
        See :func:`~overlap_clip_plugin.core.plan.plan_clip`.
    creation_options
        GDAL creation options for every output, checked with each driver before anything is written.
    progress
        Called with the fraction of the run done (0 to 1); returning False cancels, and nothing is written.
    warn
        Called with each warning (GDAL's own words for GDAL's); without it they become Python warnings.
    executor
        Where the pieces of every pass run (see :mod:`overlap_clip_plugin.core.executors`); this thread
        without one. The files are the same, byte for byte, whatever the executor.
    overlap
        "" (none), "numbers" (the overlap's area, shares and size) or "polygon" (those and the polygon).
    whole_inputs
        With ``area="valid"`` and an overlap, count each input's valid pixels for the shares (reads every
        input whole); otherwise the shares are None.
    shift
        "" (nothing), "estimate" (each output's shift against the reference's, in :attr:`RunResult.shifts`,
        read on a thread of its own while the outputs are written, there before ``before_commit``) or
        "correct" (estimated, then each raster with a reliable shift moved by it before the outputs' grids
        are planned again, so that an output is resampled once, never twice; a second scan for the
        valid-data area; the moves are in :attr:`RunResult.corrections`).
    change
        A change map of the pair (two inputs on one grid: ``grid`` is not "own"), made from the clipped
        rasters once they are written and committed with them (:mod:`~overlap_clip_plugin.core.change`); its
        settings, bands and paths are checked before anything is written. The outputs are then masked to the
        common valid area (``mask_common``), which the map compares; what it found is
        :attr:`RunResult.change`.
    on_plan
        Called with the plan before anything is written (to log it); it then has the plan's notes to the
        user (:attr:`ClipPlan.warnings`) to say, which otherwise go to ``warn``.
    before_commit
        Called with the run's result once every output is written and before any is moved into place;
        if it raises, no output path changes.

    Raises
    ------
    OverlapClipError
        Any subclass, for bad inputs, outputs or options, rasters without a common area, a failed write
        or a cancel; nothing is written.
    """
    if overlap not in ("", "numbers", "polygon"):
        raise ValueError(f"Unknown overlap {overlap!r}; use '', 'numbers' or 'polygon'.")
    if shift not in SHIFTS:
        raise ValueError(f"Unknown shift {shift!r}; use '', 'estimate' or 'correct'.")
    if change is not None:
        if len(inputs) != 2 or reference_of(grid) is None:
            raise ValueError("A change map compares two rasters on one grid: give two inputs and grid 'a' or 'b'.")
        mask_common = True
    executor = executor or InlineExecutor()
    scans = area == "valid" or mask_common
    write_start = SCAN_SHARE if scans else 0.0
    write_end = write_start + (1.0 - write_start) * CLIP_SHARE if change is not None else 1.0
    with _stopped_by_signals() as stop, gdal_warnings(warn):
        progress = _stoppable(progress, stop)
        settings = (area, mask_common, resampling, _between(progress, 0.0, write_start), warn, gcp_method, rpc_dem)
        plan = plan_clip(inputs, outputs, reference_of(grid), *settings, executor, creation_options)
        plans = [plan]
        alongside: _Alongside | None = None
        try:
            shifts: tuple[ShiftEstimate | None, ...] = ()
            corrections: tuple[tuple[float, float] | None, ...] = (None,) * len(inputs) if shift else ()
            if shift == "correct":
                # Asked for cancel only, as the overlap: a few windows a raster.
                shifts = _shifts(plan, reference_of(grid), lambda _fraction: progress(write_start), executor)
                moved = _moved(inputs, plan, shifts)
                corrections = tuple(moved[index][1] if index in moved else None for index in range(len(inputs)))
                if moved:
                    inputs = [moved[index][0] if index in moved else source for index, source in enumerate(inputs)]
                    plan = plan_clip(inputs, outputs, reference_of(grid), *settings, executor, creation_options)
                    plans.append(plan)
                    plan = replace(plan, warnings=plan.warnings + _whole_pixels_only(plan, corrections))
            if change is not None:
                first, second = plan.rasters[:2]
                check_change(first, second, change.output, change.settings, change.magnitude, outputs)
            if on_plan is not None:
                on_plan(plan)
            else:
                for note in plan.warnings:
                    if warn is not None:
                        warn(str(note))
                    else:
                        warnings.warn(str(note), ClipWarning, stacklevel=3)
            if cancelled_by(progress, write_start):
                raise CancelledError("Cancelled before anything was written.")
            summary = None
            if overlap:
                # Asked for cancel only: the overlap is quick beside the writing, but for whole inputs.
                summary = overlap_summary(
                    plan, lambda _fraction: progress(write_start), whole_inputs, trace=overlap == "polygon"
                )
            if shift == "estimate":
                # Nothing written depends on the estimate: it reads its windows while the outputs are written.
                _check_bands(plan)
                alongside = _Alongside(lambda stopped: _shifts(plan, reference_of(grid), stopped, executor))

            result = RunResult(plan, summary, shifts, corrections)

            def mapping(written: Sequence[str], targets: Sequence[str]) -> None:
                nonlocal result
                assert change is not None
                # The run's kept common mask is the clipped pair's validity: the map reads it, not each band's mask.
                kept = plan.common_mask
                with shared_mask(kept, change.output, runs_here(executor)) if kept else contextlib.nullcontext() as on:
                    found = change_pass(
                        read_raster(written[0]),
                        read_raster(written[1]),
                        targets,
                        change.settings,
                        on,
                        _between(progress, write_end, 1.0),
                        executor,
                    )
                result = replace(result, change=replace(found, path=change.output, magnitude_path=change.magnitude))

            def committing() -> None:
                nonlocal result
                if alongside is not None:
                    result = replace(result, shifts=alongside.result(progress))
                if before_commit is not None:
                    before_commit(result)

            write_plan(
                plan,
                _between(progress, write_start, write_end),
                warn,
                executor,
                committing,
                mapping if change is not None else None,
                change.outputs if change is not None else (),
            )
        finally:
            if alongside is not None:
                alongside.stop()
            # The local copies of remote inputs go with the run, not with the plan it returns.
            for made in plans:
                for copies in {output.local_copies for output in made.outputs if output.local_copies is not None}:
                    copies.remove()
    return result


def _shifts(
    plan: ClipPlan, reference: int | None, progress: Progress, executor: concurrent.futures.Executor
) -> tuple[ShiftEstimate | None, ...]:
    """Each output's shift against the reference's (the first input's where each keeps its own grid), on
    the reference's output grid; None for the reference."""
    index = 0 if reference is None else reference
    base = plan.outputs[index]
    reference_read = Read(base.source, base.window)
    # The run's kept mask lies on the first output's grid, which every output shares but on own grids.
    kept = plan.common_mask if reference is not None or index == 0 else None
    return tuple(
        None
        if number == index
        else estimate_shift(
            reference_read, Read.on(output.source, base.grid), base.grid, None, kept, progress, executor
        )
        for number, output in enumerate(plan.outputs)
    )


def _check_bands(plan: ClipPlan) -> None:
    """Refuse, before anything is written, a raster without the band the shift estimate reads."""
    for output in plan.outputs:
        check_band(output.source, ShiftSettings().band)


class _Alongside:
    """``work(progress)`` on a thread of its own while the run writes (its pieces through the run's executor):
    ``progress`` cancels it once :meth:`stop` is called. GDAL's warnings there come back with the result."""

    def __init__(self, work: Callable[[Progress], Any]) -> None:
        self._stopped = threading.Event()
        self._said: list[str] = []
        self._outcome: list[tuple[bool, Any]] = []
        self._thread = threading.Thread(target=self._run, args=(work,), name="overlapclip-alongside", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[Progress], Any]) -> None:
        try:
            with gdal_mode(), bounded_cache(), gdal_warnings(self._said.append):
                self._outcome.append((True, work(lambda _fraction: False if self._stopped.is_set() else None)))
        except BaseException as error:  # raised on the run's thread, by result()
            self._outcome.append((False, error))

    def result(self, progress: Progress) -> Any:
        """The work's result, waited for while ``progress`` (asked at 1) does not cancel; its error raised."""
        while self._thread.is_alive():
            if cancelled_by(progress, 1.0):
                raise CancelledError(SHIFT_CANCELLED)
            self._thread.join(POLL)
        for message in self._said:
            relay_warning(message)
        finished, value = self._outcome.pop()
        try:
            if not finished:
                raise value
            return value
        finally:
            del value  # an error's traceback must not keep it (see executors._result)

    def stop(self) -> None:
        """Cancel the work and wait for it to end (its error, if any, is dropped: the run has its own)."""
        self._stopped.set()
        self._thread.join()


def _moved(
    inputs: Sequence[str | Source], plan: ClipPlan, shifts: Sequence[ShiftEstimate | None]
) -> dict[int, tuple[Source, tuple[float, float]]]:
    """For each raster whose shift is reliable and not nil: the input moved by it (a whole number of pixels
    where it is within :data:`WHOLE_PIXEL` of one), and the shift in reference pixels."""
    moved = {}
    for index, estimate in enumerate(shifts):
        if estimate is None or not estimate.reliable or estimate.dx_px is None or estimate.dy_px is None:
            continue
        dx_px, dy_px = (round(v) if abs(v - round(v)) < WHOLE_PIXEL else v for v in (estimate.dx_px, estimate.dy_px))
        if dx_px == 0 and dy_px == 0:
            continue
        applied = replace(estimate, dx_px=dx_px, dy_px=dy_px, dx=dx_px * estimate.grid.dx, dy=dy_px * estimate.grid.dy)
        raster = plan.rasters[index]
        given = inputs[index]
        source = given if isinstance(given, Source) else Source(given)
        moved[index] = (replace(source, geotransform=corrected_transform(raster, applied)), (dx_px, dy_px))
    return moved


#: What the log says of a raster moved by a fraction of a pixel and resampled by nearest neighbour.
WHOLE_PIXELS_ONLY = translatable(
    "'{name}' is moved by {dx:.2f}, {dy:.2f} pixels, but nearest-neighbour resampling moves its pixels by whole "
    "pixels only: choose bilinear, cubic or Lanczos resampling to remove the fraction too."
)


def _whole_pixels_only(plan: ClipPlan, corrections: Sequence[tuple[float, float] | None]) -> tuple[Note, ...]:
    """A note for each raster moved by a fraction of a pixel that nearest neighbour resamples."""
    return tuple(
        Note(WHOLE_PIXELS_ONLY, {"name": output.source.name, "dx": moved[0], "dy": moved[1]})
        for output, moved in zip(plan.outputs, corrections)
        if moved is not None
        and not output.copied
        and output.resampling == "near"
        and any(value != round(value) for value in moved)
    )


def clip(inputs: Sequence[str | Source], outputs: Sequence[str], grid: str | int = 0, **options: Any) -> ClipPlan:
    """Clip ``inputs`` to their common area and write ``outputs``: :func:`run_clip` (see it for ``grid`` and
    the ``options``); returns the plan."""
    return run_clip(inputs, outputs, grid, **options).plan


def clip_pair(
    input_a: str | Source, input_b: str | Source, output_a: str, output_b: str, grid: str = "a", **options: Any
) -> ClipPlan:
    """Clip two rasters to their common area (:func:`clip` with ``N = 2``); ``grid`` is "a", "b" or "own"."""
    if grid not in PAIR_GRIDS:
        raise ValueError(f"Unknown grid {grid!r} for a pair; use 'a', 'b' or 'own'.")
    return clip([input_a, input_b], [output_a, output_b], grid, **options)
