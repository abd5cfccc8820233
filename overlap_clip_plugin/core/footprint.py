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
from collections.abc import Callable

from osgeo import gdal, ogr, osr

from overlap_clip_plugin.core.errors import FootprintError, translatable
from overlap_clip_plugin.core.grid import PIXEL_TOLERANCE, Bounds, Grid, Window
from overlap_clip_plugin.core.raster import gdal_mode, quiet_gdal

#: Points per polygon edge (over the polygon's width or height) when a polygon is carried to another CRS.
DENSIFY_POINTS = 101

_GEOS_FAILED = translatable(
    "GDAL cannot intersect the rasters' footprints (GEOS: {reason}); check that every raster's georeference is valid."
)

#: Spacing of the points on the edge of the world when it is carried into a projected CRS.
DOMAIN_STEP_DEGREES = 0.05

#: The edge of the world in a projected CRS is drawn this much (relative to its size) inside the true edge.
INSIDE = 1.0 - 1e-9

#: How far inside the edge of a projected CRS the points of a polygon cut there are moved, in degrees.
EDGE_NUDGE_DEGREES = 1e-8

#: Two pieces closer than this many degrees, once moved by a whole turn, are one area cut by an edge.
TOUCH_DEGREES = 1e-6


def is_valid(geometry: ogr.Geometry) -> bool:
    """Whether GEOS finds ``geometry`` valid. Its diagnosis of an invalid one ("Ring Self-intersection at
    ...") is not passed on: a geometry that fails this test is a trip that is then taken another way,
    nothing the user's data did."""
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        return bool(geometry.IsValid())
    finally:
        gdal.PopErrorHandler()


def spatial_reference(wkt: str) -> osr.SpatialReference:
    """The CRS of ``wkt``, with x as easting or longitude."""
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def is_geographic(wkt: str) -> bool:
    """Whether ``wkt`` is a geographic CRS (longitude and latitude)."""
    return bool(wkt) and bool(spatial_reference(wkt).IsGeographic())


def geographic_of(wkt: str) -> str:
    """The geographic CRS a projected CRS is based on (the CRS itself when it is geographic); '' for a CRS
    on no ellipsoid (a local or engineering CRS)."""
    if not wkt:
        return ""
    srs = spatial_reference(wkt)
    if srs.IsGeographic():
        return wkt
    geographic = srs.CloneGeogCS() if not srs.IsLocal() else None
    return "" if geographic is None else str(geographic.ExportToWkt())


def central_meridian(wkt: str) -> float:
    """The longitude a projected CRS is centred on (0 when its definition names none)."""
    srs = spatial_reference(wkt)
    for name in (osr.SRS_PP_CENTRAL_MERIDIAN, osr.SRS_PP_LONGITUDE_OF_CENTER, osr.SRS_PP_LONGITUDE_OF_ORIGIN):
        value = srs.GetNormProjParm(name, math.nan)
        if not math.isnan(value):
            return float(value)
    return 0.0


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
            raise FootprintError(_GEOS_FAILED, reason=gdal.GetLastErrorMsg() or "no reason given")
    return union


def _move_points(geometry: ogr.Geometry, move: Callable[[float, float], tuple[float, float]]) -> ogr.Geometry:
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
    return _move_points(geometry.Clone(), lambda x, y: (x + dx, y))


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
        band = ogr.CreateGeometryFromWkt(
            f"POLYGON(({west!r} {ymin - 1.0!r},{west + 360.0!r} {ymin - 1.0!r},{west + 360.0!r} {ymax + 1.0!r},"
            f"{west!r} {ymax + 1.0!r},{west!r} {ymin - 1.0!r}))"
        )
        with quiet_gdal():
            piece = polygon.Intersection(band) if (first, last) != (turn, turn) else polygon.Clone()
        if piece is None:
            raise FootprintError(_GEOS_FAILED, reason=gdal.GetLastErrorMsg() or "no reason given")
        for part in polygon_parts(piece):
            if part.GetArea() > 0:
                pieces.append(_within(shifted(part, -360.0 * turn) if turn else part, meridian))
    return pieces


