"""Plain OGR geometry helpers: boxes as polygons, the parts of a polygon, unions, shifts, centres on lines."""

from __future__ import annotations

import math
from collections.abc import Callable

from osgeo import gdal, ogr

from overlap_clip_plugin.core.errors import FootprintError, translatable
from overlap_clip_plugin.core.gdalenv import quiet_gdal
from overlap_clip_plugin.core.grid import PIXEL_TOLERANCE, Bounds

GEOS_FAILED = translatable(
    "GDAL cannot intersect the rasters' footprints (GEOS: {reason}); check that every raster's georeference is valid."
)


def geos_failed() -> FootprintError:
    """The error for a GEOS operation that gave no result, in GEOS's words."""
    return FootprintError(GEOS_FAILED, reason=gdal.GetLastErrorMsg() or "no reason given")


def box_polygon(bounds: Bounds, points_per_edge: int = 1, anticlockwise: bool = False) -> ogr.Geometry:
    """The box ``bounds`` as a polygon with ``points_per_edge`` points on each edge (its corner and the
    points after it): clockwise from its north-west corner, or anticlockwise from its south-west one."""
    corners = [
        (bounds.xmin, bounds.ymax),
        (bounds.xmax, bounds.ymax),
        (bounds.xmax, bounds.ymin),
        (bounds.xmin, bounds.ymin),
    ]
    if anticlockwise:
        corners = [corners[3], corners[2], corners[1], corners[0]]
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for (x1, y1), (x2, y2) in zip(corners, corners[1:] + corners[:1]):
        for step in range(points_per_edge):
            t = step / points_per_edge
            ring.AddPoint_2D(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t)
    ring.CloseRings()
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    return polygon


def envelope(geometry: ogr.Geometry) -> Bounds:
    """The bounding box of ``geometry``."""
    xmin, xmax, ymin, ymax = geometry.GetEnvelope()
    return Bounds(xmin, ymin, xmax, ymax)


def is_valid(geometry: ogr.Geometry) -> bool:
    """Whether GEOS finds ``geometry`` valid. Its diagnosis of an invalid one ("Ring Self-intersection at
    ...") is not passed on: a geometry that fails this test is a trip that is then taken another way,
    nothing the user's data did."""
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        return bool(geometry.IsValid())
    finally:
        gdal.PopErrorHandler()


def polygon_parts(geometry: ogr.Geometry) -> list[ogr.Geometry]:
    """Copies of the polygons of a polygon or multipolygon (of anything else, none).

    Copies, because a part that OGR hands out lives only as long as its parent geometry."""
    kind = ogr.GT_Flatten(geometry.GetGeometryType())
    if kind == ogr.wkbPolygon:
        return [geometry.Clone()] if not geometry.IsEmpty() else []
    if kind in (ogr.wkbMultiPolygon, ogr.wkbGeometryCollection):
        return [
            part
            for index in range(geometry.GetGeometryCount())
            for part in polygon_parts(geometry.GetGeometryRef(index))
        ]
    return []


def joined(parts: list[ogr.Geometry]) -> ogr.Geometry:
    """The union of polygons: one polygon where they meet, a multipolygon where they do not."""
    if len(parts) == 1:
        return parts[0].Clone()
    collection = ogr.Geometry(ogr.wkbMultiPolygon)
    for part in parts:
        collection.AddGeometry(part)
    if not parts:
        return collection
    with quiet_gdal():
        union = collection.UnionCascaded()
        if union is None:
            raise geos_failed()
    return union


def move_points(geometry: ogr.Geometry, move: Callable[[float, float], tuple[float, float]]) -> ogr.Geometry:
    """``geometry`` with every point of every part replaced by ``move(x, y)``, in place."""
    stack = [geometry]
    while stack:
        part = stack.pop()
        stack.extend(part.GetGeometryRef(index) for index in range(part.GetGeometryCount()))
        for index in range(part.GetPointCount()):
            part.SetPoint_2D(index, *move(part.GetX(index), part.GetY(index)))
    return geometry


def shifted(geometry: ogr.Geometry, dx: float) -> ogr.Geometry:
    """``geometry`` moved east by ``dx``."""
    return move_points(geometry.Clone(), lambda x, y: (x + dx, y))


def holds_point(polygon: ogr.Geometry, x: float, y: float) -> bool:
    """Whether ``polygon`` holds the point ``(x, y)`` (its edge included)."""
    return bool(polygon.Intersects(ogr.CreateGeometryFromWkt(f"POINT({x!r} {y!r})")))


def holds_centre_on_line(
    polygon: ogr.Geometry,
    start: tuple[float, float],
    end: tuple[float, float],
    axis: int,
    origin: float,
    size: float,
) -> bool:
    """Whether the part of the line from ``start`` to ``end`` (a row or column of pixel centres) inside
    ``polygon`` holds a centre; along ``axis`` (0: x, 1: y) centre ``i`` lies at ``origin + (i + 0.5) * size``."""
    line = ogr.CreateGeometryFromWkt(f"LINESTRING({start[0]!r} {start[1]!r},{end[0]!r} {end[1]!r})")
    with quiet_gdal():
        inside = polygon.Intersection(line)
    if inside is None or inside.IsEmpty():
        return False
    pieces = [inside.GetGeometryRef(i) for i in range(inside.GetGeometryCount())] or [inside]
    for piece in pieces:
        bounds = piece.GetEnvelope()
        first, last = sorted(((bounds[2 * axis] - origin) / size, (bounds[2 * axis + 1] - origin) / size))
        if math.floor(last - 0.5 + PIXEL_TOLERANCE) >= math.ceil(first - 0.5 - PIXEL_TOLERANCE):
            return True
    return False
