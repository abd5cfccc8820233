"""The common area of several rasters, in the coordinate reference system of one of them.

In one CRS the common area is the intersection of the rasters' extents. Across CRSs the area found so far (a
polygon with densified edges, so that curved edges stay curved) is carried into the other raster's CRS, cut by
its extent there and carried back; where that trip fails (a CRS cannot hold the other's area), it goes through
longitude and latitude instead, and last the other raster's footprint is carried into the target CRS.
:mod:`overlap_clip_plugin.core.globe` carries polygons across the antimeridian, the edges of projected CRSs,
0..360 longitudes and the poles (a polar footprint becomes its cap), and cuts extents that reach off the globe
to it. The common area is the box of the rows and columns of the target's grid that hold a pixel centre inside
the result. An area that the edge of the target CRS cuts in two (a scene across 180 degrees on a -180..180
grid) cannot be one block of that grid, and is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from osgeo import ogr

from overlap_clip_plugin.core.crs import Crs, crs_name, transformation
from overlap_clip_plugin.core.errors import CrsMismatchError, NoOverlapError, SplitAreaError
from overlap_clip_plugin.core.gdalenv import gdal_mode, quiet_gdal
from overlap_clip_plugin.core.geometry import box_polygon, envelope, is_valid, joined, polygon_parts
from overlap_clip_plugin.core.globe import DENSIFY_POINTS, carried, intersection, on_the_globe, split_by_edge
from overlap_clip_plugin.core.grid import Bounds
from overlap_clip_plugin.core.raster import RasterInfo


def check_crs_consistency(rasters: Sequence[RasterInfo]) -> None:
    """Refuse a mix of rasters with and without a CRS."""
    without = [r for r in rasters if r.crs is None]
    if without and len(without) != len(rasters):
        with_crs = next(r for r in rasters if r.crs is not None)
        raise CrsMismatchError(
            "'{path}' has no coordinate reference system but '{other}' has {crs}; assign the missing CRS "
            "first (Raster > Projections > Assign Projection).",
            path=without[0].path,
            other=with_crs.path,
            crs=crs_name(with_crs.crs),
        )


def _raster_footprint(raster: RasterInfo, points_per_edge: int) -> ogr.Geometry:
    """Where ``raster`` lies, in its CRS: its extent, or (a raster that is warped) its pixel outline on the
    ground; of an extent that reaches off the globe (a global sinusoidal grid), the part on it."""
    if raster.footprint_wkt:
        return ogr.CreateGeometryFromWkt(raster.footprint_wkt)
    on_globe = _extent_on_the_globe(raster.crs, raster.grid.bounds)
    return ogr.CreateGeometryFromWkt(on_globe) if on_globe else box_polygon(raster.grid.bounds, points_per_edge)


@functools.lru_cache(maxsize=256)
def _extent_on_the_globe(crs: Crs | None, bounds: Bounds) -> str:
    """The part of the extent ``bounds`` in ``crs`` that shows the globe (WKT), where some of it does not."""
    part = on_the_globe(box_polygon(bounds, 2), crs)
    return "" if part is None else str(part.ExportToWkt())


def _is_box(raster: RasterInfo) -> bool:
    """Whether ``raster``'s footprint is its extent: north-up, and all of it on the globe."""
    return not raster.warped and not _extent_on_the_globe(raster.crs, raster.grid.bounds)


def _transformed_footprint(raster: RasterInfo, crs: Crs, crs_owner: str) -> ogr.Geometry:
    """``raster``'s footprint carried into ``crs``; point by point, dropping points that cannot be carried
    and repairing the outline, where it cannot be carried whole."""
    assert raster.crs is not None
    moving = transformation(raster.crs, crs, raster.name, crs_owner)
    polygon = _raster_footprint(raster, DENSIFY_POINTS)
    moved = carried(polygon, raster.crs, crs, raster.name, crs_owner)
    if moved is not None:
        return moved
    # Through longitude and latitude: a polar footprint becomes its cap there, and is then cut at the
    # edge of ``crs`` (a global sinusoidal or Robinson grid against a polar raster).
    geographic = raster.crs.geographic
    if geographic is not None and geographic.wkt != crs.wkt and geographic.wkt != raster.crs.wkt:
        lonlat = carried(polygon, raster.crs, geographic, raster.name, raster.name)
        if lonlat is not None:
            moved = carried(lonlat, geographic, crs, raster.name, crs_owner)
            if moved is not None:
                return moved
    # The outer ring of the footprint's largest part (a footprint cut to the globe may have several).
    largest = max(polygon_parts(polygon), key=lambda part: part.GetArea())
    ring = largest.GetGeometryRef(0)  # lives as long as ``largest``
    with quiet_gdal():
        points = moving.TransformPoints(ring.GetPoints())
    finite = [(x, y) for x, y, *_ in points if abs(x) != float("inf") and abs(y) != float("inf") and x == x and y == y]
    result = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in finite:
        result.AddPoint_2D(x, y)
    result.CloseRings()
    out = ogr.Geometry(ogr.wkbPolygon)
    out.AddGeometry(result)
    if len(finite) >= 3 and not is_valid(out):
        # A footprint that folds on itself after transformation (across a projection's edge, say) is
        # repaired to its outline.
        with quiet_gdal():
            out = out.Buffer(0)
    if len(finite) < 3 or out.IsEmpty():
        raise NoOverlapError(
            "'{name}' lies where {crs}, the CRS of '{owner}', cannot show it ({count} of {total} points of its "
            "outline have a place there): they have no common area on that grid.",
            name=raster.name,
            crs=crs_name(crs),
            owner=crs_owner,
            count=len(finite),
            total=len(points),
        )
    return out