def _within(piece: ogr.Geometry, meridian: float) -> ogr.Geometry:
    """``piece``, its points on the edge meridian moved a hair inside: PROJ sends a point exactly on the
    meridian opposite a CRS's centre to either side of the map (for a centre past 0, to the wrong one)."""
    west, east = meridian - 180.0 + EDGE_NUDGE_DEGREES, meridian + 180.0 - EDGE_NUDGE_DEGREES
    return _move_points(piece, lambda x, y: (min(max(x, west), east), y))


def carried(
    polygon: ogr.Geometry, source_wkt: str, target_wkt: str, transformation: osr.CoordinateTransformation
) -> ogr.Geometry | None:
    """``polygon`` (in ``source_wkt``) carried into ``target_wkt`` by ``transformation``, its edges first
    cut into short pieces; None where a point cannot be carried (outside the domain of a projection) or a
    piece folds on itself (it crosses an edge of the target CRS that no cut foresaw)."""
    into_geographic = is_geographic(target_wkt)
    pieces = polygon_parts(polygon)
    if is_geographic(source_wkt) and not into_geographic:
        meridian = central_meridian(target_wkt)
        pieces = [piece for part in pieces for piece in _cut_at_edge(part, meridian)]
    xmin, xmax, ymin, ymax = polygon.GetEnvelope()
    step = max(xmax - xmin, ymax - ymin) / DENSIFY_POINTS
    reach = _reach(target_wkt)
    moved_parts = []
    for piece in pieces:
        moved = piece.Clone()
        moved.Segmentize(step)
        turn = _signed_area(moved.GetGeometryRef(0))
        with quiet_gdal():
            if moved.Transform(transformation) != 0:
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
def _domain(wkt: str) -> str:
    """The part of a projected CRS's plane that shows the globe (WKT): the whole world carried into it.
    Empty where the world cannot be carried whole (a local projection such as UTM, or Mercator)."""
    geographic = geographic_of(wkt)
    meridian = central_meridian(wkt)
    world = ogr.CreateGeometryFromWkt(
        f"POLYGON(({meridian - 180.0!r} -90,{meridian + 180.0!r} -90,{meridian + 180.0!r} 90,"
        f"{meridian - 180.0!r} 90,{meridian - 180.0!r} -90))"
    )
    # The edge of the world is curved in most such CRSs: points every 1/20 degree keep it within a few
    # metres of the true curve.
    world.Segmentize(DOMAIN_STEP_DEGREES)
    with quiet_gdal():
        transformation = osr.CoordinateTransformation(spatial_reference(geographic), spatial_reference(wkt))
        domain = carried(world, geographic, wkt, transformation) if transformation is not None else None
    if domain is None:
        return ""
    # A hair inside the edge, so that every point of a footprint cut by it comes back from longitude and
    # latitude (the inverse of a projection refuses points a rounding error past the edge of the world).
    xmin, xmax, ymin, ymax = domain.GetEnvelope()
    centre_x, centre_y = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
    _move_points(domain, lambda x, y: (centre_x + (x - centre_x) * INSIDE, centre_y + (y - centre_y) * INSIDE))
    return str(domain.ExportToWkt())


def on_the_globe(box: ogr.Geometry, wkt: str) -> ogr.Geometry | None:
    """The part of ``box`` (a polygon in a projected CRS) that shows the globe, where some of it does not;
    None where all of it does, or where the CRS's domain cannot be found.

    The corners of a global sinusoidal, Mollweide or Robinson grid, or the outer part of a MODIS tile at
    the edge of the world, lie off the globe: a projection's inverse gives them longitudes past 180
    degrees (which PROJ folds back onto real ground elsewhere) or fails. A point is on the globe when it
    comes back to itself from longitude and latitude.
    """
    geographic = geographic_of(wkt)
    if not geographic or is_geographic(wkt):
        return None
    xmin, xmax, ymin, ymax = box.GetEnvelope()
    # The globe is convex in the CRSs that show all of it (a lens, an ellipse), so a box lies on it
    # when its corners do; the middles of the edges are asked too, for good measure.
    xs, ys = (xmin, (xmin + xmax) / 2.0, xmax), (ymin, (ymin + ymax) / 2.0, ymax)
    points = [(x, y) for x in xs for y in ys if (x, y) != (xs[1], ys[1])]
    tolerance = 1e-7 * max(xmax - xmin, ymax - ymin)
    with quiet_gdal():
        there = osr.CoordinateTransformation(spatial_reference(wkt), spatial_reference(geographic))
        back = osr.CoordinateTransformation(spatial_reference(geographic), spatial_reference(wkt))
        returned = back.TransformPoints([point[:2] for point in there.TransformPoints(points)])
    if all(
        math.isfinite(x) and abs(x - px) <= tolerance and abs(y - py) <= tolerance
        for (x, y, *_), (px, py) in zip(returned, points)
    ):
        return None
    domain = _domain(wkt)
    if not domain:
        return None
    with quiet_gdal():
        return box.Intersection(ogr.CreateGeometryFromWkt(domain)) or None


