"""Where the pieces of a run go: any ``concurrent.futures.Executor``, this thread by default.

Reading each input's metadata, scanning the valid data strip by strip and writing each output are
pieces that need nothing of one another. They always run through an executor: :class:`InlineExecutor`
(each piece at once, on the caller's thread) when the caller names none, a local thread pool (GDAL
releases the GIL, so threads use every core), a process pool, or a Dask cluster through
``distributed.Client(...).get_executor()``. Pieces and their results travel by pickle, so a piece is a
module-level function of plain data. :func:`make_executor` makes each of these.

One progress rule holds everywhere: a progress callback gets the fraction done (0 to 1); it cancels
the run by returning False, and only then (None and True continue, as with GDAL's Python callbacks).
The client asks it after every piece (on a pool, at least every :data:`POLL` seconds). On a cancel or a failed
piece, every piece not yet started is cancelled and the ones running are waited for before the caller
cleans up, so no writer outlives the cleaning. Dask is imported only by :func:`make_executor`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from overlap_clip_plugin.core.errors import CancelledError, ExecutorError, OverlapClipError, WriteError, translatable
from overlap_clip_plugin.core.gdalenv import bounded_cache, gdal_mode, gdal_warnings, relay_warning

T = TypeVar("T")

#: A progress callback: receives the fraction done (0 to 1); returning False cancels, anything else goes on.
Progress = Callable[[float], object]

#: How long the client waits for a piece before it looks at the progress callback again (seconds).
POLL = 0.2


def cancelled_by(progress: Progress | None, fraction: float) -> bool:
    """Whether ``progress`` cancels at ``fraction``: only an answer of False does."""
    return progress is not None and progress(fraction) is False


def gdal_progress(progress: Progress | None, stopped: list[bool]) -> Callable[[float, str, object], int]:
    """GDAL's progress callback for ``progress``: it stops GDAL (returns 0) when ``progress`` cancels, and
    then appends True to ``stopped``, so that the caller can tell a cancel from a failure."""

    def callback(complete: float, _message: str, _data: object) -> int:
        if cancelled_by(progress, complete):
            stopped.append(True)
            return 0
        return 1

    return callback


class InlineExecutor(concurrent.futures.Executor):
    """Runs each piece when it is submitted, on the caller's thread: a sequential run."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        """Run ``fn(*args, **kwargs)`` now; its result or its exception is in the future returned."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as err:  # the piece's failure travels in its future, as on a pool
            future.set_exception(err)
        try:
            return future
        finally:
            # The error's traceback keeps this frame (as its callers' frames keep it): it must not keep the
            # future that keeps the error (see _result).
            del future


def runs_here(executor: concurrent.futures.Executor) -> bool:
    """Whether ``executor`` runs pieces in this process, where they can report progress as they go."""
    return isinstance(executor, (InlineExecutor, concurrent.futures.ThreadPoolExecutor))


def workers(executor: concurrent.futures.Executor) -> int:
    """How many pieces ``executor`` runs at once: 1 inline, a pool's workers, a Dask cluster's threads (the
    processor count when it cannot tell)."""
    if isinstance(executor, InlineExecutor):
        return 1
    count = getattr(executor, "_max_workers", None)
    client = getattr(executor, "_client", None)
    if count is None and client is not None:
        with contextlib.suppress(Exception):  # a cluster that cannot say: the fallback below
            count = sum(client.nthreads().values())
    return max(1, int(count or os.cpu_count() or 1))


def in_piece(function: Callable[..., T], *args: object) -> tuple[T, list[str]]:
    """``function(*args)`` as a piece of a run, on whatever thread, process or machine runs it: with the
    core's GDAL settings, keeping GDAL's warnings to send back. Returns the result and the warnings."""
    said: list[str] = []
    with gdal_mode(), bounded_cache(), gdal_warnings(said.append):
        return function(*args), said


