"""Lazy GDAL views of a source on an output grid, and the properties outputs keep.

What an output keeps of its source's description: every metadata domain but the few that describe the source's
file rather than its data (:data:`FILE_DOMAINS`), on the dataset and on each band; descriptions, units, scale,
offset, colour interpretation and colour table; and category names and the attribute table wherever the output's
values are the source's own (copied, or resampled by a method that picks a source value, never by one that
computes new values, :data:`NEW_VALUES`). gdal_translate keeps the default domain, XMP and RPCs; gdalwarp the
default domain alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from osgeo import gdal

from overlap_clip_plugin.core.errors import WriteError
from overlap_clip_plugin.core.gdalenv import gdal_call
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.raster import RasterInfo

#: GDAL's warper on every core, unless a piece among others says "1".
ALL_CPUS = "ALL_CPUS"


#: Resampling methods that compute new values rather than pick one of the source's: wrong for palette indices,
#: and categories and attribute tables describe none of their values.
NEW_VALUES = ("bilinear", "cubic", "cubicspline", "lanczos", "average")

#: Metadata domains never copied, upper-cased: GDAL's reserved ones (what ``CreateCopy``'s ``COPY_SRC_MDD=YES``
#: leaves out: the file's encoding, the derived subdatasets GDAL lists for any file), the subdatasets of a
#: container (an output's would name the input's), and the VRT driver's own (its XML, its sources, its pixel
#: queries; a VRT band given "vrt_sources" takes them as new sources).
FILE_DOMAINS = frozenset(
    {"IMAGE_STRUCTURE", "DERIVED_SUBDATASETS", "SUBDATASETS", "XML:VRT", "VRT_SOURCES", "LOCATIONINFO"}
)

#: Domains that place the source's own pixels on the ground (rational polynomial coefficients, geolocation
#: arrays): true of a target only where it holds those pixels where the source has them. gdal_translate moves
#: RPCs with a window; a warp has none.
PIXEL_GEOMETRY_DOMAINS = frozenset({"RPC", "GEOLOCATION"})


def copy_band_properties(
    source: gdal.Dataset, target: gdal.Dataset, nodata: bool = True, resampling: str | None = None
) -> None:
    """Carry metadata, descriptions, colours, scale, offset, units and (unless told not to) nodata from
    ``source`` to ``target``; category names and attribute tables too unless ``target`` holds ``source``
    resampled by a method that computes new values.

    ``resampling`` is the method ``target``'s values were resampled with, None for a ``target`` that holds
    ``source``'s values as they are (a window of them, or a view that has already kept what they allow).
    """
    picked = resampling is None or resampling not in NEW_VALUES
    copy_domains(source, target)
    target.SetMetadata(source.GetMetadata() or {})
    for index in range(1, min(source.RasterCount, target.RasterCount) + 1):
        src, dst = source.GetRasterBand(index), target.GetRasterBand(index)
        dst.SetDescription(src.GetDescription())
        # Statistics of the whole source would misdescribe the clipped output.
        metadata = {k: v for k, v in (src.GetMetadata() or {}).items() if not k.startswith("STATISTICS_")}
        dst.SetMetadata(metadata)
        dst.SetColorInterpretation(src.GetColorInterpretation())
        # A colour table still colours interpolated values (a ramp); the plan resamples palette indices by
        # nearest neighbour.
        table = src.GetColorTable()
        if table is not None:
            dst.SetColorTable(table)
        names = src.GetCategoryNames()
        if picked and names and dst.GetCategoryNames() != names:
            dst.SetCategoryNames(names)
        attributes = src.GetDefaultRAT()
        if picked and attributes is not None and dst.GetDefaultRAT() is None:
            dst.SetDefaultRAT(attributes)
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


def copy_domains(source: gdal.Dataset, target: gdal.Dataset) -> None:
    """Carry every metadata domain but the default one from ``source`` to ``target``, on the dataset and on
    each band: all but :data:`FILE_DOMAINS`, and :data:`PIXEL_GEOMETRY_DOMAINS` only to a target of the
    source's size and geotransform.

    gdal_translate and the drivers' ``CreateCopy`` carry the default domain (and a few special ones) only, so
    an output written by them from a view takes the view's other domains from here.
    """
    same_pixels = (source.RasterXSize, source.RasterYSize, source.GetGeoTransform()) == (
        target.RasterXSize,
        target.RasterYSize,
        target.GetGeoTransform(),
    )
    pairs = [(source, target)] + [
        (source.GetRasterBand(index), target.GetRasterBand(index))
        for index in range(1, min(source.RasterCount, target.RasterCount) + 1)
    ]
    for src, dst in pairs:
        for domain in src.GetMetadataDomainList() or []:
            name = domain.upper()
            if not domain or name in FILE_DOMAINS or (name in PIXEL_GEOMETRY_DOMAINS and not same_pixels):
                continue
            # As lists, "KEY=VALUE" lines and XML documents alike go across unchanged.
            items = src.GetMetadata_List(domain)
            if items and items != dst.GetMetadata_List(domain):
                dst.SetMetadata(items, domain)


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
    copy_band_properties(dataset, view, resampling=None if window is not None else resampling)
    return view