def _signed_area(ring: ogr.Geometry) -> float:
    """Twice the signed area of a ring: positive when it runs anticlockwise."""
    points = [ring.GetPoint_2D(index) for index in range(ring.GetPointCount())]
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:]))


def _reach(wkt: str) -> float:
    """A bound on the coordinates of any point of the globe in ``wkt``: a million kilometres in a projected
    CRS (Mercator reaches 40 000 km at 89.99 degrees), in its own units; 1000 degrees in a geographic one."""
    srs = spatial_reference(wkt)
    if not wkt or srs.IsGeographic():
        return 1000.0 if wkt else math.inf
    metres = srs.GetLinearUnits() or 1.0
    return 1e9 / metres


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
                raise FootprintError(_GEOS_FAILED, reason=gdal.GetLastErrorMsg() or "no reason given")
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


def split_by_edge(polygon: ogr.Geometry, wkt: str, gap: float) -> bool:
    """Whether ``polygon``'s parts are one area on the ground cut in two by the edge of ``wkt`` (the
    antimeridian of a geographic CRS, the meridian opposite a projected CRS's centre): two parts that
    touch once one is moved by a whole turn of longitude, with a gap between them on the grid. (An area
    that goes all the way round the globe touches itself across the edge too, but leaves no gap wider
    than ``gap``, in the units of ``wkt``: a pixel of the grid, say.)"""
    parts = polygon_parts(polygon)
    if len(parts) < 2 or _spans_without_gap(parts, gap):
        return False
    if not is_geographic(wkt):
        geographic = geographic_of(wkt)
        with quiet_gdal():
            transformation = osr.CoordinateTransformation(spatial_reference(wkt), spatial_reference(geographic))
        moved = [carried(part, wkt, geographic, transformation) for part in parts]
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


@gdal_mode()
def ellipsoidal_area(polygon: ogr.Geometry, wkt: str) -> float | None:
    """The area of ``polygon`` (in ``wkt``) on the CRS's ellipsoid, in square metres; None without a CRS, in
    a CRS on no ellipsoid, or where PROJ cannot carry the polygon into an equal-area projection.

    The polygon, its edges cut into short pieces, is carried into an equal-area projection on the same
    ellipsoid, where plane area is area on the ellipsoid (what QGIS's measuring tools give, to within
    the densification): through longitude and latitude into a cylindrical equal-area projection centred
    on it, which holds any area up to the whole globe; or, for a cap round a pole (which longitudes
    cannot hold), a Lambert azimuthal equal-area projection centred on that pole.
    """
    geographic_wkt = geographic_of(wkt)
    if not geographic_wkt:
        return None
    if polygon.IsEmpty():
        return 0.0
    source = spatial_reference(wkt)
    with quiet_gdal():
        to_geographic = osr.CoordinateTransformation(source, spatial_reference(geographic_wkt))
    fine = polygon.Clone()
    xmin, xmax, ymin, ymax = fine.GetEnvelope()
    fine.Segmentize(max(xmax - xmin, ymax - ymin) / (4 * DENSIFY_POINTS))
    lonlat = fine if source.IsGeographic() else carried(fine, wkt, geographic_wkt, to_geographic)
    if lonlat is None:
        point = polygon.Centroid()
        with quiet_gdal():
            _, latitude, _ = to_geographic.TransformPoint(point.GetX(), point.GetY())
        return _projected_area(polygon, source, lambda srs: srs.SetLAEA(90.0 if latitude >= 0 else -90.0, 0, 0, 0))
    # Bands of at most 120 degrees of longitude, each centred in its projection, far from its edges.
    geographic = spatial_reference(geographic_wkt)
    xmin, xmax, ymin, ymax = lonlat.GetEnvelope()
    bands = max(1, math.ceil((xmax - xmin) / 120.0))
    width = (xmax - xmin) / bands
    total = 0.0
    for index in range(bands):
        west = xmin + index * width
        east = xmax if index == bands - 1 else west + width
        box = ogr.CreateGeometryFromWkt(
            f"POLYGON(({west!r} {ymin!r},{east!r} {ymin!r},{east!r} {ymax!r},{west!r} {ymax!r},{west!r} {ymin!r}))"
        )
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
    polygon: ogr.Geometry, source: osr.SpatialReference, project: Callable[[osr.SpatialReference], object]
) -> float | None:
    """The plane area of ``polygon`` (in ``source``) in the equal-area projection that ``project`` sets on a
    CRS with ``source``'s ellipsoid; None where it cannot be carried there."""
    equal_area = osr.SpatialReference()
    equal_area.CopyGeogCSFrom(source)
    project(equal_area)
    equal_area.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    moved = polygon.Clone()
    xmin, xmax, ymin, ymax = moved.GetEnvelope()
    moved.Segmentize(max(xmax - xmin, ymax - ymin) / (4 * DENSIFY_POINTS))
    with quiet_gdal():
        if moved.Transform(osr.CoordinateTransformation(source, equal_area)) != 0:
            return None
    return float(moved.GetArea())


