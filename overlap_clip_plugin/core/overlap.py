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
as QGIS's measuring tools give it (:func:`overlap_clip_plugin.core.footprint.ellipsoidal_area`).

Percent of a raster: the overlap's share of that raster's footprint (extents
mode: both areas on the ellipsoid; None where PROJ cannot carry a footprint into
longitude and latitude to measure it) or of its valid pixels (valid-data mode:
both areas in that raster's CRS). Never more than 100. Counting a raster's
valid pixels reads it whole, so in valid-data mode the percentages are counted
only when asked for (``whole_inputs=True``); otherwise they are ``None``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

from osgeo import gdal, ogr, osr

from overlap_clip_plugin.core.area import common_footprint, footprint_of, same_crs
from overlap_clip_plugin.core.errors import CancelledError, WriteError
from overlap_clip_plugin.core.footprint import carried, ellipsoidal_area, intersection, is_geographic, spatial_reference
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.plan import AREA_VALID, ClipPlan, Progress
from overlap_clip_plugin.core.raster import RasterInfo, bounded_cache, gdal_mode, quiet_gdal
from overlap_clip_plugin.core.validity import MaskFile, strips, valid_pixel_count, valid_reader


@dataclass(frozen=True)
class OverlapSummary:
    """The overlap polygon (WKT, in ``crs_wkt``), its area and its share of each input."""

    polygon_wkt: str
    crs_wkt: str
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


def _rectangle(grid: Grid) -> ogr.Geometry:
    b = grid.bounds
    return ogr.CreateGeometryFromWkt(
        f"POLYGON(({b.xmin!r} {b.ymax!r},{b.xmax!r} {b.ymax!r},{b.xmax!r} {b.ymin!r},"
        f"{b.xmin!r} {b.ymin!r},{b.xmin!r} {b.ymax!r}))"
    )


def _memory_layer() -> tuple[ogr.DataSource, ogr.Layer]:
    driver = ogr.GetDriverByName("MEM") or ogr.GetDriverByName("Memory")
    source = driver.CreateDataSource("overlap")
    return source, source.CreateLayer("overlap", geom_type=ogr.wkbPolygon)


def _valid_polygon(plan: ClipPlan, grid: Grid, crs_wkt: str, progress: Progress | None) -> ogr.Geometry:
    """The pixels of ``grid`` where every raster is valid, as one (multi)polygon."""
    read_valid = valid_reader(plan.common_mask, plan.rasters, grid, crs_wkt)
    with tempfile.TemporaryDirectory(prefix="overlapclip-") as folder:
        path = os.path.join(folder, "mask.tif")
        dataset = gdal.GetDriverByName("GTiff").Create(
            path, grid.width, grid.height, 1, gdal.GDT_Byte, ["TILED=YES", "COMPRESS=DEFLATE", "NBITS=1"]
        )
        dataset.SetGeoTransform(grid.transform)
        band = dataset.GetRasterBand(1)
        for row_off, rows in strips(grid, sum(len(r.bands) for r in plan.rasters)):
            band.WriteArray(read_valid(row_off, rows).astype("uint8"), 0, row_off)
            if progress is not None and progress((row_off + rows) / grid.height) is False:
                raise CancelledError("Cancelled while tracing the overlap; nothing was written.")
        band.FlushCache()
        source, layer = _memory_layer()
        stopped = []

        def callback(complete: float, _message: str, _data: object) -> int:
            if progress is not None and progress(complete) is False:
                stopped.append(complete)
                return 0
            return 1

        with quiet_gdal():
            code = gdal.Polygonize(band, band, layer, -1, [], callback=callback)
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


def _transform(geometry: ogr.Geometry, source_wkt: str, target: RasterInfo, step: float) -> ogr.Geometry:
    """``geometry`` in the CRS of ``target``, its edges first cut into pieces of at most ``step``: carried as
    footprints are (across the antimeridian, cut at a projected CRS's edge), and in a geographic CRS put
    at the longitudes of ``target``'s extent (a polygon at 179..182 degrees on a 0..360 raster)."""
    target_wkt = target.crs_wkt
    if same_crs(source_wkt, target_wkt):
        return geometry.Clone()
    moved = geometry.Clone()
    moved.Segmentize(step)
    source, destination = spatial_reference(source_wkt), spatial_reference(target_wkt)
    with quiet_gdal():
        transformation = osr.CoordinateTransformation(source, destination)
    result = carried(moved, source_wkt, target_wkt, transformation)
    if result is None:
        result = moved
        with quiet_gdal():
            result.Transform(transformation)
    if is_geographic(target_wkt):
        result = intersection(ogr.CreateGeometryFromWkt(footprint_of(target)), result, True)
    return result


@gdal_mode()
@bounded_cache()
def overlap_summary(
    plan: ClipPlan, progress: Progress | None = None, whole_inputs: bool = True, trace: bool = True
) -> OverlapSummary:
    """The overlap of a planned clip: polygon in the first raster's CRS, area, percents, size.

    In valid-data mode the polygon comes from the run's kept mask; with
    ``whole_inputs`` each raster's valid pixels are counted for the
    percentages (strip by strip, a full read of each input), without it the
    percentages are ``None``. Without ``trace`` the polygon is not traced
    where the numbers do not need it (its WKT is then empty): the area is the
    kept pixel count times the pixel area. ``progress`` is asked at every
    strip; return False to stop.
    """
    first = plan.outputs[0]
    grid, crs = first.grid, first.crs_wkt
    first_crs = plan.rasters[0].crs_wkt
    if plan.area_mode != AREA_VALID:
        return _footprints_summary(plan, grid)
    pixel = abs(grid.dx * grid.dy)
    kept = plan.common_mask
    counted = kept is not None and same_crs(crs, first_crs)
    if not trace and counted and not whole_inputs and kept is not None:
        area_m2 = _kept_area_m2(kept, crs)
        return OverlapSummary(
            "", first_crs, kept.count * pixel, (None,) * len(plan.rasters), grid.width, grid.height, area_m2
        )
    polygon = _valid_polygon(plan, grid, crs, progress)
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


def _kept_area_m2(kept: MaskFile, crs_wkt: str) -> float | None:
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
        area = ellipsoidal_area(_rectangle(rows), crs_wkt)
        if area is None:
            return None
        total += count * area / (rows.width * rows.height)
    return total


def _footprints_summary(plan: ClipPlan, grid: Grid) -> OverlapSummary:
    """The overlap of the extents: the intersection of the footprints, its areas and its share of each."""
    first_crs = plan.rasters[0].crs_wkt
    polygon = ogr.CreateGeometryFromWkt(common_footprint(plan.rasters, 0))
    area_m2 = ellipsoidal_area(polygon, first_crs)
    percents: list[float | None] = []
    for raster in plan.rasters:
        footprint = ogr.CreateGeometryFromWkt(footprint_of(raster))
        if not first_crs:
            # No CRS: one coordinate space, where plane areas compare.
            share: float | None = polygon.GetArea() / footprint.GetArea() if footprint.GetArea() > 0 else 0.0
        else:
            whole = ellipsoidal_area(footprint, raster.crs_wkt)
            share = None if area_m2 is None or not whole else area_m2 / whole
        percents.append(None if share is None else min(100.0, 100.0 * share))
    return OverlapSummary(
        polygon.ExportToWkt(), first_crs, polygon.GetArea(), tuple(percents), grid.width, grid.height, area_m2
    )
