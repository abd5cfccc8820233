"""Lazy GDAL views of a source on an output grid, and the band properties outputs keep."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from osgeo import gdal

from overlap_clip_plugin.core.errors import WriteError
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.raster import RasterInfo, gdal_call, open_raster

_WARP = threading.local()


def warp_threads() -> str:
    """How many threads GDAL's warper takes on this thread: every core, unless a piece says otherwise."""
    return getattr(_WARP, "threads", "ALL_CPUS")


@contextmanager
def warping_with(threads: str) -> Iterator[None]:
    """Warp with ``threads`` threads on this thread meanwhile ("1" for a piece among others)."""
    before = warp_threads()
    _WARP.threads = threads
    try:
        yield
    finally:
        _WARP.threads = before


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


def warp_settings(grid: Grid, crs_wkt: str, resampling: str, warp_options: Sequence[str] = ()) -> dict:
    """The arguments of ``gdal.Warp`` that put a source on ``grid``: one setting for a lazy view and for a
    warp straight into an output file."""
    bounds = grid.bounds
    return {
        "outputBounds": (bounds.xmin, bounds.ymin, bounds.xmax, bounds.ymax),
        "width": grid.width,
        "height": grid.height,
        "dstSRS": crs_wkt or None,
        "resampleAlg": resampling,
        "multithread": True,
        "warpOptions": [f"NUM_THREADS={warp_threads()}"],
        "transformerOptions": list(warp_options),
    }


def on_grid(
    dataset: gdal.Dataset,
    name: str,
    grid: Grid,
    crs_wkt: str,
    window: Window | None,
    resampling: str,
    warp_options: tuple[str, ...] = (),
    alpha: bool = False,
) -> gdal.Dataset:
    """A lazy VRT of ``dataset`` on ``grid``: the block ``window`` as is, or a warp when ``window`` is None.

    A window may reach outside the source (read as 0). The VRT carries
    ``grid``'s exact geotransform and ``crs_wkt``, so that outputs meant to
    share a grid share it to the last bit. ``warp_options`` are the GDAL
    transformer options of a raster placed by GCPs, RPCs or a rotated
    geotransform; with ``alpha`` the warp adds an alpha band (the warper's
    own word on which output pixels have valid source data).
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
            **warp_settings(grid, crs_wkt, resampling, warp_options),
        )
    view.SetGeoTransform(grid.transform)
    if crs_wkt:
        view.SetProjection(crs_wkt)
    return view


def source_view(source: RasterInfo, grid: Grid, crs_wkt: str, window: Window | None, resampling: str) -> gdal.Dataset:
    """A lazy VRT of ``source`` on ``grid`` (see :func:`on_grid`) with the source's band properties."""
    dataset = open_raster(source.path, source.open_options)
    if source.warped:
        window = None  # placed by its transformer: always warped
    view = on_grid(dataset, source.path, grid, crs_wkt, window, resampling, source.warp_options)
    copy_band_properties(dataset, view)
    return view
