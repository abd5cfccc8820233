"""What an output format can take, asked of GDAL before anything is written.

GDAL writes what it cannot store anyway, and says so only in a warning: a 16-bit DEM written as PNG comes out
all 255, a misspelt creation option is ignored. These checks ask the driver first, with GDAL's own words where
GDAL has them, so that such a run is refused before the first byte is written:

- the band data types and the creation options, by copying a tiny raster with the same bands into a
  hidden folder beside the output with those options, as gdal_translate would, and keeping what GDAL
  warns about and which types it kept;
- an existing file at the output path that holds more than one raster (a
  GeoPackage with other layers, say), which writing would replace whole.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence

from osgeo import gdal

from overlap_clip_plugin.core.errors import OutputFormatError, OutputPathError, UnsupportedOptionError
from overlap_clip_plugin.core.gdalenv import gdal_warnings, quiet_gdal
from overlap_clip_plugin.core.raster import RasterInfo
from overlap_clip_plugin.core.scratch import scratch_folder


def check_output_format(driver: str, output: str, options: Sequence[str], raster: RasterInfo) -> bool:
    """Refuse an output whose format would not store ``raster``'s bands as they are, or would not take
    the creation options ``options``; in GDAL's own words where it has them. Returns whether the format
    keeps the grid and the band count it is given (MBTiles, for one, writes RGBA tiles of its own grid).

    The driver is asked by doing: a 16 x 16 raster with ``raster``'s band count, band types, CRS and pixel
    size is copied beside the output with ``options``, as gdal_translate would copy it. GDAL validates the
    options on the way and warns about what it does not know; a band that comes back with another data type
    would have lost values in the output.
    """
    for option in options:
        if option.split("=", 1)[0].strip().upper() == "APPEND_SUBDATASET":
            raise UnsupportedOptionError(
                "The creation option {option} would add the output to an existing file, but outputs are written "
                "whole and replace the file at their path; write to a new file instead.",
                option=option,
            )
    complaints: list[str] = []
    failure, stored, keeps_grid = _probe(driver, output, raster, options, complaints)
    refused = [" ".join(message.split()) for message in complaints if "option" in message.lower()]
    if failure and options and not _probe(driver, output, raster, (), [])[0]:
        # Without the options GDAL writes it: they are what GDAL refuses.
        refused.append(" ".join(failure.split()))
        failure = ""
    for index, (band, kept) in enumerate(zip(raster.bands, stored), start=1):
        if kept != band.data_type:
            raise OutputFormatError(
                "The format of '{output}' ({driver}) cannot store band {band} of '{name}' as {data_type} (it would "
                "write {kept}, changing the values); choose another format (.tif, or .vrt for mixed types).",
                output=output,
                driver=driver,
                band=index,
                name=raster.name,
                data_type=band.data_type,
                kept=kept,
            )
    if failure:
        if options:
            raise OutputFormatError(
                "GDAL's {driver} driver cannot write '{output}' with the bands of '{name}' ({types}) and the "
                "creation options '{options}': {reason}",
                driver=driver,
                output=output,
                name=raster.name,
                types=", ".join(band.data_type for band in raster.bands),
                options="|".join(options),
                reason=" ".join(failure.split()),
            )
        raise OutputFormatError(
            "GDAL's {driver} driver cannot write '{output}' with the bands of '{name}' ({types}): {reason}",
            driver=driver,
            output=output,
            name=raster.name,
            types=", ".join(band.data_type for band in raster.bands),
            reason=" ".join(failure.split()),
        )
    if refused:
        raise UnsupportedOptionError(
            "GDAL's {driver} driver refuses to write '{output}' with the creation options '{options}': {reason}",
            driver=driver,
            output=output,
            options="|".join(options),
            reason=" ".join(refused),
        )
    return keeps_grid


def _probe(
    driver: str, output: str, raster: RasterInfo, options: Sequence[str], complaints: list[str]
) -> tuple[str, list[str], bool]:
    """Copy a 16 x 16 raster with ``raster``'s bands, CRS and pixel size with ``driver`` and ``options``
    into a hidden folder beside ``output``: on the file system the output goes to, since some drivers
    (netCDF, PCRaster) cannot write into GDAL's memory files, and georeferenced, since some (MBTiles) need it.

    Returns GDAL's error message (empty on success), the data type of each band written, and whether the
    copy has the source's grid and band count; GDAL's warnings are added to ``complaints``.
    """
    gdal_driver = gdal.GetDriverByName(driver)
    extension = (gdal_driver.GetMetadataItem("DMD_EXTENSIONS") or "tif").split()[0]
    folder = scratch_folder(output, "probe")
    try:
        with gdal_warnings(complaints.append), quiet_gdal():
            source = gdal.GetDriverByName("MEM").Create("", 16, 16, 0)
            source.SetGeoTransform(raster.grid.transform)
            if raster.crs is not None:
                source.SetProjection(raster.crs.wkt)
            for band in raster.bands:
                source.AddBand(gdal.GetDataTypeByName(band.data_type))
            # Not strict, as gdal_translate copies: a type the format lacks is then changed, which shows.
            probe = gdal_driver.CreateCopy(
                os.path.join(folder, f"probe.{extension}"), source, strict=0, options=list(options)
            )
            # Some drivers report a failure and still return a dataset.
            failed = probe is None or gdal.GetLastErrorType() >= gdal.CE_Failure
            failure = (gdal.GetLastErrorMsg() or "GDAL gave no reason") if failed else ""
            stored = (
                [gdal.GetDataTypeName(probe.GetRasterBand(i + 1).DataType) for i in range(probe.RasterCount)]
                if probe is not None
                else []
            )
            kept = (
                probe is not None
                and (probe.RasterXSize, probe.RasterYSize, probe.RasterCount) == (16, 16, len(raster.bands))
                and all(
                    math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
                    for a, b in zip(probe.GetGeoTransform(), raster.grid.transform)
                )
            )
            probe = source = None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return failure, stored, kept


#: Drivers that keep a mask band beside lossily compressed pixels, losslessly (GDAL's internal masks).
MASK_BAND_DRIVERS = ("GTiff", "COG", "JPEG")

_YES = ("YES", "TRUE", "ON", "1")


def is_lossy(driver: str, options: Sequence[str], raster: RasterInfo) -> bool:
    """Whether ``driver`` writes ``raster``'s pixels with ``options`` by a lossy compression, which changes
    their values: JPEG; WebP, JPEG XL and JPEG 2000 unless told to be lossless; LERC with an error allowed;
    a GeoPackage's JPEG or WebP tiles (its default for bytes)."""
    given = {key.strip().upper(): value.strip().upper() for key, _, value in (o.partition("=") for o in options)}
    compress = given.get("COMPRESS", "")
    if driver == "JPEG" or (driver in ("GTiff", "COG") and compress == "JPEG"):
        return True
    if driver == "WEBP" or (driver in ("GTiff", "COG") and compress == "WEBP"):
        return given.get("LOSSLESS", given.get("WEBP_LOSSLESS", "NO")) not in _YES and given.get("QUALITY") != "100"
    if driver in ("GTiff", "COG") and compress.startswith("LERC"):
        return float(given.get("MAX_Z_ERROR", "0") or 0) > 0
    if driver in ("GTiff", "COG") and compress == "JXL":
        return given.get("JXL_LOSSLESS", "YES") not in _YES
    if driver == "JP2OpenJPEG":
        return given.get("REVERSIBLE", "NO") not in _YES
    if driver == "GPKG":
        bytes_only = all(band.data_type == "Byte" for band in raster.bands)
        return bytes_only and given.get("TILE_FORMAT", "AUTO") in ("AUTO", "JPEG", "WEBP")
    return False


def check_not_a_container(output: str) -> None:
    """Refuse to replace an existing file that holds other datasets (vector layers, other rasters)."""
    if not os.path.isfile(output):
        return
    with quiet_gdal():
        dataset = gdal.OpenEx(output, gdal.OF_READONLY | gdal.OF_RASTER | gdal.OF_VECTOR)
    if dataset is None:
        return
    layers = [dataset.GetLayer(index).GetName() for index in range(dataset.GetLayerCount())]
    rasters = [name for name, _ in (dataset.GetSubDatasets() or [])]
    if layers or len(rasters) > 1:
        raise OutputPathError(
            "'{output}' is an existing file that holds other data ({contents}); writing the output would replace it "
            "whole. Choose a new file name.",
            output=output,
            contents=", ".join([*layers, *rasters][:5]),
        )
