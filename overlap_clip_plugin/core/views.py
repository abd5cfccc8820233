"""Lazy GDAL views of a source on an output grid, and the band properties outputs keep."""

from __future__ import annotations

import math

import numpy as np
from osgeo import gdal

from overlap_clip_plugin.core.errors import NoValidNodataError, WriteError
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.raster import RasterInfo, gdal_call, open_raster
from overlap_clip_plugin.core.validity import nodata_candidates, strips


def copy_band_properties(source: gdal.Dataset, target: gdal.Dataset) -> None:
    """Carry metadata, descriptions, colours, scale, offset, units and nodata from ``source`` to ``target``."""
    target.SetMetadata(source.GetMetadata() or {})
    for index in range(1, source.RasterCount + 1):
        src, dst = source.GetRasterBand(index), target.GetRasterBand(index)
        dst.SetDescription(src.GetDescription())
        dst.SetMetadata(src.GetMetadata() or {})
        dst.SetColorInterpretation(src.GetColorInterpretation())
        table = src.GetColorTable()
        if table is not None:
            dst.SetColorTable(table)
        scale, offset = src.GetScale(), src.GetOffset()
        if scale is not None and scale != 1.0:
            dst.SetScale(scale)
        if offset is not None and offset != 0.0:
            dst.SetOffset(offset)
        if src.GetUnitType():
            dst.SetUnitType(src.GetUnitType())
        nodata = src.GetNoDataValue()
        if nodata is not None:
            set_nodata(dst, nodata)


def set_nodata(band: gdal.Band, value: float) -> None:
    """Set a band's nodata value, with the 64-bit integer calls where the type needs them."""
    type_name = gdal.GetDataTypeName(band.DataType)
    if type_name == "Int64":
        band.SetNoDataValueAsInt64(int(value))
    elif type_name == "UInt64":
        band.SetNoDataValueAsUInt64(int(value))
    else:
        band.SetNoDataValue(value)


def source_view(source: RasterInfo, grid: Grid, crs_wkt: str, window: Window | None, resampling: str) -> gdal.Dataset:
    """A lazy VRT of ``source`` on ``grid``: the block ``window`` as is, or a warp when ``window`` is None.

    The VRT carries ``grid``'s exact geotransform and ``crs_wkt``, so that
    outputs meant to share a grid share it to the last bit.
    """
    dataset = open_raster(source.path)
    if window is not None:
        view = gdal_call(
            WriteError,
            f"Cannot read a window of '{source.path}'",
            gdal.Translate,
            "",
            dataset,
            format="VRT",
            srcWin=[window.col_off, window.row_off, window.width, window.height],
        )
    else:
        bounds = grid.bounds
        view = gdal_call(
            WriteError,
            f"Cannot resample '{source.path}'",
            gdal.Warp,
            "",
            dataset,
            format="VRT",
            outputBounds=(bounds.xmin, bounds.ymin, bounds.xmax, bounds.ymax),
            width=grid.width,
            height=grid.height,
            dstSRS=crs_wkt or None,
            resampleAlg=resampling,
            multithread=True,
            warpOptions=["NUM_THREADS=ALL_CPUS"],
        )
    view.SetGeoTransform(grid.transform)
    if crs_wkt:
        view.SetProjection(crs_wkt)
    copy_band_properties(dataset, view)
    return view


def pick_nodata(view: gdal.Dataset, name: str) -> tuple[float | None, ...]:
    """Per band: the declared nodata value, or a value the band's pixels never take.

    Bands without nodata are scanned strip by strip.

    Raises
    ------
    NoValidNodataError
        A band uses every candidate value (for example all 256 values of a Byte band).
    """
    declared = [view.GetRasterBand(i).GetNoDataValue() for i in range(1, view.RasterCount + 1)]
    missing = [i for i, value in enumerate(declared) if value is None]
    if not missing:
        return tuple(declared)
    grid = Grid(tuple(view.GetGeoTransform()), view.RasterXSize, view.RasterYSize)
    candidates = {i: nodata_candidates(gdal.GetDataTypeName(view.GetRasterBand(i + 1).DataType)) for i in missing}
    for row_off, rows in strips(grid):
        for i in missing:
            data = view.GetRasterBand(i + 1).ReadAsArray(0, row_off, grid.width, rows)
            if np.iscomplexobj(data):
                data = data.real
            candidates[i] = [
                c for c in candidates[i] if not (np.isnan(data).any() if math.isnan(c) else (data == c).any())
            ]
    chosen = list(declared)
    for i in missing:
        if not candidates[i]:
            raise NoValidNodataError(
                "Band {band} of '{name}' declares no nodata value and uses every value that could mark nodata; "
                "set a nodata value on it first (Raster > Conversion > Translate, -a_nodata).",
                band=i + 1,
                name=name,
            )
        chosen[i] = candidates[i][0]
    return tuple(chosen)
