"""Polygons carried between coordinate reference systems on the whole globe.

A point-by-point transformation of a polygon's outline misses three facts of the globe; this module
meets each of them, so that a footprint keeps the ground it covers in any CRS:

- **Longitudes are periodic.** In a geographic CRS a polygon is kept with continuous longitudes: a
  footprint across the antimeridian runs from 170 to 190 degrees, not from 170 back to -170 (which
  would span the globe the other way). Two polygons in one geographic CRS meet modulo 360 degrees, so
  a footprint in -180..180 meets a grid in 0..360 (or 160..200) where it lies on the ground.
- **A projected CRS has an edge**, the meridian opposite its central meridian (180 degrees for UTM
  zone 31 or Web Mercator, 0 for a Pacific-centred CRS). A polygon carried from geographic coordinates
  into it is first cut along that meridian, and each piece is moved by whole turns into the CRS's
  range of longitudes; pieces that meet again in the CRS are joined.
- **A ring round a pole** does not close in longitude: carried into longitude and latitude, the outline
  of a polar footprint becomes the cap it encloses, up to the pole's latitude across every longitude.

GDAL's ``OGRGeomTransformer`` option ``WRAPDATELINE`` cuts polygons at the antimeridian too, but on
GDAL 3.6 it cuts a world-wide polygon whose west edge lies a hair past -180 degrees into a sliver
along the antimeridian, losing the world; hence the continuous form here.
"""

from __future__ import annotations

import functools
import math

from osgeo import ogr

from overlap_clip_plugin.core.crs import Crs, transformation
from overlap_clip_plugin.core.gdalenv import quiet_gdal
from overlap_clip_plugin.core.geometry import (
    box_polygon,
    geos_failed,
    is_valid,
    joined,
    move_points,
    polygon_parts,
    shifted,
)
from overlap_clip_plugin.core.grid import Bounds

#: Points per polygon edge (over the polygon's width or height) when a polygon is carried to another CRS.
DENSIFY_POINTS = 101

#: Spacing of the points on the edge of the world when it is carried into a projected CRS.
DOMAIN_STEP_DEGREES = 0.05

#: The edge of the world in a projected CRS is drawn this much (relative to its size) inside the true edge.
INSIDE = 1.0 - 1e-9

#: How far inside the edge of a projected CRS the points of a polygon cut there are moved, in degrees.
EDGE_NUDGE_DEGREES = 1e-8

#: Two pieces closer than this many degrees, once moved by a whole turn, are one area cut by an edge.
TOUCH_DEGREES = 1e-6


def _unwrapped(ring: ogr.Geometry) -> tuple[ogr.Geometry, bool]:
    """A densified ring in longitude and latitude with continuous longitudes, and whether it closes.

    A step of more than 180 degrees between neighbouring points is a crossing of the antimeridian, and
    the rest of the ring moves by whole turns to follow it. A point on a pole has no longitude of its
    own: it becomes two points on the pole's latitude, at the longitudes of its neighbours (the top of a
    global sinusoidal or Mollweide grid is the whole line of the pole); so does a step of exactly 180
    degrees, an edge that runs over a pole between two of its points. Past a pole the outline may come
    down any meridian, as far east or west as its own longitude says. A ring that does not close goes
    round a pole.
    """
    points = [ring.GetPoint_2D(index) for index in range(ring.GetPointCount())]
    result = ogr.Geometry(ogr.wkbLinearRing)
    if not points:
        return result, True
    start = next((index for index, (_, y) in enumerate(points) if abs(y) < 90.0 - TOUCH_DEGREES), None)
    if start is None:
        return ring.Clone(), True
    if start:
        # Start from a point with a longitude of its own (the ring's last point repeats its first).
        points = points[start:-1] + points[:start] + [points[start]]
    first_x = points[0][0]
    passes: list[int] = []  # where the outline comes off a pole's line, as indexes into the result
    previous_x, previous_y = points[0]
    previous_at_pole = abs(previous_y) >= 90.0 - TOUCH_DEGREES
    result.AddPoint_2D(previous_x, previous_y)
    for x, y in points[1:]:
        at_pole = abs(y) >= 90.0 - TOUCH_DEGREES
        step = x - previous_x
        turned = step - 360.0 * round(step / 360.0)
        over_pole = not at_pole and not previous_at_pole and abs(abs(turned) - 180.0) < TOUCH_DEGREES
        if at_pole:
            x = previous_x
        elif previous_at_pole or over_pole:
            if over_pole:
                pole = 90.0 if previous_y + y >= 0.0 else -90.0
                result.AddPoint_2D(previous_x, pole)
                result.AddPoint_2D(x, pole)
            passes.append(result.GetPointCount() - (1 if over_pole else 0))
        else:
            x -= 360.0 * round(step / 360.0)
        if previous_at_pole and result.GetPointCount() > 1:
            # The pole point itself: along the pole's line from the longitude before it to the one after.
            result.SetPoint_2D(result.GetPointCount() - 1, result.GetX(result.GetPointCount() - 2), previous_y)
            result.AddPoint_2D(x, previous_y)
        result.AddPoint_2D(x, y)
        previous_x, previous_y, previous_at_pole = x, y, at_pole
    drift = previous_x - first_x
    if abs(drift) >= TOUCH_DEGREES and passes and abs(drift - 360.0 * round(drift / 360.0)) < TOUCH_DEGREES:
        # Along a pole's line the outline went the other way round: everything past the first pass
        # moves back by the turns it drifted, and the ring closes.
        for index in range(passes[0], result.GetPointCount()):
            result.SetPoint_2D(index, result.GetX(index) - drift, result.GetY(index))
        drift = 0.0
    return result, abs(drift) < TOUCH_DEGREES


