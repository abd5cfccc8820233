"""Rasters georeferenced other than by a north-up geotransform, seen as GDAL's warper sees them.

A rotated, sheared or south-up geotransform, ground control points (GCPs) or rational polynomial coefficients
(RPCs) place a raster on the ground through a GDAL transformer. Such a raster is never copied: it is always
resampled onto a north-up output grid by GDAL's warper with that transformer. Its grid is the north-up grid
the warper itself suggests for it (``gdal.Warp`` into a VRT with no size given), and its footprint is its
pixel outline carried through the transformer, so that the common area is the true one, not a bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass

from osgeo import gdal, ogr, osr

from overlap_clip_plugin.core.crs import crs_from_wkt
from overlap_clip_plugin.core.errors import UnsupportedGeoreferenceError, WriteError
from overlap_clip_plugin.core.grid import Grid

#: How GCPs are turned into a transformation, by name: GDAL's polynomial or thin-plate-spline transformer.
GCP_METHODS = {"polynomial": "GCP_POLYNOMIAL", "tps": "GCP_TPS"}

#: Points on each edge of a raster's pixel outline when it is carried through its transformer.
OUTLINE_POINTS = 32


@dataclass(frozen=True)
class Georeference:
    """How a raster that needs warping lies on the ground."""

    how: str  # "rotated", "gcp_polynomial", "gcp_tps" or "rpc"
    options: tuple[str, ...]  # GDAL transformer options
    grid: Grid  # the north-up grid GDAL's warper suggests, in the CRS the raster is placed in
    footprint_wkt: str  # the pixel outline on the ground, in the grid's CRS


def _wgs84() -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    return str(srs.ExportToWkt())


def warped_georeference(
    dataset: gdal.Dataset, path: str, gcp_method: str = "polynomial", rpc_dem: str | None = None
) -> Georeference:
    """The georeference of a raster that is not north-up, as GDAL's warper will use it.

    Raises
    ------
    UnsupportedGeoreferenceError
        The raster has no georeference at all.
    """
    transform = dataset.GetGeoTransform(can_return_null=True)
    options: tuple[str, ...] = ()
    if transform is not None:
        how, crs_wkt = "rotated", dataset.GetProjection() or ""
    elif dataset.GetGCPCount() >= 3:
        how = "gcp_" + gcp_method
        options = (f"METHOD={GCP_METHODS[gcp_method]}",)
        crs_wkt = dataset.GetGCPProjection() or ""
    elif dataset.GetMetadata("RPC"):
        how = "rpc"
        options = ("METHOD=RPC", *((f"RPC_DEM={rpc_dem}",) if rpc_dem else ()))
        crs_wkt = _wgs84()
    else:
        raise UnsupportedGeoreferenceError(
            "'{path}' has no georeference at all: no geotransform, no ground control points and no RPCs, so its "
            "place on the ground is unknown; georeference it first (Raster > Georeferencer).",
            path=path,
        )
    suggested = gdal.Warp("", dataset, format="VRT", dstSRS=crs_wkt or None, transformerOptions=list(options))
    if suggested is None:
        raise UnsupportedGeoreferenceError(
            "GDAL cannot place '{path}' on a north-up grid: {reason}",
            path=path,
            reason=gdal.GetLastErrorMsg() or "GDAL gave no reason",
        )
    crs = crs_from_wkt(crs_wkt)
    grid = Grid(tuple(suggested.GetGeoTransform()), suggested.RasterXSize, suggested.RasterYSize, crs)
    return Georeference(how, options, grid, _outline(dataset, options, crs_wkt, path))


def _outline(dataset: gdal.Dataset, options: tuple[str, ...], crs_wkt: str, path: str) -> str:
    """The raster's pixel outline carried through its transformer: a polygon in ``crs_wkt``, as WKT."""
    width, height = dataset.RasterXSize, dataset.RasterYSize
    corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    pixels = []
    for (x1, y1), (x2, y2) in zip(corners, corners[1:] + corners[:1]):
        for step in range(OUTLINE_POINTS):
            t = step / OUTLINE_POINTS
            pixels.append((x1 + (x2 - x1) * t, y1 + (y2 - y1) * t))
    transformer = gdal.Transformer(dataset, None, [*options, *((f"DST_SRS={crs_wkt}",) if crs_wkt else ())])
    points, success = transformer.TransformPoints(0, pixels)
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for (x, y, *_), ok in zip(points, success):
        if ok:
            ring.AddPoint_2D(x, y)
    ring.CloseRings()
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    if ring.GetPointCount() < 4 or polygon.GetArea() <= 0.0:
        raise WriteError("Cannot place the outline of '{path}' on the ground.", path=path)
    return str(polygon.ExportToWkt())
