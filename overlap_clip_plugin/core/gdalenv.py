"""GDAL's settings while the core works: exceptions off, warnings kept, the block cache bounded.

GDAL's exception mode is decided here, explicitly: the core runs with exceptions off. Results are checked for
``None`` and errors are read from GDAL's per-thread last-error state, with GDAL's own printing silenced for
the call. Every public entry point of the core sets that mode for its own thread only while it runs
(:func:`gdal_mode`), so QGIS and other code keep the mode they chose.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from osgeo import gdal, ogr, osr

from overlap_clip_plugin.core.errors import OverlapClipError


@contextmanager
def gdal_mode() -> Iterator[None]:
    """GDAL, OGR and OSR with exceptions off on this thread while the core works, then as they were.

    GDAL 3.7+ keeps a per-thread mode (``ExceptionMgr``), which is set and restored here; setting it
    explicitly also keeps GDAL 3.9+ from warning that no mode was chosen (a FutureWarning). GDAL 3.6
    has neither: there the process's mode is left alone, and :func:`gdal_call` works in both.
    """
    with ExitStack() as stack:
        for module in (gdal, ogr, osr):
            if hasattr(module, "ExceptionMgr"):
                stack.enter_context(module.ExceptionMgr(useExceptions=False))
        yield


class ClipWarning(UserWarning):
    """Something the user should know about a run, as a Python warning when no ``warn`` callback takes it."""


class GdalWarning(ClipWarning):
    """A warning GDAL gave while the core worked, in GDAL's words."""


_local = threading.local()


def _reporters() -> list[Callable[[str], None]]:
    if not hasattr(_local, "reporters"):
        _local.reporters = []
    return _local.reporters


def _handler(level: int, _number: int, message: str) -> None:
    """GDAL's messages on this thread: warnings go to the innermost reporter; errors stay in GDAL's
    last-error state, where :func:`gdal_call` reads them."""
    reporters = _reporters()
    if level == gdal.CE_Warning and reporters:
        reporters[-1](message)


@contextmanager
def gdal_warnings(report: Callable[[str], None] | None = None) -> Iterator[None]:
    """Pass every warning GDAL gives on this thread to ``report``, each message once.

    Without ``report`` each becomes a Python warning (:class:`GdalWarning`). Nothing GDAL warns
    about while the core works is passed over in silence.
    """
    seen: set[str] = set()

    def forward(message: str) -> None:
        message = message.strip()
        if message and message not in seen:
            seen.add(message)
            if report is not None:
                report(message)
            else:
                warnings.warn(message, GdalWarning, stacklevel=2)

    _reporters().append(forward)
    gdal.PushErrorHandler(_handler)
    try:
        yield
    finally:
        gdal.PopErrorHandler()
        _reporters().pop()


def relay_warning(message: str) -> None:
    """Pass on a warning GDAL gave elsewhere (in a piece run by an executor) as if it were given here."""
    reporters = _reporters()
    if reporters:
        reporters[-1](message)
    else:
        warnings.warn(message, GdalWarning, stacklevel=2)


@contextmanager
def quiet_gdal() -> Iterator[None]:
    """Keep GDAL from printing on this thread and reset its last error; warnings still reach the
    reporter of :func:`gdal_warnings`, if one is set."""
    gdal.PushErrorHandler(_handler)
    gdal.ErrorReset()
    try:
        yield
    finally:
        gdal.PopErrorHandler()


#: GDAL's block cache while the core works: enough for tiles of a strip and a warp
#: chunk, small enough that memory stays flat however large the rasters are.
CACHE_BYTES = 128 * 1024 * 1024

_cache_lock = threading.Lock()
_cache_users = 0
_cache_before = 0
_cache_set = 0


@contextmanager
def bounded_cache() -> Iterator[None]:
    """Cap GDAL's global block cache at CACHE_BYTES while the core works, then restore it.

    GDAL's default cache is a share of the machine's memory, and reading blocks fills it whatever the access
    pattern; capping it keeps peak memory flat. Concurrent runs share one cap: the first sets it, the last
    restores the setting it found, but only if the cap is still in force: a change someone else made meanwhile
    is theirs, and stays.
    """
    global _cache_users, _cache_before, _cache_set
    with _cache_lock:
        if _cache_users == 0:
            _cache_before = gdal.GetCacheMax()
            _cache_set = 0
            if _cache_before > CACHE_BYTES:
                gdal.SetCacheMax(CACHE_BYTES)
                _cache_set = gdal.GetCacheMax()
        _cache_users += 1
    try:
        yield
    finally:
        with _cache_lock:
            _cache_users -= 1
            if _cache_users == 0 and _cache_set and gdal.GetCacheMax() == _cache_set:
                gdal.SetCacheMax(_cache_before)


def gdal_call(error: type[OverlapClipError], what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a GDAL function; raise ``error`` with GDAL's message if it fails.

    Works whether or not ``gdal.UseExceptions()`` is in force in the process.
    """
    with quiet_gdal():
        try:
            result = func(*args, **kwargs)
        except RuntimeError as err:
            raise error("{what}: {reason}", what=what, reason=str(err)) from err
        if result is None:
            raise error("{what}: {reason}", what=what, reason=gdal.GetLastErrorMsg() or "GDAL gave no reason")
    return result
