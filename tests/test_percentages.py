"""One kind of percentage: with either area, a share is the overlap's area on the ellipsoid over the
raster's area on the ellipsoid (its footprint's with AREA=0, its valid pixels' with AREA=1).

The reference is GeographicLib's geodesic area (pyproj.Geod) of polygons carried into longitude and
latitude by pyproj, not the plugin's measure: the traced overlap polygon for the overlap, the footprint
less its nodata blocks for an input.
"""

import numpy as np
import processing
import pyproj
import pytest
from osgeo import ogr, osr
from rasters import crs_wkt, make_raster

from overlap_clip_plugin.core import run_clip

#: A fully valid EPSG:4326 raster over 0..10 E, 0..80 N (0.1 degree pixels), and one over 2..4 E, 76..78 N.
NORTH_80 = ((0.0, 0.1, 0.0, 80.0, 0.0, -0.1), 100, 800)
HIGH_BOX = ((2.0, 0.01, 0.0, 78.0, 0.0, -0.01), 200, 200)


def geodesic_area(geometry, wkt, step):
    """GeographicLib's area of ``geometry`` (in the CRS ``wkt``), its edges first cut to ``step``, in m²."""
    crs = pyproj.CRS(wkt)
    to_lonlat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    geod = crs.get_geod()
    fine = geometry.Clone()
    fine.Segmentize(step)
    polygons = [fine] if fine.GetGeometryType() == ogr.wkbPolygon else list(fine)
    total = 0.0
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            xs, ys = zip(*(point[:2] for point in ring.GetPoints()))
            lons, lats = to_lonlat.transform(xs, ys)
            area = abs(geod.polygon_area_perimeter(lons, lats)[0])
            total += area if index == 0 else -area
    return total


def box(xmin, ymin, xmax, ymax):
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ((xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)):
        ring.AddPoint_2D(x, y)
    polygon = ogr.Geometry(ogr.wkbPolygon)
    polygon.AddGeometry(ring)
    return polygon


def footprint(transform, width, height):
    x0, dx, _, y0, _, dy = transform
    return box(x0, y0 + height * dy, x0 + width * dx, y0)


def valid_area(transform, width, height, wkt, holes=(), step=None):
    """The reference area of a raster's valid pixels: its footprint less its nodata blocks (pixel windows
    ``(col, row, cols, rows)``)."""
    x0, dx, _, y0, _, dy = transform
    step = step or abs(dx) / 10
    area = geodesic_area(footprint(transform, width, height), wkt, step)
    for col, row, cols, rows in holes:
        hole = box(x0 + col * dx, y0 + (row + rows) * dy, x0 + (col + cols) * dx, y0 + row * dy)
        area -= geodesic_area(hole, wkt, step)
    return area


def with_holes(width, height, holes):
    data = np.ones((height, width), dtype=np.int16)
    for col, row, cols, rows in holes:
        data[row : row + rows, col : col + cols] = -1
    return data


def overlap_of(tmp_path, rasters, area, grid="a", overlap="polygon"):
    outputs = [str(tmp_path / f"{area}_{overlap}_{index}.tif") for index in range(len(rasters))]
    return run_clip(rasters, outputs, grid, area=area, overlap=overlap, warn=lambda _: None).overlap


def reference_percents(summary, inputs, first_wkt, step):
    """The overlap's traced polygon over each input's valid pixels, both by GeographicLib, in percent."""
    overlap = geodesic_area(ogr.CreateGeometryFromWkt(summary.polygon_wkt), first_wkt, step)
    return [min(100.0, 100.0 * overlap / whole) for whole in inputs]


def test_a_geographic_raster_to_80_north_has_one_percentage_whichever_the_area(tmp_path):
    """The issue's case: a small raster at 76..78 N inside one over 0..80 N. The share of the large one
    was 0.5% as a ratio of square degrees (AREA=1) and 0.1608% on the ellipsoid (AREA=0)."""
    a = make_raster(tmp_path / "a.tif", *NORTH_80, epsg=4326)
    b = make_raster(tmp_path / "b.tif", *HIGH_BOX, epsg=4326)
    wkt = crs_wkt(4326)
    expected = 100.0 * valid_area(*HIGH_BOX, wkt) / valid_area(*NORTH_80, wkt)
    assert expected == pytest.approx(0.160806, abs=1e-6)
    extents = overlap_of(tmp_path, [a, b], "extents")
    valid = overlap_of(tmp_path, [a, b], "valid", overlap="numbers")
    assert valid.percents[0] == pytest.approx(extents.percents[0], abs=0.01)
    assert valid.percents[0] == pytest.approx(expected, rel=1e-6)
    assert extents.percents[0] == pytest.approx(expected, rel=1e-6)
    assert (valid.percents[1], extents.percents[1]) == pytest.approx((100.0, 100.0), rel=1e-12)
    assert valid.area_m2 == pytest.approx(valid_area(*HIGH_BOX, wkt), rel=1e-6)


def test_the_valid_pixels_percentages_are_the_same_traced_or_counted(tmp_path):
    a = make_raster(tmp_path / "a.tif", *NORTH_80, epsg=4326)
    b = make_raster(tmp_path / "b.tif", *HIGH_BOX, epsg=4326)
    traced = overlap_of(tmp_path, [a, b], "valid")
    counted = overlap_of(tmp_path, [a, b], "valid", overlap="numbers")
    assert traced.polygon_wkt and not counted.polygon_wkt
    assert counted.percents == pytest.approx(traced.percents, rel=1e-12)
    assert counted.area_m2 == pytest.approx(traced.area_m2, rel=1e-12)


