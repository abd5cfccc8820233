"""The overlap as a polygon and as numbers a model can use.

With the extents' common area, the overlap is the true intersection of the
rasters' footprints on the ground (:func:`overlap_clip_plugin.core.area.common_footprint`),
not its bounding box and not snapped to any grid; it does not depend on the
output grid. With the valid-data area, it is the union of the output pixels
where every raster has valid data (traced with ``gdal.Polygonize`` from the
common mask, so its area is exactly its pixel count times the pixel area). It
is expressed in the first raster's CRS.

Areas: ``area`` is in the first raster's CRS units, squared (square degrees for
a geographic CRS); ``area_m2`` is the area on the ellipsoid in square metres,
as QGIS's measuring tools give it (:mod:`overlap_clip_plugin.core.measure`): of the
footprints' intersection, or of the valid pixels, counted row by row or block by block
(:func:`~overlap_clip_plugin.core.measure.pixel_areas`) without tracing them.

Percent of a raster: the overlap's area on the ellipsoid over that raster's, whichever the area: its
footprint's (extents mode) or its valid pixels' on its own grid (valid-data mode); so a raster that is all
valid has the same share in both modes. None where PROJ cannot carry a footprint or a pixel into longitude
and latitude to measure it. Rasters without a CRS, or in one on no ellipsoid (a local one), share one plane,
where plane areas compare. Never more than 100. Counting a raster's valid pixels reads it whole, so in
valid-data mode the percentages are counted only when asked for (``whole_inputs=True``); otherwise they are
``None``.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from osgeo import gdal, ogr

from overlap_clip_plugin.core.area import common_footprint, footprint_of
from overlap_clip_plugin.core.crs import Crs, transformation
from overlap_clip_plugin.core.errors import CancelledError, FootprintError, WriteError
from overlap_clip_plugin.core.executors import Progress, cancelled_by, gdal_progress
from overlap_clip_plugin.core.gdalenv import bounded_cache, gdal_mode, quiet_gdal
from overlap_clip_plugin.core.globe import carried, intersection
from overlap_clip_plugin.core.grid import Grid
from overlap_clip_plugin.core.measure import ellipsoidal_area, pixel_areas
from overlap_clip_plugin.core.plan import ClipPlan
from overlap_clip_plugin.core.raster import RasterInfo, Read
from overlap_clip_plugin.core.validity import SCAN_CANCELLED, strips, valid_reader


@dataclass(frozen=True)
class OverlapSummary:
    """The overlap polygon (WKT, in ``crs``), its area and its share of each input."""

    polygon_wkt: str
    crs: Crs | None
    area: float
    percents: tuple[float | None, ...]
    width: int
    height: int
    #: The overlap's area on the ellipsoid, in square metres; None for rasters without a CRS.
    area_m2: float | None = None

    @property
    def area_km2(self) -> float | None:
        """The overlap's area on the ellipsoid, in square kilometres."""
        return None if self.area_m2 is None else self.area_m2 / 1e6


def _valid_polygon(plan: ClipPlan, grid: Grid, progress: Progress | None) -> ogr.Geometry:
    """The pixels of ``grid`` where every raster is valid, as one (multi)polygon."""
    read_valid = valid_reader(plan.common_mask, [Read.on(raster, grid) for raster in plan.rasters], grid)
    with tempfile.TemporaryDirectory(prefix="overlapclip-") as folder:
        path = os.path.join(folder, "mask.tif")
        dataset = gdal.GetDriverByName("GTiff").Create(
            path, grid.width, grid.height, 1, gdal.GDT_Byte, ["TILED=YES", "COMPRESS=DEFLATE", "NBITS=1"]
        )
        dataset.SetGeoTransform(grid.transform)
        band = dataset.GetRasterBand(1)
        for row_off, rows in strips(grid, sum(len(r.bands) for r in plan.rasters)):
            band.WriteArray(read_valid(row_off, rows).astype("uint8"), 0, row_off)
            if cancelled_by(progress, (row_off + rows) / grid.height):
                raise CancelledError("Cancelled while tracing the overlap; nothing was written.")
        band.FlushCache()
        # GDAL 3.11 renamed OGR's in-memory driver.
        source = (ogr.GetDriverByName("MEM") or ogr.GetDriverByName("Memory")).CreateDataSource("overlap")
        layer = source.CreateLayer("overlap", geom_type=ogr.wkbPolygon)
        stopped: list[bool] = []
        with quiet_gdal():
            code = gdal.Polygonize(band, band, layer, -1, [], callback=gdal_progress(progress, stopped))
            reason = gdal.GetLastErrorMsg()
        band = dataset = None
        if stopped:
            raise CancelledError("Cancelled while tracing the overlap; nothing was written.")
        if code != gdal.CE_None:
            raise WriteError("Cannot trace the overlap polygon: {reason}", reason=reason or "GDAL gave no reason")
    union = ogr.Geometry(ogr.wkbMultiPolygon)
    for feature in layer:
        union.AddGeometry(feature.GetGeometryRef())
    del source  # the layer lives as long as its data source
    return union.UnionCascaded()


