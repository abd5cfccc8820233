"""Areas on the ellipsoid, as QGIS's measuring tools give them."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from osgeo import ogr, osr

from overlap_clip_plugin.core.crs import OSR_LOCK, Crs, transformation
from overlap_clip_plugin.core.gdalenv import gdal_mode, quiet_gdal
from overlap_clip_plugin.core.geometry import box_polygon
from overlap_clip_plugin.core.globe import DENSIFY_POINTS, carried
from overlap_clip_plugin.core.grid import Bounds


@gdal_mode()
def ellipsoidal_area(polygon: ogr.Geometry, crs: Crs | None) -> float | None:
    """The area of ``polygon`` (in ``crs``) on the CRS's ellipsoid, in square metres; None without a CRS, in
    a CRS on no ellipsoid, or where PROJ cannot carry the polygon into an equal-area projection.

    The polygon, its edges cut into short pieces, is carried into an equal-area projection on the same
    ellipsoid, where plane area is area on the ellipsoid (what QGIS's measuring tools give, to within
    the densification): through longitude and latitude into a cylindrical equal-area projection centred
    on it, which holds any area up to the whole globe; or, for a cap round a pole (which longitudes
    cannot hold), a Lambert azimuthal equal-area projection centred on that pole.
    """
    geographic = None if crs is None else crs.geographic
    if crs is None or geographic is None:
        return None
    if polygon.IsEmpty():
        return 0.0
    fine = polygon.Clone()
    xmin, xmax, ymin, ymax = fine.GetEnvelope()
    fine.Segmentize(max(xmax - xmin, ymax - ymin) / (4 * DENSIFY_POINTS))
    lonlat = fine if crs.is_geographic else carried(fine, crs, geographic)
    if lonlat is None:
        point = polygon.Centroid()
        with quiet_gdal():
            _, latitude, _ = transformation(crs, geographic).TransformPoint(point.GetX(), point.GetY())
        return _projected_area(polygon, crs, lambda srs: srs.SetLAEA(90.0 if latitude >= 0 else -90.0, 0, 0, 0))
    # Bands of at most 120 degrees of longitude, each centred in its projection, far from its edges.
    xmin, xmax, ymin, ymax = lonlat.GetEnvelope()
    bands = max(1, math.ceil((xmax - xmin) / 120.0))
    width = (xmax - xmin) / bands
    total = 0.0
    for index in range(bands):
        west = xmin + index * width
        east = xmax if index == bands - 1 else west + width
        box = box_polygon(Bounds(west, ymin, east, ymax), anticlockwise=True)
        with quiet_gdal():
            piece = lonlat.Intersection(box) if bands > 1 else lonlat
        if piece is None:
            return None
        area = _projected_area(piece, geographic, functools.partial(_cylindrical, (west + east) / 2.0))
        if area is None:
            return None
        total += area
    return total


def _cylindrical(centre: float, srs: osr.SpatialReference) -> None:
    """Make ``srs`` a cylindrical equal-area projection centred on the meridian ``centre``."""
    srs.SetCEA(0.0, centre, 0.0, 0.0)


def _projected_area(
    polygon: ogr.Geometry, source: Crs, project: Callable[[osr.SpatialReference], object]
) -> float | None:
    """The plane area of ``polygon`` (in ``source``) in the equal-area projection that ``project`` sets on a
    CRS with ``source``'s ellipsoid; None where it cannot be carried there."""
    equal_area = osr.SpatialReference()
    with OSR_LOCK:
        equal_area.CopyGeogCSFrom(source.srs)
    project(equal_area)
    equal_area.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    moved = polygon.Clone()
    xmin, xmax, ymin, ymax = moved.GetEnvelope()
    moved.Segmentize(max(xmax - xmin, ymax - ymin) / (4 * DENSIFY_POINTS))
    with quiet_gdal():
        with OSR_LOCK:
            moving = osr.CreateCoordinateTransformation(source.srs, equal_area)
        if moving is None or moved.Transform(moving) != 0:
            return None
    return float(moved.GetArea())