def _through(
    region: ogr.Geometry, crs: Crs, crs_owner: str, raster: RasterInfo, via: Crs, via_owner: str
) -> ogr.Geometry | None:
    """The part of ``region`` that ``raster`` covers, found in the CRS ``via``: the region carried there,
    cut by ``raster``'s footprint there and carried back; None where a trip fails."""
    assert raster.crs is not None
    there = carried(region, crs, via, crs_owner, via_owner)
    if there is None:
        return None
    footprint = _raster_footprint(raster, 2)
    if via.wkt != raster.crs.wkt:
        footprint = carried(footprint, raster.crs, via, raster.name, via_owner)
        if footprint is None:
            return None
    covered = intersection(there, footprint, via.is_geographic)
    if covered.IsEmpty() or covered.GetArea() <= 0.0:
        return covered
    back = carried(covered, via, crs, via_owner, crs_owner)
    return None if back is None else intersection(region, back, crs.is_geographic)


def _part_covered(region: ogr.Geometry, crs: Crs, crs_owner: str, raster: RasterInfo) -> ogr.Geometry:
    """The part of ``region`` (a polygon in ``crs``) that ``raster`` covers, in ``crs``.

    The region is carried into ``raster``'s CRS, cut by its extent there and carried back: this stays right
    where ``raster``'s footprint cannot be carried into ``crs`` (a global raster against a UTM zone). Where
    the region cannot make that trip (a UTM scene across the edge of Web Mercator), it goes through longitude
    and latitude; last, ``raster``'s footprint is carried into ``crs``.
    """
    assert raster.crs is not None
    covered = _through(region, crs, crs_owner, raster, raster.crs, raster.name)
    if covered is None:
        via = crs.geographic
        covered = _through(region, crs, crs_owner, raster, via, crs_owner) if via is not None else None
    if covered is None:
        covered = intersection(region, _transformed_footprint(raster, crs, crs_owner), crs.is_geographic)
    return covered


def _beyond_antimeridian(bounds: Bounds) -> bool:
    """Whether geographic ``bounds`` reach past -180 or 180 degrees of longitude (a 0..360 grid, say)."""
    return bounds.xmin < -180.0 or bounds.xmax > 180.0


def _no_overlap(
    rasters: Sequence[RasterInfo], culprit: RasterInfo, before: Bounds, crs: Crs | None, names: list[str]
) -> NoOverlapError:
    if len(rasters) == 2:
        first, second = rasters
        return NoOverlapError(
            "The rasters do not overlap: '{name_a}' covers {bounds_a} in {crs_a}; '{name_b}' covers {bounds_b} "
            "in {crs_b}.",
            name_a=first.name,
            bounds_a=first.grid.bounds,
            crs_a=crs_name(first.crs),
            name_b=second.name,
            bounds_b=second.grid.bounds,
            crs_b=crs_name(second.crs),
        )
    return NoOverlapError(
        "The rasters have no common area: '{name}' (covering {bounds} in {crs}) does not overlap the area "
        "{area} in {area_crs} common to {names}.",
        name=culprit.name,
        bounds=culprit.grid.bounds,
        crs=crs_name(culprit.crs),
        area=before,
        area_crs=crs_name(crs),
        names=", ".join(repr(name) for name in names),
    )