def _transform(geometry: ogr.Geometry, source_crs: Crs | None, target: RasterInfo, step: float) -> ogr.Geometry:
    """``geometry`` in the CRS of ``target``, its edges first cut into pieces of at most ``step``: carried as
    footprints are (across the antimeridian, cut at a projected CRS's edge), and in a geographic CRS put
    at the longitudes of ``target``'s extent (a polygon at 179..182 degrees on a 0..360 raster)."""
    target_crs = target.crs
    if source_crs == target_crs:
        return geometry.Clone()
    assert source_crs is not None and target_crs is not None
    moved = geometry.Clone()
    moved.Segmentize(step)
    result = carried(moved, source_crs, target_crs)
    if result is None:
        # Point by point: the polygon of valid pixels always lies where both CRSs reach.
        result = moved
        with quiet_gdal():
            if result.Transform(transformation(source_crs, target_crs)) != 0:
                raise FootprintError(
                    "PROJ cannot carry the overlap from {crs} into {other_crs} of '{name}'.",
                    crs=source_crs.name,
                    other_crs=target_crs.name,
                    name=target.name,
                )
    if target_crs.is_geographic:
        result = intersection(ogr.CreateGeometryFromWkt(footprint_of(target)), result, True)
    return result


@gdal_mode()
@bounded_cache()
def overlap_summary(
    plan: ClipPlan, progress: Progress | None = None, whole_inputs: bool = True, trace: bool = True
) -> OverlapSummary:
    """The overlap of a planned clip: polygon in the first raster's CRS, area, percents, size.

    In valid-data mode the overlap's pixels are the run's kept mask; with ``whole_inputs`` each raster's valid
    pixels are counted for the percentages (strip by strip, a full read of each input), without it the
    percentages are ``None``. Without ``trace`` the polygon is not traced where the numbers do not need it
    (its WKT is then empty): the area is the kept pixel count times the pixel area. ``progress`` is asked at
    every strip; return False to stop.
    """
    grid = plan.outputs[0].grid
    crs, first_crs = grid.crs, plan.rasters[0].crs
    if plan.area_mode != "valid":
        return _footprints_summary(plan, grid)
    kept = plan.common_mask
    polygon = None
    if trace or kept is None or crs != first_crs:
        polygon = _valid_polygon(plan, grid, progress)
    if kept is not None:
        count, area_m2 = _valid_area(
            kept.grid, lambda row_off, rows: kept.read(kept.grid, row_off, rows), 1, progress, kept.row_counts
        )
    else:
        reads = [Read.on(raster, grid) for raster in plan.rasters]
        count, area_m2 = _valid_area(grid, valid_reader(None, reads, grid), len(reads), progress)
    plane = _plane(first_crs)
    percents: list[float | None] = []
    for raster in plan.rasters:
        if not whole_inputs:
            percents.append(None)
            continue
        own = raster.grid
        own_count, own_m2 = _valid_area(
            own, valid_reader(None, [Read.on(raster, own)], own), len(raster.bands), progress
        )
        if plane:
            share: float | None = _ratio(count * abs(grid.dx * grid.dy), own_count * abs(own.dx * own.dy))
        else:
            share = None if area_m2 is None or own_m2 is None else _ratio(area_m2, own_m2)
        percents.append(None if share is None else min(100.0, 100.0 * share))
    if polygon is None:
        wkt, area = "", count * abs(grid.dx * grid.dy)
    else:
        in_first_crs = _transform(polygon, crs, plan.rasters[0], max(abs(grid.dx), abs(grid.dy)))
        wkt, area = in_first_crs.ExportToWkt(), in_first_crs.GetArea()
    return OverlapSummary(wkt, first_crs, area, tuple(percents), grid.width, grid.height, area_m2)


def _valid_area(
    grid: Grid,
    read: Callable[[int, int], np.ndarray],
    bands: int,
    progress: Progress | None,
    row_counts: np.ndarray | None = None,
) -> tuple[int, float | None]:
    """How many pixels of ``grid`` are valid, and their area on the ellipsoid (None where it cannot be
    measured). Where each row's pixels share one area and ``row_counts`` gives the valid pixels of each
    row, nothing is read; else ``read(row_off, rows)`` (the valid pixels of ``bands`` bands) is read strip
    by strip, and the pixels counted block by block."""
    areas = pixel_areas(grid)
    if row_counts is not None:
        by_rows = None if areas is None else areas.of_rows(row_counts)
        if areas is None or by_rows is not None:
            return int(row_counts.sum()), by_rows
    count, total = 0, 0.0
    for row_off, rows in strips(grid, bands):
        valid = read(row_off, rows)
        count += int(np.count_nonzero(valid))
        if areas is not None:
            total += areas.of(row_off, valid)
        if cancelled_by(progress, (row_off + rows) / grid.height):
            raise CancelledError(SCAN_CANCELLED)
    return count, total if areas is not None and math.isfinite(total) else None


def _plane(crs: Crs | None) -> bool:
    """Whether rasters in ``crs`` compare plane areas: without a CRS, or in one on no ellipsoid."""
    return crs is None or crs.geographic is None


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _footprints_summary(plan: ClipPlan, grid: Grid) -> OverlapSummary:
    """The overlap of the extents: the intersection of the footprints, its areas and its share of each."""
    first_crs = plan.rasters[0].crs
    polygon = ogr.CreateGeometryFromWkt(common_footprint(plan.rasters, 0))
    area_m2 = ellipsoidal_area(polygon, first_crs)
    percents: list[float | None] = []
    for raster in plan.rasters:
        footprint = ogr.CreateGeometryFromWkt(footprint_of(raster))
        if _plane(first_crs):
            # One coordinate space, where plane areas compare.
            share: float | None = _ratio(polygon.GetArea(), footprint.GetArea())
        else:
            whole = ellipsoidal_area(footprint, raster.crs)
            share = None if area_m2 is None or whole is None else _ratio(area_m2, whole)
        percents.append(None if share is None else min(100.0, 100.0 * share))
    return OverlapSummary(
        polygon.ExportToWkt(), first_crs, polygon.GetArea(), tuple(percents), grid.width, grid.height, area_m2
    )
