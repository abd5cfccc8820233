"""Lazy GDAL views of a source on an output grid, the properties outputs keep, and VRT outputs.

What an output keeps of its source's description: every metadata domain but the few that describe the source's
file rather than its data (:data:`FILE_DOMAINS`), on the dataset and on each band; descriptions, units, scale,
offset, colour interpretation and colour table; and category names and the attribute table wherever the output's
values are the source's own (copied, or resampled by a method that picks a source value, never by one that
computes new values, :data:`NEW_VALUES`). gdal_translate keeps the default domain, XMP and RPCs; gdalwarp the
default domain alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import PurePath

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


#: The elements of a VRT that name a source file: a band's sources, a warped VRT's source dataset.
_SOURCE_ELEMENTS = ("SourceFilename", "SourceDataset")


def write_vrt(view: gdal.Dataset, target: str, path: str, failure: str) -> None:
    """Write ``view`` as a VRT file at ``target`` for the output ``path``, naming each source relative to
    ``path``'s folder wherever :func:`relative_name` gives a name, so that a folder moved whole still works.

    ``target`` may be elsewhere (a staging folder): GDAL's own relative names, relative to ``target`` and only
    below it, would be wrong once the file is at ``path``.
    """
    written = gdal_call(WriteError, failure, gdal.GetDriverByName("VRT").CreateCopy, target, view)
    del written  # closes the file
    staging, folder = os.path.dirname(os.path.abspath(target)), os.path.dirname(os.path.abspath(path))
    with open(target, encoding="utf-8") as file:
        tree = gdal.ParseXMLString(file.read())
    # GDAL's parser and writer, as its VRT driver reads and writes: the file means to GDAL what it meant.
    if _named_relative(tree, staging, folder):
        with open(target, "w", encoding="utf-8") as file:
            file.write(gdal.SerializeXMLTree(tree))


def _named_relative(node: list, staging: str, folder: str) -> bool:
    """Rename the sources under ``node`` (a GDAL XML tree of a VRT file in ``staging``) relative to ``folder``
    where they can be; True if any was renamed."""
    changed = False
    if node[0] == gdal.CXT_Element and node[1] in _SOURCE_ELEMENTS:
        attributes = {child[1]: child for child in node[2:] if child[0] == gdal.CXT_Attribute}
        texts = [child for child in node[2:] if child[0] == gdal.CXT_Text]
        flag = attributes.get("relativeToVRT")  # GDAL writes it on every source it names
        if flag is not None and texts:
            relative = flag[2][1] == "1"
            # A name relative to the staging folder would be wrong beside the output: absolute at least.
            name = os.path.normpath(os.path.join(staging, texts[0][1])) if relative else texts[0][1]
            renamed = relative_name(name, folder)
            if renamed is not None or relative:
                texts[0][1] = name if renamed is None else renamed
                flag[2][1] = "0" if renamed is None else "1"
                changed = True
    for child in node[2:]:
        if child[0] == gdal.CXT_Element:
            changed = _named_relative(child, staging, folder) or changed
    return changed


def relative_name(name: str, folder: str) -> str | None:
    """``name`` relative to ``folder`` ("/"-separated, "../" where needed), or None: for a name that is not a
    local file's path (``/vsi...``, a URL, a driver's ``GPKG:...`` name) or that lies on another drive or
    under another top-level folder (another disk, likely, that moves separately)."""
    if name.startswith("/vsi") or "://" in name:
        return None
    if not os.path.isabs(name):
        if not os.path.exists(name):
            return None  # a driver's dataset name, not a path
        name = os.path.abspath(name)  # as GDAL opened it, from the working folder
    root, top = PurePath(os.path.normcase(name)).parts[:2], PurePath(os.path.normcase(folder)).parts[:2]
    if root != top:
        return None
    return PurePath(os.path.relpath(name, folder)).as_posix()
