"""The batch command: ``python3 -m overlap_clip_plugin BATCH_FILE [options]``.

The batch file (:mod:`overlap_clip_plugin.batchfile`) lists jobs, each clipped to its own common area,
all or nothing per job, and is checked whole before any job runs. Jobs run side by side; their pieces (reading the
inputs, scanning valid data, writing each output) go to a local thread pool, to a ``LocalCluster``
(``--local-workers N``) or to an existing Dask cluster (``--scheduler ADDRESS``). Dask is imported only
for those two options.

Each job's end is one line, its failure one sentence (``--verbose`` adds its traceback, and Dask's own
logs, which are otherwise kept quiet). SIGINT (Ctrl-C) or SIGTERM stops the batch: no other job starts,
the running ones are cancelled (nothing of them is written), and the summary says which jobs were not
written. The exit status is 0 when every job was written, 1 when any failed (the others are written), 2
for a batch file or options that cannot be used, 130 after SIGINT and 143 after SIGTERM.

``--qa RULE`` (with ``--qa-band N``, 1 by default) gives every input a clear-sky rule read from a QA band of its
own (:mod:`overlap_clip_plugin.core.qa`): ``--area valid`` and ``--mask-common`` then see the clear-sky common area.

``--shift estimate`` (the default; ``--shift none`` turns it off) estimates the shift of each input's content
against the job's reference (the ``--reference`` raster, the first by default; the first with ``--grid own``)
on the reference's output grid (:mod:`overlap_clip_plugin.core.shift`); ``--shift correct`` also moves each
raster with a reliable shift before its output is planned, so that the output is resampled once
(``--resampling`` bilinear, cubic or lanczos removes a fraction of a pixel; nearest neighbour moves whole pixels
only, and says so). Below the
job's line (and before its warnings) comes one line per input other than the reference::

    shift of 'shifted.tif': +1.30, -0.70 px (14.7 m), 25 of 25 windows agree, corrected
    shift of 'other.tif' not estimated: The rasters' content does not match: ...

The numbers are ``dx`` then ``dy`` in the reference's output pixels, positive when the input's content lies
east, south of the reference's, then the distance on the ground. With ``--shift correct`` the line ends in
``, corrected`` when the raster was moved by its estimate, ``, corrected by +1.00, +0.00 px`` when an axis
within 0.05 px of whole pixels was moved by those whole pixels, or ``, not moved (under 0.05 px)``. An input
is named by its file name, or by its path where two inputs of the job share one. The summary repeats these
lines after the written count, each headed by its job (``Job 3: shift of ...``); ``--quiet`` prints only the
summary. A shift not estimated does not fail its job.

A pair whose job asks for a change map (:mod:`overlap_clip_plugin.batchfile`) is clipped onto the common valid
area, masked in both outputs, mapped in the same run and committed with the map; its line is followed by::

    change (pca_kmeans, bands 1, 2): 10488 of 116970 pixels (8.966 %), 1.04901e+06 m2

(the threshold too for the other methods), repeated in the summary as the shift lines are. ``--grid own``
cannot map change (the pair must share a grid): the batch is refused.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence

from overlap_clip_plugin.batchfile import BatchFileError, Job, read_jobs
from overlap_clip_plugin.core.errors import CancelledError, ExecutorError, OverlapClipError, QaRuleError
from overlap_clip_plugin.core.executors import POLL, make_executor
from overlap_clip_plugin.core.plan import RESAMPLING_METHODS
from overlap_clip_plugin.core.qa import PRESETS, parse_rule
from overlap_clip_plugin.core.raster import Source
from overlap_clip_plugin.core.run import SHIFTS, WHOLE_PIXEL, RunResult, run_clip

#: How many jobs the client keeps going at once (each waits on its pieces most of the time).
JOBS_AT_ONCE = 8


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m overlap_clip_plugin",
        description="Clip every job of a batch file (pairs or stacks of rasters) to its common area.",
    )
    parser.add_argument("batch", help="a JSON or CSV batch file (see the README's 'Batches and clusters')")
    parser.add_argument(
        "--grid",
        choices=("reference", "own"),
        default="reference",
        help="every output on the reference raster's grid (default), or each on its own grid",
    )
    parser.add_argument(
        "--reference",
        type=int,
        help="the reference raster's place in a job (1 = first, the default); not with --grid own",
    )
    parser.add_argument("--area", choices=("extents", "valid"), default="extents", help="the common area")
    parser.add_argument(
        "--mask-common", action="store_true", help="nodata in every output wherever any raster has no valid data"
    )
    parser.add_argument("--resampling", choices=RESAMPLING_METHODS, default="near")
    parser.add_argument(
        "--qa",
        metavar="RULE",
        help="a clear-sky rule for every input, from a QA band of its own: a preset ("
        + ", ".join(PRESETS)
        + "), bits:0,1,3 (bits to reject) or classes:4,5,6 (classes to keep); --area valid and --mask-common then "
        "leave out clouds, their shadows and snow",
    )
    parser.add_argument("--qa-band", type=int, default=1, metavar="N", help="the inputs' QA band for --qa (1 = first)")
    parser.add_argument(
        "--shift",
        choices=["none", *(name for name in SHIFTS if name)],
        default="estimate",
        help="estimate the shift of each input's content against the reference's, said per job and in the summary "
        "(the default), estimate and correct it (each output resampled once: bilinear, cubic or lanczos move a "
        "fraction of a pixel, near whole pixels only), or none",
    )
    parser.add_argument("--co", action="append", default=[], metavar="KEY=VALUE", help="a GDAL creation option")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="the address of an existing Dask scheduler")
    parser.add_argument("--local-workers", type=int, metavar="N", help="start a Dask LocalCluster of N processes")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="threads of the local pool (without Dask)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument("--verbose", action="store_true", help="print each failed job's traceback, and Dask's own logs")
    return parser.parse_args(argv)


class FolderError(OSError):
    """A stack folder that cannot be made."""


class Folders:
    """The stack folders a batch makes (with any missing parents), removed again if they are still empty
    once no job of the batch writes into them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[str, list[str]] = {}
        self._users: dict[str, int] = {}

    def enter(self, folder: str) -> None:
        """Make ``folder`` unless it is there; a job is about to write into it."""
        with self._lock:
            if not os.path.isdir(folder):
                missing = []
                parent = folder
                while not os.path.lexists(parent) and os.path.dirname(parent) != parent:
                    missing.append(parent)
                    parent = os.path.dirname(parent)
                try:
                    os.makedirs(folder, exist_ok=True)
                except OSError as err:
                    if os.path.lexists(parent) and not os.path.isdir(parent):
                        reason = "a file has that name" if parent == folder else f"'{parent}' is a file"
                    else:
                        reason = (err.strerror or str(err)).lower()
                    raise FolderError(f"Cannot make the output folder '{folder}': {reason}.") from err
                self._made[folder] = missing
            self._users[folder] = self._users.get(folder, 0) + 1

    def leave(self, folder: str) -> None:
        """A job has ended: remove the folders the batch made for it if they are empty and no job uses them."""
        with self._lock:
            self._users[folder] -= 1
            if self._users[folder] or folder not in self._made:
                return
            try:
                for made in self._made.pop(folder):
                    os.rmdir(made)  # refused (and the parents kept) when a job wrote into it
            except OSError:
                pass