def _in_longitudes(polygon: ogr.Geometry) -> ogr.Geometry | None:
    """A polygon just carried into longitude and latitude, with continuous longitudes (see
    :func:`_unwrapped`). An outline that goes round a pole becomes the cap it encloses: the outline, then
    along the pole's latitude back to where it started (the pole is the one on the outline's side of the
    equator). None for a polygon with a hole round a pole, which no such cap describes."""
    rings = [_unwrapped(polygon.GetGeometryRef(index)) for index in range(polygon.GetGeometryCount())]
    if not rings or not all(closed for _, closed in rings[1:]):
        return None
    exterior, closed = rings[0]
    if not closed:
        if len(rings) > 1:
            return None
        count = exterior.GetPointCount()
        pole = 90.0 if sum(exterior.GetY(index) for index in range(count)) >= 0.0 else -90.0
        exterior.AddPoint_2D(exterior.GetX(count - 1), pole)
        exterior.AddPoint_2D(exterior.GetX(0), pole)
    result = ogr.Geometry(ogr.wkbPolygon)
    for ring, _ in [(exterior, True), *rings[1:]]:
        ring.CloseRings()
        result.AddGeometry(ring)
    return result


def _cut_at_edge(polygon: ogr.Geometry, meridian: float) -> list[ogr.Geometry]:
    """A geographic polygon cut along the meridian opposite ``meridian``, each piece moved by whole
    turns into ``meridian - 180 .. meridian + 180``."""
    xmin, xmax, ymin, ymax = polygon.GetEnvelope()
    pieces: list[ogr.Geometry] = []
    # A polygon that reaches past the edge by no more than rounding is not cut there.
    first = math.floor((xmin - meridian + 180.0 + TOUCH_DEGREES) / 360.0)
    last = math.floor((xmax - meridian + 180.0 - TOUCH_DEGREES) / 360.0)
    for turn in range(first, last + 1):
        west = meridian - 180.0 + 360.0 * turn
        band = box_polygon(Bounds(west, ymin - 1.0, west + 360.0, ymax + 1.0), anticlockwise=True)
        with quiet_gdal():
            piece = polygon.Intersection(band) if (first, last) != (turn, turn) else polygon.Clone()
        if piece is None:
            raise geos_failed()
        for part in polygon_parts(piece):
            if part.GetArea() > 0:
                pieces.append(_within(shifted(part, -360.0 * turn) if turn else part, meridian))
    return pieces


