"""The independent pieces of a run, handed to any ``concurrent.futures.Executor``.

Reading each input's metadata, scanning the valid data strip by strip and writing each output are
pieces that need nothing of one another. Given an executor they run through it: a local thread pool
(GDAL releases the GIL, so threads use every core), a process pool, or a Dask cluster through
``distributed.Client(...).get_executor()``. Pieces and their results travel by pickle, so a piece is a
module-level function of plain data.

The client waits for the pieces, a fifth of a second at a time, so that progress goes on and a cancel
is seen between pieces. On a cancel or a failed piece, every piece not yet started is cancelled and the
ones running are waited for (on a thread or process pool) before the caller cleans up, so no writer
outlives the cleaning. Nothing here imports Dask.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from overlap_clip_plugin.core.errors import CancelledError, OverlapClipError, WriteError, translatable
from overlap_clip_plugin.core.raster import in_piece, relay_warning

#: How long the client waits for a piece before it looks at the progress callback again (seconds).
POLL = 0.2


def run_pieces(
    executor: concurrent.futures.Executor,
    function: Callable[..., Any],
    arguments: Iterable[Sequence[Any]],
    progress: Callable[[float], bool] | None = None,
    cancelled: str = translatable("Cancelled; nothing was written."),
    on_stop: Callable[[], None] | None = None,
) -> list[Any]:
    """``[function(*args) for args in arguments]``, each call a piece run through ``executor``.

    Each piece runs with the core's GDAL settings; the warnings GDAL gives in it are passed on here, on
    the caller's thread, in the order of the pieces. ``progress`` is called with the fraction of pieces
    done, and at least every :data:`POLL` seconds; when it returns False the run stops with
    :class:`CancelledError` (``cancelled`` is its sentence). The first piece that fails stops the run
    with that piece's error. ``on_stop`` is called then, before the running pieces are waited for (to
    tell them to stop early).
    """
    futures = [executor.submit(in_piece, function, *args) for args in arguments]
    order = {future: index for index, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    pending = set(futures)
    try:
        while pending:
            done, pending = concurrent.futures.wait(pending, POLL, concurrent.futures.FIRST_COMPLETED)
            for future in done:
                results[order[future]] = _result(future)
            fraction = (len(futures) - len(pending)) / len(futures)
            if progress is not None and progress(fraction) is False:
                raise CancelledError(cancelled)
    except BaseException:
        if on_stop is not None:
            on_stop()
        stop(futures)
        raise
    for _, said in results:
        for message in said:
            relay_warning(message)
    return [result for result, _ in results]


def stop(futures: Sequence[concurrent.futures.Future]) -> None:
    """Cancel every piece not yet started and wait for the ones running."""
    for future in futures:
        future.cancel()
    concurrent.futures.wait(futures)


def _result(future: concurrent.futures.Future) -> Any:
    """A piece's result; a failure that is not the core's own (a worker that died, say) as a WriteError."""
    try:
        return future.result()
    except OverlapClipError:
        raise
    except Exception as err:
        raise WriteError(
            "A piece of the run failed where it ran ({kind}: {reason}); nothing was written.",
            kind=type(err).__name__,
            reason=str(err) or repr(err),
        ) from err
