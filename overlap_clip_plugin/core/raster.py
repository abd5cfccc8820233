"""What the core knows of an input raster, read once with GDAL."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from osgeo import gdal

from overlap_clip_plugin.core.crs import Crs, crs_from_wkt
from overlap_clip_plugin.core.errors import InputChangedError, RasterOpenError, UnsupportedGeoreferenceError
from overlap_clip_plugin.core.gdalenv import gdal_mode, quiet_gdal
from overlap_clip_plugin.core.grid import Grid, Window

if TYPE_CHECKING:
    from overlap_clip_plugin.core.qa import QaRule


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
    #: A geotransform to read the raster with instead of its own (its shift against another corrected).
    geotransform: tuple[float, ...] | None = None
    #: Which pixels are clear (not cloud, shadow or snow), from a QA band: valid beyond nodata (see
    #: :mod:`overlap_clip_plugin.core.qa`); None counts every pixel that its masks call valid.
    qa: QaRule | None = None


@dataclass(frozen=True)
class RasterInfo:
    """A raster's path, grid (which carries its CRS) and bands.

    ``open_options`` are the GDAL open options it is read with, every time.
    """

    path: str
    grid: Grid
    bands: tuple[BandInfo, ...]
    open_options: tuple[str, ...] = ()
    #: Empty for a north-up geotransform; else how the raster is placed on the ground ("rotated",
    #: "gcp_polynomial", "gcp_tps", "rpc"), the GDAL transformer options that do it, and its true
    #: footprint (WKT in the grid's CRS); ``grid`` is then the north-up grid GDAL's warper suggests.
    georeference: str = ""
    warp_options: tuple[str, ...] = ()
    footprint_wkt: str = ""
    #: What the plan saw of the raster on disk (see :func:`stamp_of`), to tell that it has not changed since.
    stamp: tuple = field(default=(), compare=False)
    #: True when ``grid`` moves the raster from where its file puts it (a corrected shift): every read
    #: goes through a VRT that carries ``grid``'s geotransform.
    moved: bool = False
    #: The clear-sky rule of the raster's :class:`Source`: the common valid area keeps its clear pixels only.
    qa: QaRule | None = None

    @property
    def crs(self) -> Crs | None:
        """The raster's CRS (None for a raster without one)."""
        return self.grid.crs

    @property
    def warped(self) -> bool:
        """True for a raster that is always resampled, never copied (not on a north-up geotransform)."""
        return bool(self.georeference)

    @property
    def name(self) -> str:
        """The raster's file name, as messages name it."""
        return os.path.basename(self.path)

    def open(self) -> gdal.Dataset:
        """The raster opened read-only with its open options (where it is moved, as a VRT put there)."""
        dataset = open_raster(self.path, self.open_options)
        if not self.moved:
            return dataset
        with quiet_gdal():
            moved = gdal.Translate("", dataset, format="VRT")
        moved.SetGeoTransform(self.grid.transform)
        return moved

    def window_onto(self, grid: Grid, inside: bool = True) -> Window | None:
        """The block of this raster's pixels that ``grid`` is (see :meth:`Grid.window_of`); None for a raster
        that must be resampled onto ``grid``, as one placed by a transformer always is."""
        return None if self.warped else self.grid.window_of(grid, inside)


@dataclass(frozen=True)
class Read:
    """How a pass sees ``raster`` on a grid the plan chose: the block ``window`` of its pixels as they are
    (it may reach outside the raster, read as invalid), or warped onto the grid (None)."""

    raster: RasterInfo
    window: Window | None

    @staticmethod
    def on(raster: RasterInfo, grid: Grid) -> Read:
        """How ``raster`` is read on ``grid``."""
        return Read(raster, raster.window_onto(grid, inside=False))


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
        unreadable = _why_unreadable(path)
        if unreadable:
            raise RasterOpenError("GDAL cannot read '{path}': {reason}.", path=path, reason=unreadable.rstrip("."))
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


def _why_unreadable(path: str) -> str:
    """Why GDAL's virtual file systems cannot read the file ``path`` (an HTTP status, a server that is down,
    missing credentials), in their words; "" where they can, or where ``path`` is not theirs. GDAL's raster
    drivers do not pass these reasons on when they fail to open the file."""
    name = f"/vsicurl/{path}" if path.startswith(("http://", "https://")) else path
    if not name.startswith("/vsi"):
        return ""
    with quiet_gdal():
        # The failed open left "no such file" in GDAL's cache of remote files, without the reason.
        gdal.VSICurlPartialClearCache(name)
        gdal.VSIErrorReset()
        handle = gdal.VSIFOpenExL(name, "rb", True)
        if handle is not None:
            gdal.VSIFCloseL(handle)
            return ""
        return str(gdal.VSIGetLastErrorMsg() or "")


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

    A raster that is not on a north-up geotransform (rotated or sheared, GCPs with GDAL's ``gcp_method``
    transformer, "polynomial" or "tps", RPCs with an optional ``rpc_dem``) gets the north-up grid GDAL's
    warper suggests (see :mod:`overlap_clip_plugin.core.georef`).

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
    transform = source.geotransform or dataset.GetGeoTransform(can_return_null=True)
    georeference, footprint = "", ""
    warp_options: tuple[str, ...] = ()
    grid = None
    if transform is not None:
        try:
            crs = crs_from_wkt(dataset.GetProjection() or "")
            grid = Grid(tuple(transform), dataset.RasterXSize, dataset.RasterYSize, crs)
        except UnsupportedGeoreferenceError:
            grid = None  # rotated, sheared or south-up: placed by GDAL's warper below
    if grid is None:
        with quiet_gdal():
            placed = warped_georeference(dataset, path, gcp_method, rpc_dem)
        grid = placed.grid
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
        path,
        grid,
        tuple(bands),
        tuple(source.open_options),
        georeference,
        warp_options,
        footprint,
        stamp_of(dataset),
        source.geotransform is not None,
        source.qa,
    )


def stamp_of(dataset: gdal.Dataset) -> tuple:
    """The size in pixels and the geotransform of ``dataset``, and the size and modification time of each of
    its files (side files too): what changes when a raster is written again."""
    files: list[tuple[str, int | None, int | None]] = []
    for name in dataset.GetFileList() or []:
        try:
            status = os.stat(name)
            files.append((name, status.st_size, status.st_mtime_ns))
        except OSError:
            with quiet_gdal():
                remote = gdal.VSIStatL(name)
            files.append((name, remote.size, remote.mtime) if remote is not None else (name, None, None))
    return (dataset.RasterXSize, dataset.RasterYSize, dataset.GetGeoTransform(can_return_null=True), tuple(files))


def check_unchanged(rasters: Sequence[RasterInfo]) -> None:
    """Refuse to go on when one of ``rasters`` is no longer what the plan read: another run wrote it since,
    or is writing it (GDAL would read new pixels through the plan's old windows)."""
    for raster in rasters:
        try:
            with quiet_gdal():
                now = stamp_of(open_raster(raster.path, raster.open_options))
        except RasterOpenError:
            now = ()
        if now != raster.stamp:
            raise InputChangedError(
                "The input '{path}' changed while the run read it (its files or its grid are not what the plan "
                "saw); nothing was written. Run again once whatever writes it has finished.",
                path=raster.path,
            )