def _within(piece: ogr.Geometry, meridian: float) -> ogr.Geometry:
    """``piece``, its points on the edge meridian moved a hair inside: PROJ sends a point exactly on the
    meridian opposite a CRS's centre to either side of the map (for a centre past 0, to the wrong one)."""
    west, east = meridian - 180.0 + EDGE_NUDGE_DEGREES, meridian + 180.0 - EDGE_NUDGE_DEGREES
    return move_points(piece, lambda x, y: (min(max(x, west), east), y))


def carried(
    polygon: ogr.Geometry, source: Crs, target: Crs, source_name: str = "", target_name: str = ""
) -> ogr.Geometry | None:
    """``polygon`` (in ``source``) carried into ``target``, its edges first cut into short pieces; None where
    a point cannot be carried (outside the domain of a projection) or a piece folds on itself (it crosses an
    edge of the target CRS that no cut foresaw). Raises CrsMismatchError, naming the rasters ``source_name``
    and ``target_name``, where PROJ has no transformation between the CRSs."""
    moving = transformation(source, target, source_name, target_name)
    into_geographic = target.is_geographic
    pieces = polygon_parts(polygon)
    if source.is_geographic and not into_geographic:
        meridian = target.central_meridian
        pieces = [piece for part in pieces for piece in _cut_at_edge(part, meridian)]
    xmin, xmax, ymin, ymax = polygon.GetEnvelope()
    step = max(xmax - xmin, ymax - ymin) / DENSIFY_POINTS
    reach = target.reach
    moved_parts = []
    for piece in pieces:
        moved = piece.Clone()
        moved.Segmentize(step)
        turn = _signed_area(moved.GetGeometryRef(0))
        with quiet_gdal():
            if moved.Transform(moving) != 0:
                return None
            xmin, xmax, ymin, ymax = moved.GetEnvelope()
            if max(abs(xmin), abs(xmax), abs(ymin), abs(ymax)) > reach:
                # Past any point of the globe: the piece runs through the point a projection sends to
                # infinity (the far pole of a polar stereographic CRS).
                return None
            if into_geographic:
                moved = _in_longitudes(moved)
                if moved is None:
                    return None
            if moved.IsEmpty() or not is_valid(moved):
                return None
        if turn * _signed_area(moved.GetGeometryRef(0)) < 0:
            # Turned inside out: the piece holds the point a projection sends to infinity, so its image
            # is everything outside the carried outline.
            return None
        moved_parts.extend(polygon_parts(moved))
    return joined(moved_parts) if moved_parts else None


@functools.lru_cache(maxsize=64)
def _domain(crs: Crs) -> str:
    """The part of a projected CRS's plane that shows the globe (WKT): the whole world carried into it.
    Empty where the world cannot be carried whole (a local projection such as UTM, or Mercator)."""
    geographic = crs.geographic
    assert geographic is not None
    meridian = crs.central_meridian
    world = box_polygon(Bounds(meridian - 180.0, -90.0, meridian + 180.0, 90.0), anticlockwise=True)
    # The edge of the world is curved in most such CRSs: points every 1/20 degree keep it within a few
    # metres of the true curve.
    world.Segmentize(DOMAIN_STEP_DEGREES)
    with quiet_gdal():
        domain = carried(world, geographic, crs)
    if domain is None:
        return ""
    # A hair inside the edge, so that every point of a footprint cut by it comes back from longitude and
    # latitude (the inverse of a projection refuses points a rounding error past the edge of the world).
    xmin, xmax, ymin, ymax = domain.GetEnvelope()
    centre_x, centre_y = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
    move_points(domain, lambda x, y: (centre_x + (x - centre_x) * INSIDE, centre_y + (y - centre_y) * INSIDE))
    return str(domain.ExportToWkt())