class Stop:
    """The signal handler of a batch: the first SIGINT or SIGTERM asks the batch to stop (it starts no
    other job and cancels the running ones); ``signal`` is that signal's number, or None."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __call__(self, number: int, _frame: object) -> None:
        """Ask the batch to stop (the first signal counts)."""
        if self.signal is None:
            self.signal = number

    def going(self, _fraction: float) -> bool:
        """A run's progress callback: False (cancel) once a stop is asked."""
        return self.signal is None


@contextlib.contextmanager
def _handled(stop: Stop) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``stop`` for as long as the block lasts (on the main thread only, where
    Python runs signal handlers); the handlers before are put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored for the block, and for good in the processes started meanwhile (a LocalCluster's
    workers keep an ignored signal): Ctrl-C reaches every process of the terminal's group, and a worker it
    ended would leave its pieces waited for forever. The batch stops the workers' pieces itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _ranges(numbers: Sequence[int]) -> str:
    """``1, 3-5, 9`` for [1, 3, 4, 5, 9]."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(first) if first == last else f"{first}-{last}" for first, last in spans)


def _names(inputs: Sequence[str]) -> list[str]:
    """How the shift lines name a job's inputs: each by its file name, or by its path where two share one."""
    names = [os.path.basename(path.rstrip("/")) or path for path in inputs]
    return [path if names.count(name) > 1 else name for path, name in zip(inputs, names)]


