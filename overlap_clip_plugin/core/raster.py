"""What the core knows of an input raster, read once with GDAL.

GDAL's exception mode is decided here, explicitly: the core runs with
exceptions off. Results are checked for ``None`` and errors are read from
GDAL's per-thread last-error state, with GDAL's own printing silenced for
the call. Every public entry point of the core sets that mode for its own
thread only while it runs (:func:`gdal_mode`), so QGIS and other code keep
the mode they chose.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from osgeo import gdal, ogr, osr

from overlap_clip_plugin.core.errors import OverlapClipError, RasterOpenError, UnsupportedGeoreferenceError
from overlap_clip_plugin.core.grid import Grid

T = TypeVar("T")


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

    GDAL's default cache is a share of the machine's memory, and reading
    blocks fills it whatever the access pattern; capping it keeps peak memory
    flat. Concurrent runs share one cap: the first sets it, the last restores
    the setting it found, but only if the cap is still in force: a change
    someone else made meanwhile is theirs, and stays.
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


@dataclass(frozen=True)
class BandInfo:
    """The properties of one band that outputs keep."""

    data_type: str
    nodata: float | None
    paletted: bool = False
    mask_flags: int = 0
    #: A Byte band that holds signed bytes (GDAL before 3.7: ``PIXELTYPE=SIGNEDBYTE``; later GDAL says Int8).
    signed_byte: bool = False


@dataclass(frozen=True)
class Source:
    """A raster as GDAL opens it: a dataset name (a path, ``/vsizip/...``, ``GPKG:...``) and open options."""

    path: str
    open_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class RasterInfo:
    """A raster's path, grid, coordinate reference system and bands.

    ``crs_wkt`` is the empty string for a raster without a CRS. ``open_options``
    are the GDAL open options it is read with, every time.
    """

    path: str
    grid: Grid
    crs_wkt: str
    bands: tuple[BandInfo, ...]
    open_options: tuple[str, ...] = ()
    #: Empty for a north-up geotransform; else how the raster is placed on the ground ("rotated",
    #: "gcp_polynomial", "gcp_tps", "rpc"), the GDAL transformer options that do it, and its true
    #: footprint (WKT in ``crs_wkt``); ``grid`` is then the north-up grid GDAL's warper suggests.
    georeference: str = ""
    warp_options: tuple[str, ...] = ()
    footprint_wkt: str = ""

    @property
    def warped(self) -> bool:
        """True for a raster that is always resampled, never copied (not on a north-up geotransform)."""
        return bool(self.georeference)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


def open_raster(path: str, open_options: Sequence[str] = ()) -> gdal.Dataset:
    """Open ``path`` read-only as a GDAL raster with ``open_options``, or raise :class:`RasterOpenError`.

    ``path`` may also be any GDAL dataset name (``/vsizip/...``, ``GPKG:...``).
    """
    with quiet_gdal():
        try:
            dataset = gdal.OpenEx(path, gdal.OF_RASTER | gdal.OF_READONLY, open_options=list(open_options))
            reason = gdal.GetLastErrorMsg()
        except RuntimeError as err:
            dataset, reason = None, str(err)
    if dataset is None:
        if not os.path.exists(path) and ":" not in path and not path.startswith("/vsi"):
            raise RasterOpenError("The raster '{path}' does not exist.", path=path)
        with quiet_gdal():
            # Asked directly, not read from the wording of GDAL's message, which differs between versions.
            identified = gdal.IdentifyDriverEx(path, gdal.OF_RASTER)
        if identified is None or not reason:
            raise RasterOpenError(
                "GDAL cannot open '{path}' as a raster: it is not in any raster format GDAL reads.", path=path
            )
        raise RasterOpenError("GDAL cannot open '{path}' as a raster: {reason}.", path=path, reason=reason)
    if dataset.RasterCount == 0:
        raise RasterOpenError("'{path}' holds no raster band.", path=path)
    return dataset


def _check_not_truncated(dataset: gdal.Dataset, path: str) -> None:
    """Refuse a GeoTIFF whose last blocks lie beyond the end of its file (a cut-off copy or download)."""
    if dataset.GetDriver().ShortName != "GTiff" or not os.path.isfile(path):
        return
    file_size = os.path.getsize(path)
    for index in (1, dataset.RasterCount):
        band = dataset.GetRasterBand(index)
        block_width, block_height = band.GetBlockSize()
        last_x = (band.XSize - 1) // block_width
        last_y = (band.YSize - 1) // block_height
        offset = band.GetMetadataItem(f"BLOCK_OFFSET_{last_x}_{last_y}", "TIFF")
        size = band.GetMetadataItem(f"BLOCK_SIZE_{last_x}_{last_y}", "TIFF")
        if offset and size and int(offset) + int(size) > file_size:
            raise RasterOpenError(
                "The GeoTIFF '{path}' is truncated: its data run to byte {end} but the file holds {size} bytes; "
                "copy or download it again.",
                path=path,
                end=int(offset) + int(size),
                size=file_size,
            )


@gdal_mode()
def read_raster(source: str | Source, gcp_method: str = "polynomial", rpc_dem: str | None = None) -> RasterInfo:
    """Read the grid, CRS and bands of the raster ``source`` (a path, or a :class:`Source` with open options).

    A raster that is not on a north-up geotransform (rotated or sheared, GCPs
    with GDAL's ``gcp_method`` transformer, "polynomial" or "tps", RPCs with
    an optional ``rpc_dem``) gets the north-up grid GDAL's warper suggests
    (see :mod:`overlap_clip_plugin.core.georef`).

    Raises
    ------
    RasterOpenError
        GDAL cannot open the path as a raster, or it is a truncated GeoTIFF.
    UnsupportedGeoreferenceError
        The raster has no georeference at all.
    """
    from overlap_clip_plugin.core.georef import warped_georeference

    if isinstance(source, str):
        source = Source(source)
    path = source.path
    dataset = open_raster(path, source.open_options)
    _check_not_truncated(dataset, path)
    transform = dataset.GetGeoTransform(can_return_null=True)
    crs_wkt = dataset.GetProjection() or ""
    georeference, footprint = "", ""
    warp_options: tuple[str, ...] = ()
    grid = None
    if transform is not None:
        try:
            grid = Grid(tuple(transform), dataset.RasterXSize, dataset.RasterYSize)
        except UnsupportedGeoreferenceError:
            grid = None  # rotated, sheared or south-up: placed by GDAL's warper below
    if grid is None:
        with quiet_gdal():
            placed = warped_georeference(dataset, path, gcp_method, rpc_dem)
        grid, crs_wkt = placed.grid, placed.crs_wkt
        georeference, warp_options, footprint = placed.how, placed.options, placed.footprint_wkt
    bands = []
    for index in range(1, dataset.RasterCount + 1):
        band = dataset.GetRasterBand(index)
        paletted = band.GetColorInterpretation() == gdal.GCI_PaletteIndex and band.GetColorTable() is not None
        # Only GDAL before 3.7 marks signed bytes so (later GDAL has Int8, and warns when asked).
        signed = not hasattr(gdal, "GDT_Int8") and band.GetMetadataItem("PIXELTYPE", "IMAGE_STRUCTURE") == "SIGNEDBYTE"
        data_type = gdal.GetDataTypeName(band.DataType)
        bands.append(
            BandInfo(data_type, band.GetNoDataValue(), paletted, band.GetMaskFlags(), signed and data_type == "Byte")
        )
    return RasterInfo(
        path, grid, crs_wkt, tuple(bands), tuple(source.open_options), georeference, warp_options, footprint
    )


def in_piece(function: Callable[..., T], *args: object) -> tuple[T, list[str]]:
    """``function(*args)`` as a piece of a run, on whatever thread, process or machine runs it: with the
    core's GDAL settings, keeping GDAL's warnings to send back. Returns the result and the warnings."""
    said: list[str] = []
    with gdal_mode(), bounded_cache(), gdal_warnings(said.append):
        return function(*args), said