def on_the_globe(box: ogr.Geometry, crs: Crs | None) -> ogr.Geometry | None:
    """The part of ``box`` (a polygon in a projected CRS) that shows the globe, where some of it does not;
    None where all of it does, or where the CRS's domain cannot be found.

    The corners of a global sinusoidal, Mollweide or Robinson grid, or the outer part of a MODIS tile at
    the edge of the world, lie off the globe: a projection's inverse gives them longitudes past 180
    degrees (which PROJ folds back onto real ground elsewhere) or fails. A point is on the globe when it
    comes back to itself from longitude and latitude.
    """
    geographic = None if crs is None else crs.geographic
    if crs is None or geographic is None or crs.is_geographic:
        return None
    xmin, xmax, ymin, ymax = box.GetEnvelope()
    # The globe is convex in the CRSs that show all of it (a lens, an ellipse), so a box lies on it
    # when its corners do; the middles of the edges are asked too, for good measure.
    xs, ys = (xmin, (xmin + xmax) / 2.0, xmax), (ymin, (ymin + ymax) / 2.0, ymax)
    points = [(x, y) for x in xs for y in ys if (x, y) != (xs[1], ys[1])]
    tolerance = 1e-7 * max(xmax - xmin, ymax - ymin)
    with quiet_gdal():
        there, back = transformation(crs, geographic), transformation(geographic, crs)
        returned = back.TransformPoints([point[:2] for point in there.TransformPoints(points)])
    if all(
        math.isfinite(x) and abs(x - px) <= tolerance and abs(y - py) <= tolerance
        for (x, y, *_), (px, py) in zip(returned, points)
    ):
        return None
    domain = _domain(crs)
    if not domain:
        return None
    with quiet_gdal():
        return box.Intersection(ogr.CreateGeometryFromWkt(domain)) or None


def _signed_area(ring: ogr.Geometry) -> float:
    """Twice the signed area of a ring: positive when it runs anticlockwise."""
    points = [ring.GetPoint_2D(index) for index in range(ring.GetPointCount())]
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:]))


def intersection(region: ogr.Geometry, other: ogr.Geometry, geographic: bool) -> ogr.Geometry:
    """The part of ``region`` inside ``other``; in a geographic CRS, longitudes modulo 360 degrees."""
    turns = [0]
    if geographic:
        rxmin, rxmax, _, _ = region.GetEnvelope()
        oxmin, oxmax, _, _ = other.GetEnvelope()
        turns = list(range(math.floor((rxmin - oxmax) / 360.0), math.ceil((rxmax - oxmin) / 360.0) + 1))
    parts = []
    for turn in turns:
        with quiet_gdal():
            part = region.Intersection(shifted(other, 360.0 * turn) if turn else other)
            if part is None:
                raise geos_failed()
        if not geographic:
            return part
        parts.extend(polygon_parts(part))
    return joined(parts) if parts else ogr.Geometry(ogr.wkbPolygon)


def _spans_without_gap(parts: list[ogr.Geometry], gap: float) -> bool:
    """Whether the parts' east-west ranges together cover their whole east-west range, but for gaps
    narrower than ``gap``."""
    ranges = sorted(part.GetEnvelope()[:2] for part in parts)
    reach = ranges[0][1]
    for west, east in ranges[1:]:
        if west > reach + gap:
            return False
        reach = max(reach, east)
    return True


def split_by_edge(polygon: ogr.Geometry, crs: Crs | None, gap: float) -> bool:
    """Whether ``polygon``'s parts are one area on the ground cut in two by the edge of ``crs`` (the
    antimeridian of a geographic CRS, the meridian opposite a projected CRS's centre): two parts that
    touch once one is moved by a whole turn of longitude, with a gap between them on the grid. An area
    that goes all the way round the globe touches itself across the edge too, but leaves no gap wider
    than ``gap``, in the units of ``crs`` (a pixel of the grid, say)."""
    parts = polygon_parts(polygon)
    if len(parts) < 2 or _spans_without_gap(parts, gap):
        return False
    if crs is not None and not crs.is_geographic and crs.geographic is not None:
        moved = [carried(part, crs, crs.geographic) for part in parts]
        parts = [part for part in moved if part is not None]
    with quiet_gdal():
        for index, part in enumerate(parts):
            for other in parts[index + 1 :]:
                # Apart on the grid but touching on the globe: as they are (the edge of a Pacific-centred
                # CRS is the meridian 0), or a whole turn apart (the antimeridian).
                for turn in (-360.0, 0.0, 360.0):
                    if part.Distance(shifted(other, turn)) < TOUCH_DEGREES:
                        return True
    return False