@gdal_mode()
def common_area(rasters: Sequence[RasterInfo], target: int) -> Bounds:
    """The bounding box of the area all ``rasters`` cover, in the CRS of ``rasters[target]``.

    Parameters
    ----------
    rasters
        Two or more rasters, all with a CRS or all without one (rasters
        without a CRS are taken to share one coordinate space).
    target
        Index of the raster whose CRS the result is expressed in.

    Returns
    -------
    Bounds
        A box inside ``rasters[target]``'s extent, with a positive area.

    Raises
    ------
    CrsMismatchError
        Some rasters have a CRS and others do not.
    NoOverlapError
        The rasters have no common area with a positive area; the message
        names the input that leaves it empty, with the extents and CRSs.
    SplitAreaError
        The edge of the target CRS cuts the common area in two (a scene across the antimeridian on a -180..180
        grid): no block of the target's grid holds it.
    """
    reference = rasters[target]
    crs = reference.crs
    area, polygon = _common_polygon(rasters, target)
    if polygon is not None:
        # Pieces that hold no pixel centre of the grid are not on it by the pixel rule: a sliver across
        # the edge of the CRS neither splits the area nor widens it.
        on_grid = [
            part
            for part in polygon_parts(polygon)
            if reference.grid.centres_hull(area.intersection(envelope(part)), part) is not None
        ]
        polygon = joined(on_grid) if on_grid else polygon
        if split_by_edge(polygon, crs, reference.grid.dx):
            raise SplitAreaError(
                "The common area crosses the edge of {crs} (the meridian opposite its centre), so on the grid of "
                "'{name}' it falls into pieces at opposite ends of {extent}; put the outputs on the grid of another "
                "raster, or reproject '{name}' to a CRS centred on the area first.",
                crs=crs_name(crs),
                name=reference.name,
                extent=envelope(polygon),
            )
        box = area.intersection(envelope(polygon))
        hull = reference.grid.centres_hull(box, polygon)
        if hull is None:
            raise thinner_than_a_pixel(box, reference)
        area = hull
    return area


def thinner_than_a_pixel(area: Bounds, raster: RasterInfo) -> NoOverlapError:
    """The error for a common ``area`` (in ``raster``'s CRS) that holds no pixel centre of ``raster``'s grid."""
    return NoOverlapError(
        "The common area {area} in {crs} holds no pixel centre of the {dx:g} x {dy:g} grid of '{name}': "
        "it is thinner than one pixel.",
        area=area,
        crs=crs_name(raster.crs),
        dx=abs(raster.grid.dx),
        dy=abs(raster.grid.dy),
        name=raster.name,
    )


def _common_polygon(rasters: Sequence[RasterInfo], target: int) -> tuple[Bounds, ogr.Geometry | None]:
    """The box of the common area in the CRS of ``rasters[target]`` and, unless it is that box exactly
    (every raster north-up in that CRS), the common area itself as a polygon; raises NoOverlapError."""
    check_crs_consistency(rasters)
    reference = rasters[target]
    crs = reference.crs
    area = reference.grid.bounds
    # Exact boxes while every raster shares the target CRS and is north-up; a polygon once one is not.
    polygon: ogr.Geometry | None = None if _is_box(reference) else _raster_footprint(reference, 2)
    names = [reference.name]
    geographic = crs is not None and crs.is_geographic
    for raster in rasters:
        if raster is reference:
            continue
        before = area if polygon is None else area.intersection(envelope(polygon))
        if raster.crs == crs:
            wraps = geographic and any(_beyond_antimeridian(r.grid.bounds) for r in (reference, raster))
            if polygon is not None or not _is_box(raster) or wraps:
                polygon = intersection(polygon or box_polygon(area, 2), _raster_footprint(raster, 2), geographic)
            else:
                area = area.intersection(raster.grid.bounds)
        else:
            assert crs is not None
            region = polygon or box_polygon(area, 2)
            polygon = _part_covered(region, crs, reference.name, raster)
        if area.is_empty or (polygon is not None and (polygon.IsEmpty() or polygon.GetArea() <= 0.0)):
            raise _no_overlap(rasters, raster, before, crs, names)
        names.append(raster.name)
    return area, polygon


@gdal_mode()
def common_footprint(rasters: Sequence[RasterInfo], target: int = 0) -> str:
    """The area all ``rasters`` cover on the ground, as a (multi)polygon in the CRS of ``rasters[target]``
    (WKT): the intersection of their footprints, not its bounding box, and not snapped to any grid.

    Raises
    ------
    NoOverlapError
        The rasters have no common area.
    """
    area, polygon = _common_polygon(rasters, target)
    return str((polygon if polygon is not None else box_polygon(area, 2)).ExportToWkt())


@gdal_mode()
def footprint_of(raster: RasterInfo) -> str:
    """Where ``raster`` lies, in its CRS, as WKT: its extent, or (a raster that is warped) its pixel outline."""
    return str(_raster_footprint(raster, 2).ExportToWkt())