def shift_lines(inputs: Sequence[str], result: RunResult, correct: bool) -> list[str]:
    """One line per input other than the reference: its shift against the reference and, when ``correct``,
    what moved it, or why it is not estimated."""
    lines = []
    corrections = result.corrections or (None,) * len(result.shifts)
    for name, estimate, moved in zip(_names(inputs), result.shifts, corrections):
        if estimate is None:
            continue
        if not estimate.reliable or estimate.dx_px is None or estimate.dy_px is None:
            lines.append(f"shift of '{name}' not estimated: {estimate.reason}")
            continue
        distance = f" ({estimate.shift_m:.3g} m)" if estimate.shift_m is not None else ""
        line = (
            f"shift of '{name}': {estimate.dx_px:+.2f}, {estimate.dy_px:+.2f} px{distance}, "
            f"{estimate.windows_used} of {estimate.windows_total} windows agree"
        )
        if correct and moved is None:
            line += f", not moved (under {WHOLE_PIXEL} px)"
        elif moved is not None and moved == (estimate.dx_px, estimate.dy_px):
            line += ", corrected"
        elif moved is not None:
            line += f", corrected by {moved[0]:+.2f}, {moved[1]:+.2f} px"
        lines.append(line)
    return lines


def change_lines(result: RunResult) -> list[str]:
    """The line of a job's change map: its changed pixels of those compared, their share and area, the threshold."""
    found = result.change
    if found is None:
        return []
    area = f", {found.changed_area_m2:.6g} m2" if found.changed_area_m2 is not None else ""
    threshold = f", threshold {found.threshold:.6g}" if found.threshold is not None else ""
    return [
        f"change ({found.method}, bands {', '.join(map(str, found.bands))}): {found.changed} of {found.valid} "
        f"pixels ({found.changed_percent or 0.0:.4g} %){area}{threshold}"
    ]


def run_batch(
    jobs: Sequence[Job], options: argparse.Namespace, executor: concurrent.futures.Executor, out, stop: Stop
) -> tuple[int, int]:
    """Run ``jobs`` through ``executor``, saying each one's end on ``out``, until ``stop`` asks to stop;
    how many failed, and how many the stop left unwritten."""
    grid = "own" if options.grid == "own" else (options.reference or 1) - 1
    lock = threading.Lock()
    folders = Folders()
    done: list[int] = []
    failed: list[tuple[int, str]] = []
    reports: dict[int, list[str]] = {}
    stopped: list[int] = []
    not_run: list[int] = []

    def one(number: int, job: Job) -> None:
        said: list[str] = []
        entered = False
        if stop.signal is not None:
            with lock:
                not_run.append(number)
            return
        try:
            if job.folder is not None:
                folders.enter(job.folder)
                entered = True
            result = run_clip(
                [
                    Source(path, qa=rule)
                    for path, rule in zip(job.inputs, job.qa or [options.qa_rule] * len(job.inputs))
                ],
                job.outputs,
                grid,
                "valid" if job.change is not None else options.area,
                options.mask_common,
                options.resampling,
                options.co,
                progress=stop.going,
                warn=said.append,
                executor=executor,
                shift="" if options.shift == "none" else options.shift,
                change=job.change,
            )
            message = f"written: {', '.join(job.written)}"
            with lock:
                reports[number] = shift_lines(job.inputs, result, options.shift == "correct") + change_lines(result)
        except CancelledError:  # only a stop cancels a run of the batch
            message = "stopped, nothing written"
            with lock:
                stopped.append(number)
        except Exception as err:  # any failure is the job's, said in one line; the batch goes on
            reason = (
                str(err) if isinstance(err, (OverlapClipError, ValueError, OSError)) else f"{type(err).__name__}: {err}"
            )
            message = f"FAILED, nothing written: {reason}"
            with lock:
                failed.append((number, reason))
                if options.verbose:
                    traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
        finally:
            if entered:
                folders.leave(str(job.folder))
        with lock:
            done.append(number)
            if not options.quiet:
                print(f"[{len(done)}/{len(jobs)}] job {number}: {message}", file=out, flush=True)
                for line in reports.get(number, ()):
                    print(f"    {line}", file=out, flush=True)
                for warning in said:
                    print(f"    warning: {warning}", file=out, flush=True)

    with concurrent.futures.ThreadPoolExecutor(min(JOBS_AT_ONCE, len(jobs))) as client_side:
        futures = [client_side.submit(one, number, job) for number, job in enumerate(jobs, start=1)]
        said_stop = False
        # The main thread waits in short steps: a signal's handler runs between them.
        while concurrent.futures.wait(futures, POLL)[1]:
            if stop.signal is not None and not said_stop and not options.quiet:
                said_stop = True
                with lock:
                    print(
                        f"Stopping on {signal.Signals(stop.signal).name}: the running jobs are cancelled.",
                        file=out,
                        flush=True,
                    )
        for future in futures:
            future.result()
    unwritten = {number for number, _reason in failed} | set(stopped) | set(not_run)
    files = sum(len(job.written) for number, job in enumerate(jobs, start=1) if number not in unwritten)
    print(f"Written: {len(jobs) - len(unwritten)} of {len(jobs)} jobs ({files} files).", file=out)
    for number, lines in sorted(reports.items()):
        for line in lines:
            print(f"Job {number}: {line}", file=out)
    for number, reason in sorted(failed):
        print(f"Failed: job {number}: {reason}", file=out)
    if stop.signal is not None and stopped + not_run:
        print(
            f"Stopped by {signal.Signals(stop.signal).name}: jobs {_ranges(stopped + not_run)} not written "
            f"({len(stopped)} cancelled while running, {len(not_run)} not started).",
            file=out,
        )
    return len(failed), len(stopped + not_run)


