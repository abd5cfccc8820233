"""Lazy GDAL views of a source on an output grid, and the band properties outputs keep."""

from __future__ import annotations

from collections.abc import Sequence

from osgeo import gdal

from overlap_clip_plugin.core.errors import WriteError
from overlap_clip_plugin.core.gdalenv import gdal_call
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.raster import RasterInfo

#: GDAL's warper on every core, unless a piece among others says "1".
ALL_CPUS = "ALL_CPUS"


def copy_band_properties(source: gdal.Dataset, target: gdal.Dataset, nodata: bool = True) -> None:
    """Carry metadata, descriptions, colours, scale, offset, units and (unless told not to) nodata from
    ``source`` to ``target``."""
    target.SetMetadata(source.GetMetadata() or {})
    for index in range(1, source.RasterCount + 1):
        src, dst = source.GetRasterBand(index), target.GetRasterBand(index)
        dst.SetDescription(src.GetDescription())
        # Statistics of the whole source would misdescribe the clipped output.
        metadata = {k: v for k, v in (src.GetMetadata() or {}).items() if not k.startswith("STATISTICS_")}
        dst.SetMetadata(metadata)
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
        value = src.GetNoDataValue()
        if nodata and value is not None:
            set_nodata(dst, value)


def set_nodata(band: gdal.Band, value: float) -> None:
    """Set a band's nodata value, with the 64-bit integer calls where the type needs them."""
    type_name = gdal.GetDataTypeName(band.DataType)
    if type_name == "Int64":
        band.SetNoDataValueAsInt64(int(value))
    elif type_name == "UInt64":
        band.SetNoDataValueAsUInt64(int(value))
    else:
        band.SetNoDataValue(value)


def warp_settings(grid: Grid, resampling: str, warp_options: Sequence[str] = (), threads: str = ALL_CPUS) -> dict:
    """The arguments of ``gdal.Warp`` that put a source on ``grid`` with ``threads`` warper threads: one
    setting for a lazy view and for a warp straight into an output file."""
    bounds = grid.bounds
    return {
        "outputBounds": (bounds.xmin, bounds.ymin, bounds.xmax, bounds.ymax),
        "width": grid.width,
        "height": grid.height,
        "dstSRS": grid.crs.wkt if grid.crs is not None else None,
        "resampleAlg": resampling,
        "multithread": True,
        "warpOptions": [f"NUM_THREADS={threads}"],
        "transformerOptions": list(warp_options),
    }


def on_grid(
    dataset: gdal.Dataset,
    name: str,
    grid: Grid,
    window: Window | None,
    resampling: str,
    warp_options: tuple[str, ...] = (),
    alpha: bool = False,
    threads: str = ALL_CPUS,
) -> gdal.Dataset:
    """A lazy VRT of ``dataset`` on ``grid``: the block ``window`` as is, or a warp when ``window`` is None.

    A window may reach outside the source (read as 0). The VRT carries ``grid``'s exact geotransform and CRS,
    so that outputs meant to share a grid share it to the last bit. ``warp_options`` are the GDAL transformer
    options of a raster placed by GCPs, RPCs or a rotated geotransform; with ``alpha`` the warp adds an alpha
    band (the warper's own word on which output pixels have valid source data).
    """
    if window is not None:
        view = gdal_call(
            WriteError,
            f"Cannot read a window of '{name}'",
            gdal.Translate,
            "",
            dataset,
            format="VRT",
            srcWin=[window.col_off, window.row_off, window.width, window.height],
        )
    else:
        view = gdal_call(
            WriteError,
            f"Cannot resample '{name}'",
            gdal.Warp,
            "",
            dataset,
            format="VRT",
            dstAlpha=alpha,
            **warp_settings(grid, resampling, warp_options, threads),
        )
    set_georeference(view, grid)
    return view


def set_georeference(dataset: gdal.Dataset, grid: Grid) -> None:
    """Give ``dataset`` ``grid``'s geotransform and CRS, to the last bit."""
    dataset.SetGeoTransform(grid.transform)
    if grid.crs is not None:
        dataset.SetProjection(grid.crs.wkt)


def source_view(
    source: RasterInfo, grid: Grid, window: Window | None, resampling: str, threads: str = ALL_CPUS
) -> gdal.Dataset:
    """A lazy VRT of ``source`` on ``grid`` (see :func:`on_grid`) with the source's band properties."""
    dataset = source.open()
    if source.warped:
        window = None  # placed by its transformer: always warped
    view = on_grid(dataset, source.path, grid, window, resampling, source.warp_options, threads=threads)
    copy_band_properties(dataset, view)
    return view
