"""Quick-look PNGs of a job's inputs and outputs on one stretch, so that the page shows them comparably, and
the overlap as GeoJSON. GDAL only."""

from __future__ import annotations

import json

import numpy as np
from osgeo import gdal, ogr, osr

#: The longer side of a quick-look, in pixels.
SIDE = 512
#: The stretch: these percentiles of every quick-look's valid values together go to 0 and 255.
PERCENTILES = (2.0, 98.0)


def _small(path: str) -> tuple[np.ndarray, np.ndarray]:
    """The first band (or the first three) of ``path`` read at most :data:`SIDE` pixels a side (GDAL's
    overviews or nearest neighbour), as Float64 bands x rows x columns, and where every band is valid."""
    dataset = gdal.Open(path)
    scale = max(dataset.RasterXSize, dataset.RasterYSize) / SIDE
    width = max(1, round(dataset.RasterXSize / max(scale, 1.0)))
    height = max(1, round(dataset.RasterYSize / max(scale, 1.0)))
    count = 3 if dataset.RasterCount >= 3 else 1
    values, valid = [], np.ones((height, width), dtype=bool)
    for index in range(1, count + 1):
        band = dataset.GetRasterBand(index)
        array = band.ReadAsArray(buf_xsize=width, buf_ysize=height).astype(np.float64)
        flags = band.GetMaskFlags()
        if flags & gdal.GMF_NODATA:
            # The mask is the nodata value: read from the values already here, not from the file again.
            valid &= array != band.GetNoDataValue()
        elif not flags & gdal.GMF_ALL_VALID:
            valid &= band.GetMaskBand().ReadAsArray(buf_xsize=width, buf_ysize=height) > 0
        valid &= np.isfinite(array)
        values.append(array)
    return np.stack(values), valid


def quicklooks(paths: list[str], targets: list[str]) -> None:
    """Write a PNG at each of ``targets`` of the raster at the same place in ``paths``, all on one stretch
    (:data:`PERCENTILES` of their valid values together), invalid pixels transparent."""
    read = [_small(path) for path in paths]
    pooled = np.concatenate([values[:, valid].ravel() for values, valid in read])
    # A stretch needs no more than a quarter million values: every n-th of them.
    pooled = pooled[:: max(1, pooled.size // 250_000)]
    low, high = np.percentile(pooled, PERCENTILES) if pooled.size else (0.0, 1.0)
    span = high - low if high > low else 1.0
    for (values, valid), target in zip(read, targets):
        scaled = np.clip((values - low) / span * 255.0, 0, 255).astype(np.uint8)
        if len(scaled) == 1:
            scaled = np.repeat(scaled, 3, axis=0)
        rows, columns = valid.shape
        memory = gdal.GetDriverByName("MEM").Create("", columns, rows, 4, gdal.GDT_Byte)
        for index in range(3):
            memory.GetRasterBand(index + 1).WriteArray(scaled[index])
        memory.GetRasterBand(4).WriteArray(np.where(valid, 255, 0).astype(np.uint8))
        gdal.GetDriverByName("PNG").CreateCopy(target, memory)


def overlap_geojson(polygon_wkt: str, crs_wkt: str | None, target: str) -> None:
    """The overlap polygon as a GeoJSON FeatureCollection in WGS 84 longitude, latitude (RFC 7946); in the
    rasters' own coordinates, with no CRS said, for rasters without one."""
    geometry = ogr.CreateGeometryFromWkt(polygon_wkt)
    if crs_wkt:
        source = osr.SpatialReference()
        source.ImportFromWkt(crs_wkt)
        source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        wgs84 = osr.SpatialReference()
        wgs84.ImportFromEPSG(4326)
        wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        geometry.Transform(osr.CoordinateTransformation(source, wgs84))
    feature = {"type": "Feature", "properties": {"name": "overlap"}, "geometry": json.loads(geometry.ExportToJson())}
    with open(target, "w", encoding="utf-8") as out:
        json.dump({"type": "FeatureCollection", "features": [feature]}, out)


def outline(path: str, polygon_wkt: str, crs_wkt: str | None) -> list[list[list[float]]]:
    """The overlap's rings as they lie on the raster at ``path``: each vertex as fractions of its width and
    height (0 to 1 inside it), for the page to draw over the raster's quick-look, within a tenth of a
    quick-look's pixel. The polygon is densified first when the raster lies in another CRS, so that its edges
    keep their curve there."""
    dataset = gdal.Open(path)
    geometry = ogr.CreateGeometryFromWkt(polygon_wkt)
    # The same WKT is the same CRS, without parsing it (a few milliseconds a raster).
    target = dataset.GetSpatialRef() if crs_wkt and dataset.GetProjection() != crs_wkt else None
    if crs_wkt and target is not None:
        source = osr.SpatialReference()
        source.ImportFromWkt(crs_wkt)
        source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        if not source.IsSame(target):
            envelope = geometry.GetEnvelope()
            geometry.Segmentize(max(envelope[1] - envelope[0], envelope[3] - envelope[2]) / 64 or 1.0)
            geometry.Transform(osr.CoordinateTransformation(source, target))
    inverse = np.array(gdal.InvGeoTransform(dataset.GetGeoTransform()))
    size = np.array([dataset.RasterXSize, dataset.RasterYSize], dtype=np.float64)
    polygons = [geometry.GetGeometryRef(i) for i in range(geometry.GetGeometryCount())]
    if geometry.GetGeometryType() in (ogr.wkbPolygon, ogr.wkbPolygon25D):
        polygons = [geometry]
    rings = []
    for polygon in polygons:
        points = np.array(polygon.GetGeometryRef(0).GetPoints(), dtype=np.float64)[:, :2]
        pixels = np.column_stack(
            [
                inverse[0] + inverse[1] * points[:, 0] + inverse[2] * points[:, 1],
                inverse[3] + inverse[4] * points[:, 0] + inverse[5] * points[:, 1],
            ]
        )
        fractions = {"type": "Polygon", "coordinates": [(pixels / size).tolist()]}
        # No more vertices than a quick-look shows (the overlap's own outline may hold thousands, which every
        # status and result document of the job would carry).
        simplified = ogr.CreateGeometryFromJson(json.dumps(fractions)).SimplifyPreserveTopology(0.1 / SIDE)
        ring = json.loads(simplified.ExportToJson())["coordinates"][0]
        rings.append([[round(x, 6), round(y, 6)] for x, y in ring])
    return rings
