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
as QGIS's measuring tools give it (:func:`overlap_clip_plugin.core.measure.ellipsoidal_area`).

Percent of a raster: the overlap's share of that raster's footprint (extents mode: both areas on the
ellipsoid; None where PROJ cannot carry a footprint into longitude and latitude to measure it) or of its valid
pixels (valid-data mode: both areas in that raster's CRS). Never more than 100. Counting a raster's valid
pixels reads it whole, so in valid-data mode the percentages are counted only when asked for
(``whole_inputs=True``); otherwise they are ``None``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from osgeo import gdal, ogr

from overlap_clip_plugin.core.area import common_footprint, footprint_of
from overlap_clip_plugin.core.crs import Crs, transformation
from overlap_clip_plugin.core.errors import CancelledError, FootprintError, WriteError
from overlap_clip_plugin.core.executors import Progress, cancelled_by, gdal_progress
from overlap_clip_plugin.core.gdalenv import bounded_cache, gdal_mode, quiet_gdal
from overlap_clip_plugin.core.geometry import box_polygon
from overlap_clip_plugin.core.globe import carried, intersection
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.measure import ellipsoidal_area
from overlap_clip_plugin.core.plan import ClipPlan
from overlap_clip_plugin.core.raster import RasterInfo, Read
from overlap_clip_plugin.core.validity import MaskFile, strips, valid_pixel_count, valid_reader


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

    In valid-data mode the polygon comes from the run's kept mask; with ``whole_inputs`` each raster's valid
    pixels are counted for the percentages (strip by strip, a full read of each input), without it the
    percentages are ``None``. Without ``trace`` the polygon is not traced where the numbers do not need it
    (its WKT is then empty): the area is the kept pixel count times the pixel area. ``progress`` is asked at
    every strip; return False to stop.
    """
    grid = plan.outputs[0].grid
    crs, first_crs = grid.crs, plan.rasters[0].crs
    if plan.area_mode != "valid":
        return _footprints_summary(plan, grid)
    pixel = abs(grid.dx * grid.dy)
    kept = plan.common_mask
    counted = kept is not None and crs == first_crs
    if not trace and counted and not whole_inputs and kept is not None:
        area_m2 = _kept_area_m2(kept, crs)
        return OverlapSummary(
            "", first_crs, kept.count * pixel, (None,) * len(plan.rasters), grid.width, grid.height, area_m2
        )
    polygon = _valid_polygon(plan, grid, progress)
    step = max(abs(grid.dx), abs(grid.dy))
    percents: list[float | None] = []
    for raster in plan.rasters:
        if not whole_inputs:
            percents.append(None)
            continue
        in_own_crs = _transform(polygon, crs, raster, step)
        total = valid_pixel_count(raster, progress) * abs(raster.grid.dx * raster.grid.dy)
        percents.append(min(100.0, 100.0 * in_own_crs.GetArea() / total) if total > 0 else 0.0)
    in_first_crs = _transform(polygon, crs, plan.rasters[0], step)
    return OverlapSummary(
        in_first_crs.ExportToWkt(),
        first_crs,
        in_first_crs.GetArea(),
        tuple(percents),
        grid.width,
        grid.height,
        ellipsoidal_area(polygon, crs),
    )


#: Bands of rows in which the area of a pixel on the ellipsoid is taken as one (it varies from row to row
#: on a geographic or world-wide grid).
AREA_BANDS = 64


def _kept_area_m2(kept: MaskFile, crs: Crs | None) -> float | None:
    """The area on the ellipsoid of the valid pixels of the kept mask, without tracing them: in each band
    of rows, their count times the area of one pixel of that band on the ellipsoid."""
    grid = kept.grid
    bands = min(AREA_BANDS, grid.height)
    total = 0.0
    for band in range(bands):
        start, stop = band * grid.height // bands, (band + 1) * grid.height // bands
        count = int(kept.row_counts[start:stop].sum())
        if not count:
            continue
        rows = grid.subgrid(Window(0, start, grid.width, stop - start))
        area = ellipsoidal_area(box_polygon(rows.bounds), crs)
        if area is None:
            return None
        total += count * area / (rows.width * rows.height)
    return total


def _footprints_summary(plan: ClipPlan, grid: Grid) -> OverlapSummary:
    """The overlap of the extents: the intersection of the footprints, its areas and its share of each."""
    first_crs = plan.rasters[0].crs
    polygon = ogr.CreateGeometryFromWkt(common_footprint(plan.rasters, 0))
    area_m2 = ellipsoidal_area(polygon, first_crs)
    percents: list[float | None] = []
    for raster in plan.rasters:
        footprint = ogr.CreateGeometryFromWkt(footprint_of(raster))
        if first_crs is None:
            # No CRS: one coordinate space, where plane areas compare.
            share: float | None = polygon.GetArea() / footprint.GetArea() if footprint.GetArea() > 0 else 0.0
        else:
            whole = ellipsoidal_area(footprint, raster.crs)
            share = None if area_m2 is None or not whole else area_m2 / whole
        percents.append(None if share is None else min(100.0, 100.0 * share))
    return OverlapSummary(
        polygon.ExportToWkt(), first_crs, polygon.GetArea(), tuple(percents), grid.width, grid.height, area_m2
    )