def _holds_centre(polygon: ogr.Geometry, line: ogr.Geometry, axis: int, origin: float, size: float) -> bool:
    """Whether the part of ``line`` (a row or column of pixel centres) inside ``polygon`` holds a centre;
    along ``axis`` (0: x, 1: y) centre ``i`` lies at ``origin + (i + 0.5) * size``."""
    with quiet_gdal():
        inside = polygon.Intersection(line)
    if inside is None or inside.IsEmpty():
        return False
    pieces = [inside.GetGeometryRef(i) for i in range(inside.GetGeometryCount())] or [inside]
    for piece in pieces:
        envelope = piece.GetEnvelope()
        first, last = sorted(((envelope[2 * axis] - origin) / size, (envelope[2 * axis + 1] - origin) / size))
        if math.floor(last - 0.5 + PIXEL_TOLERANCE) >= math.ceil(first - 0.5 - PIXEL_TOLERANCE):
            return True
    return False


def centres_hull(area: Bounds, polygon: ogr.Geometry, grid: Grid) -> Bounds | None:
    """``area`` (the bounding box of ``polygon``) shrunk to the pixels of ``grid`` whose rows and columns
    hold a pixel centre inside ``polygon``, as the warper sees it: a curved footprint's box reaches past
    its centres at its corners, by several pixels near a pole. None when ``polygon`` holds no centre."""
    window = grid.window_for(area)
    if window.is_empty:
        return None
    col0, row0, col1, row1 = (
        window.col_off,
        window.row_off,
        window.col_off + window.width,
        window.row_off + window.height,
    )

    def x(col: float) -> float:
        return grid.x0 + (col + 0.5) * grid.dx

    def y(row: float) -> float:
        return grid.y0 + (row + 0.5) * grid.dy

    def point(col: int, index: int) -> bool:
        return bool(polygon.Intersects(ogr.CreateGeometryFromWkt(f"POINT({x(col)!r} {y(index)!r})")))

    def column(col: int) -> bool:
        if row1 - row0 == 1:
            return point(col, row0)
        line = ogr.CreateGeometryFromWkt(f"LINESTRING({x(col)!r} {y(row0)!r},{x(col)!r} {y(row1 - 1)!r})")
        return _holds_centre(polygon, line, 1, grid.y0, grid.dy)

    def row(index: int) -> bool:
        if col1 - col0 == 1:
            return point(col0, index)
        line = ogr.CreateGeometryFromWkt(f"LINESTRING({x(col0)!r} {y(index)!r},{x(col1 - 1)!r} {y(index)!r})")
        return _holds_centre(polygon, line, 0, grid.x0, grid.dx)

    while col0 < col1 and not column(col0):
        col0 += 1
    while col1 > col0 and not column(col1 - 1):
        col1 -= 1
    while row0 < row1 and not row(row0):
        row0 += 1
    while row1 > row0 and not row(row1 - 1):
        row1 -= 1
    if col0 >= col1 or row0 >= row1:
        return None
    return grid.subgrid(Window(col0, row0, col1 - col0, row1 - row0)).bounds