def utm_pair(tmp_path):
    """A: 200 x 200 km of UTM 33 north, 100 to 300 km east of its central meridian (the scale factor grows
    by 0.2% across it); B: 120 x 120 km of UTM 34 over A's east edge, on 400 m pixels."""
    a_grid = ((600000.0, 500.0, 0.0, 6100000.0, 0.0, -500.0), 400, 400)
    to_34 = osr.CoordinateTransformation(_srs(32633), _srs(32634))
    east, north, _ = to_34.TransformPoint(760000.0, 6050000.0)
    b_grid = ((round(east), 400.0, 0.0, round(north), 0.0, -400.0), 300, 300)
    a = make_raster(tmp_path / "a.tif", *a_grid, epsg=32633)
    b = make_raster(tmp_path / "b.tif", *b_grid, epsg=32634)
    return a, a_grid, b, b_grid


def _srs(epsg):
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


@pytest.mark.parametrize("grid", ["a", "b"])
def test_utm_rasters_in_two_zones_have_their_shares_on_the_ellipsoid(tmp_path, grid):
    a, a_grid, b, b_grid = utm_pair(tmp_path)
    summary = overlap_of(tmp_path, [a, b], "valid", grid=grid)
    first_wkt = crs_wkt(32633 if grid == "a" else 32634)
    wholes = [valid_area(*a_grid, crs_wkt(32633)), valid_area(*b_grid, crs_wkt(32634))]
    expected = reference_percents(summary, wholes, first_wkt, 50.0)
    assert 20.0 < expected[1] < 40.0
    assert summary.percents == pytest.approx(expected, rel=1e-5)


def test_a_polar_stereographic_raster_and_a_geographic_one(tmp_path):
    """A: 3000 x 3000 km of EPSG:3413 round the North Pole (the scale varies by 8% across it); B: 60..30 W,
    78..88 N in EPSG:4326. The outputs take A's 25 km grid."""
    a_grid = ((-1500000.0, 25000.0, 0.0, 1500000.0, 0.0, -25000.0), 120, 120)
    b_grid = ((-60.0, 0.1, 0.0, 88.0, 0.0, -0.1), 300, 100)
    a = make_raster(tmp_path / "a.tif", *a_grid, epsg=3413)
    b = make_raster(tmp_path / "b.tif", *b_grid, epsg=4326)
    summary = overlap_of(tmp_path, [a, b], "valid")
    wholes = [valid_area(*a_grid, crs_wkt(3413)), valid_area(*b_grid, crs_wkt(4326), step=0.01)]
    expected = reference_percents(summary, wholes, crs_wkt(3413), 1000.0)
    assert 3.0 < expected[0] < 10.0
    assert summary.percents == pytest.approx(expected, rel=1e-5)


def test_nodata_holes_are_left_out_of_the_valid_shares(tmp_path):
    """A over 0..80 N without 70..75 N east of 5 E; B over 2..8 E, 60..80 N without a block at 65..70 N.
    The valid shares differ from the footprints' as they should, and are those of the valid pixels."""
    a_holes = [(50, 50, 50, 50)]
    b_grid = ((2.0, 0.05, 0.0, 80.0, 0.0, -0.05), 120, 400)
    b_holes = [(20, 200, 60, 100)]
    a = make_raster(tmp_path / "a.tif", *NORTH_80, epsg=4326, nodata=-1, data=with_holes(100, 800, a_holes))
    b = make_raster(tmp_path / "b.tif", *b_grid, epsg=4326, nodata=-1, data=with_holes(120, 400, b_holes))
    wkt = crs_wkt(4326)
    summary = overlap_of(tmp_path, [a, b], "valid")
    wholes = [valid_area(*NORTH_80, wkt, holes=a_holes), valid_area(*b_grid, wkt, holes=b_holes)]
    expected = reference_percents(summary, wholes, wkt, 0.01)
    assert summary.percents == pytest.approx(expected, rel=1e-6)
    extents = overlap_of(tmp_path, [a, b], "extents")
    assert abs(summary.percents[0] - extents.percents[0]) > 0.1
    assert abs(summary.percents[1] - extents.percents[1]) > 1.0


def test_clippair_gives_the_percentages_on_the_ellipsoid_with_either_area(provider, tmp_path):
    a = make_raster(tmp_path / "a.tif", *NORTH_80, epsg=4326)
    b = make_raster(tmp_path / "b.tif", *HIGH_BOX, epsg=4326)
    wkt = crs_wkt(4326)
    expected = 100.0 * valid_area(*HIGH_BOX, wkt) / valid_area(*NORTH_80, wkt)
    for area in (0, 1):
        result = processing.run(
            "overlapclip:clippair",
            {
                "INPUT_A": a,
                "INPUT_B": b,
                "AREA": area,
                "WHOLE_INPUT_PERCENTS": True,
                "OUTPUT_A": str(tmp_path / f"a_out_{area}.tif"),
                "OUTPUT_B": str(tmp_path / f"b_out_{area}.tif"),
            },
        )
        assert (result["PERCENT_A"], result["PERCENT_B"]) == pytest.approx((expected, 100.0), rel=1e-6)