@contextlib.contextmanager
def _dask_logs(verbose: bool, dask: bool) -> Iterator[None]:
    """Dask's logs and warnings kept quiet unless ``verbose``: a worker logs a failed task with its
    traceback on the terminal, and the job's line says the failure already; the client's event loop logs a
    task that ended after its future was cancelled; a LocalCluster's scheduler
    warns when another cluster holds its dashboard's port. The worker processes of a LocalCluster read
    the setting from the environment when they start (one set by the user is kept)."""
    if verbose or not dask:
        yield
        return
    # Importing Dask's distributed sets these loggers' levels from its configuration (the client's event loop
    # to ERROR): it is imported first, so that the levels set here are the ones that hold.
    with contextlib.suppress(ImportError):
        import distributed  # noqa: F401
    # Tornado's is the client's event loop: Dask's executor logs there when a task ends after its future was
    # cancelled (a job that failed cancels its other pieces), an error of Dask's own bookkeeping, not the job's.
    # Its configuration gives some of its own loggers levels of their own (distributed.client: WARNING): each is
    # quieted, not only the parents.
    names = {"distributed", "tornado.application"} | {
        name for name in logging.root.manager.loggerDict if name.startswith(("distributed.", "tornado."))
    }
    loggers = [logging.getLogger(name) for name in sorted(names)]
    variable = "DASK_LOGGING__DISTRIBUTED"
    levels, saved = [logger.level for logger in loggers], os.environ.get(variable)
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    os.environ[variable] = saved or "critical"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"distributed(\.|$)")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
        if saved is None:
            del os.environ[variable]


def main(argv: Sequence[str] | None = None) -> int:
    """The command; returns its exit status."""
    options = _arguments(argv)
    start = time.monotonic()
    stop = Stop()
    with _handled(stop):
        status = _run(options, stop)
    if status is None:
        return 2
    print(f"Took {time.monotonic() - start:.2f} s.")
    return status


def _run(options: argparse.Namespace, stop: Stop) -> int | None:
    """The batch of ``options``, run until ``stop`` asks to stop; the exit status, or None when the
    batch file or the options cannot be used (said on stderr)."""
    try:
        jobs = read_jobs(options.batch)
        if options.reference is not None and options.grid == "own":
            raise BatchFileError(
                "--reference chooses the grid of every output, and --grid own keeps each raster's own: give one."
            )
        if options.reference is not None and (
            options.reference < 1 or any(options.reference > len(job.inputs) for job in jobs)
        ):
            raise BatchFileError(f"--reference {options.reference} is not a place in every job.")
        try:
            options.qa_rule = parse_rule(options.qa, options.qa_band) if options.qa else None
        except QaRuleError as err:
            raise BatchFileError(f"--qa: {err}") from None
        if options.threads < 1 or (options.local_workers is not None and options.local_workers < 1):
            raise BatchFileError("--threads and --local-workers need 1 or more.")
        if options.scheduler and options.local_workers:
            raise BatchFileError("Give --scheduler or --local-workers, not both.")
        mapped = [number for number, job in enumerate(jobs, start=1) if job.change is not None]
        if mapped and options.grid == "own":
            raise BatchFileError(
                f"Job {mapped[0]} asks for a change map, which compares the pair on one grid; --grid own gives each "
                "input its own."
            )
        with contextlib.ExitStack() as stack:
            stack.enter_context(_dask_logs(options.verbose, bool(options.scheduler or options.local_workers)))
            with _sigint_ignored():
                executor = stack.enter_context(make_executor(options.scheduler, options.local_workers, options.threads))
            failures, unwritten = run_batch(jobs, options, executor, sys.stdout, stop)
    except (BatchFileError, ExecutorError) as err:
        print(err, file=sys.stderr)
        return None
    if stop.signal is not None and unwritten:
        return 128 + stop.signal  # as a shell gives it: 130 for SIGINT, 143 for SIGTERM
    return 1 if failures else 0