def pieces(
    executor: concurrent.futures.Executor,
    function: Callable[..., T],
    arguments: Iterable[Sequence[Any]],
    progress: Progress | None = None,
    cancelled: str = translatable("Cancelled; nothing was written."),
    on_stop: Callable[[], None] | None = None,
    ahead: int | None = None,
) -> Generator[T, None, None]:
    """``function(*args)`` for each of ``arguments``, each call a piece run through ``executor``; the
    results in order, each as soon as it and those before it are done.

    The warnings GDAL gives in a piece are passed on here, on the caller's thread, with its result.
    ``progress`` is called with the fraction of pieces done; when it cancels, the run stops with
    :class:`CancelledError` (``cancelled`` is its sentence). The first piece that fails stops the run
    with that piece's error. ``on_stop`` is called then, before the running pieces are waited for (to tell
    them to stop early). An :class:`InlineExecutor` runs one piece at a time, asking ``progress`` between
    them; other executors get every piece at once, or, with ``ahead``, at most that many pieces beyond the
    results the caller has taken (so that results a slower caller has not taken yet never pile up: memory holds
    ``ahead`` of them at most, besides the one the caller has). Close the iterator (``contextlib.closing``) when
    leaving it early, so that the pieces still running are stopped.
    """
    waiting = list(arguments)
    total = len(waiting)
    at_once = 1 if isinstance(executor, InlineExecutor) else max(total, 1)
    if ahead is not None:
        at_once = min(at_once, max(1, ahead))
    here = runs_here(executor)
    running: dict[concurrent.futures.Future, int] = {}
    results: dict[int, Any] = {}
    done: set[concurrent.futures.Future] = set()
    future: concurrent.futures.Future | None = None
    submitted = given = 0
    try:
        while given < total:
            while waiting and submitted - given < at_once:
                running[executor.submit(in_piece, function, *waiting.pop(0))] = submitted
                submitted += 1
            done, _ = concurrent.futures.wait(list(running), POLL, concurrent.futures.FIRST_COMPLETED)
            for future in done:
                index = running.pop(future)
                results[index] = _result(future, here)
            if cancelled_by(progress, (submitted - len(running)) / total):
                raise CancelledError(cancelled)
            while given in results:
                result, said = results.pop(given)
                for message in said:
                    relay_warning(message)
                given += 1
                yield result
    except BaseException:
        # A piece's error, raised here from its future, keeps this frame in its traceback: drop the futures
        # that keep the error (no reference cycle; see _result).
        done, future = set(), None
        if on_stop is not None:
            on_stop()
        # Every piece not yet started is cancelled, and the ones running are waited for. A future that took the
        # cancel is not waited for: it never runs, and Dask's may never say so (its workers gone with a Ctrl-C).
        started = [pending for pending in running if not pending.cancel()]
        concurrent.futures.wait(started)
        raise


def run_pieces(executor: concurrent.futures.Executor, function: Callable[..., T], *args: Any, **named: Any) -> list[T]:
    """Every result of :func:`pieces` (same arguments), in order, once all are done."""
    return list(pieces(executor, function, *args, **named))


def _result(future: concurrent.futures.Future, here: bool) -> Any:
    """A piece's result. A failure in this process is raised as it is; elsewhere, one that is not the
    core's own (a worker that died, say) becomes one WriteError sentence.

    The error raised keeps this frame (and the caller's) in its traceback while the future keeps the error:
    neither frame may keep the future, or the error, its frames and the GDAL objects in them form a
    reference cycle that only the cyclic GC frees, at any later time, on any thread (even after QGIS has
    closed every GDAL dataset on exit, where freeing their Python objects crashes)."""
    try:
        error = future.exception()
    except concurrent.futures.CancelledError as cancelled:
        error = cancelled
    if error is None:
        return future.result()
    del future
    try:
        if isinstance(error, OverlapClipError) or here or not isinstance(error, Exception):
            raise error
        raise WriteError(
            "A piece of the run failed where it ran ({kind}: {reason}); nothing was written.",
            kind=type(error).__name__,
            reason=str(error) or repr(error),
        ) from error
    finally:
        error = None


@contextlib.contextmanager
def make_executor(
    scheduler: str | None = None, local_workers: int | None = None, threads: int | None = None
) -> Iterator[concurrent.futures.Executor]:
    """The executor a run's pieces go to, for as long as the ``with`` block lasts: the Dask cluster whose
    scheduler is at ``scheduler``, a Dask ``LocalCluster`` of ``local_workers`` processes (one thread
    each, as the warper then takes one thread a piece), a pool of ``threads`` threads, or (none of
    them) an :class:`InlineExecutor`. Dask is imported only for the first two.

    Raises
    ------
    ExecutorError
        Dask's distributed package is missing, or the cluster cannot be started or reached.
    """
    if scheduler or local_workers:
        try:
            import distributed
        except ImportError as err:
            raise ExecutorError(
                "Dask's distributed package is not installed in this Python (pip install distributed).",
                address=scheduler or "",
            ) from err
        try:
            if scheduler:
                cluster = None
                client = distributed.Client(scheduler, timeout=10)
            else:
                cluster = distributed.LocalCluster(
                    n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
                client = distributed.Client(cluster)
        except (OSError, TimeoutError, ValueError) as err:
            raise ExecutorError(
                "Cannot start or reach the Dask cluster: {reason}", address=scheduler or "", reason=str(err)
            ) from err
        with contextlib.ExitStack() as stack:
            if cluster is not None:
                stack.enter_context(cluster)
            stack.enter_context(client)
            # Not pure: a piece writes files, and two alike (the same read in two jobs) must stay two tasks, never
            # one shared key that a failing job's cancel takes from the other.
            yield client.get_executor(pure=False)
        return
    if threads:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            yield pool
        return
    yield InlineExecutor()
