"""The common area on the whole globe, against gdalwarp: poles, global grids, 0..360 longitudes, the antimeridian.

For each pair and each grid choice (A's grid, B's grid, each its own): every output must cover the pixels
of its grid where gdalwarp, warping the other raster onto that grid, puts valid data, and no more, up to
one pixel at the edges (the pixel rule against the warper's own sampling). Where gdalwarp's data touch
both the west and the east edge of a grid with empty columns between, the area is one piece of ground
cut by the edge of the grid's CRS: the plan must refuse it, naming that grid, and never clip it short.
"""

import math
import os
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from osgeo import gdal, ogr, osr
from rasters import warped_onto

from overlap_clip_plugin.core import (
    NoOverlapError,
    SplitAreaError,
    crs_from_wkt,
    crs_name,
    overlap_summary,
    plan_clip,
    read_raster,
)
from overlap_clip_plugin.core.area import footprint_of
from overlap_clip_plugin.core.measure import ellipsoidal_area

WRAPPED = "+proj=longlat +datum=WGS84 +lon_wrap=180 +no_defs"
PACIFIC = "+proj=merc +lon_0=180 +datum=WGS84 +units=m +no_defs"
SINUSOIDAL = "+proj=sinu +R=6371007.181 +units=m +no_defs"  # MODIS's grid

RASTERS = {
    "global 4326": ("EPSG:4326", (-180.0, 1.0, 0.0, 90.0, 0.0, -1.0), 360, 180),
    "global 0..360": (WRAPPED, (0.0, 1.0, 0.0, 90.0, 0.0, -1.0), 360, 180),
    "north polar stereographic": ("EPSG:3413", (-1000000.0, 10000.0, 0.0, 1000000.0, 0.0, -10000.0), 200, 200),
    "south polar stereographic": ("EPSG:3031", (-1000000.0, 10000.0, 0.0, 1000000.0, 0.0, -10000.0), 200, 200),
    "UTM 33N near the pole": ("EPSG:32633", (400000.0, 1000.0, 0.0, 8900000.0, 0.0, -1000.0), 200, 200),
    "UTM 33S near the pole": ("EPSG:32733", (400000.0, 1000.0, 0.0, 1000000.0, 0.0, -1000.0), 200, 200),
    "global equal-area": ("EPSG:6933", (-17367530.45, 36032.22, 0.0, 7314540.83, 0.0, -36032.22), 964, 406),
    "global web mercator": ("EPSG:3857", (-20037508.34, 100000.0, 0.0, 20037508.34, 0.0, -100000.0), 401, 401),
    "UTM 18N (west)": ("EPSG:32618", (400000.0, 1000.0, 0.0, 4600000.0, 0.0, -1000.0), 200, 200),
    "UTM 18S (west)": ("EPSG:32718", (400000.0, 1000.0, 0.0, 6000000.0, 0.0, -1000.0), 200, 200),
    "UTM 33N (east)": ("EPSG:32633", (400000.0, 1000.0, 0.0, 5000000.0, 0.0, -1000.0), 200, 200),
    "UTM 60N (west of 180)": ("EPSG:32660", (600000.0, 1000.0, 0.0, 5000000.0, 0.0, -1000.0), 200, 200),
    "UTM 1N (east of 180)": ("EPSG:32601", (200000.0, 1000.0, 0.0, 5000000.0, 0.0, -1000.0), 200, 200),
    "UTM 60N across 180": ("EPSG:32660", (650000.0, 1000.0, 0.0, 5100000.0, 0.0, -1000.0), 200, 200),
    "UTM 1N across 180": ("EPSG:32601", (150000.0, 1000.0, 0.0, 5100000.0, 0.0, -1000.0), 200, 200),
    "geographic 179..180": ("EPSG:4326", (179.0, 0.01, 0.0, 45.5, 0.0, -0.01), 100, 100),
    "geographic -180..-179": ("EPSG:4326", (-180.0, 0.01, 0.0, 45.5, 0.0, -0.01), 100, 100),
    "geographic 160..200": (WRAPPED, (160.0, 0.1, 0.0, 50.0, 0.0, -0.1), 400, 100),
    "Pacific-centred mercator": (PACIFIC, (-2000000.0, 10000.0, 0.0, 6000000.0, 0.0, -10000.0), 400, 300),
    # Global grids whose corners lie off the globe, and MODIS tiles (at 1/5 of their resolution) in the
    # middle of the world and at its east and west edges, where part of the tile is off the globe.
    "global sinusoidal": (SINUSOIDAL, (-20015109.354, 50000.0, 0.0, 10007554.677, 0.0, -50000.0), 801, 401),
    "global mollweide": ("ESRI:54009", (-18040095.7, 40000.0, 0.0, 9020047.85, 0.0, -40000.0), 903, 452),
    "global robinson": ("ESRI:54030", (-17005833.33, 40000.0, 0.0, 8625154.47, 0.0, -40000.0), 851, 432),
    "MODIS h10v04": (SINUSOIDAL, (-7783653.638, 4633.125, 0.0, 5559752.598, 0.0, -4633.125), 240, 240),
    "MODIS h35v08": (SINUSOIDAL, (18903158.834, 4633.125, 0.0, 1111950.520, 0.0, -4633.125), 240, 240),
    "MODIS h00v08": (SINUSOIDAL, (-20015109.354, 4633.125, 0.0, 1111950.520, 0.0, -4633.125), 240, 240),
    "UTM 16N (MODIS h10v04)": ("EPSG:32616", (400000.0, 1000.0, 0.0, 5200000.0, 0.0, -1000.0), 300, 300),
    "UTM 1N near the equator across 180": ("EPSG:32601", (150000.0, 1000.0, 0.0, 800000.0, 0.0, -1000.0), 200, 200),
    "geographic 170..190 near the equator": ("EPSG:4326", (170.0, 0.05, 0.0, 10.0, 0.0, -0.05), 400, 200),
    # World grids centred on the Pacific, whose edge is the meridian of Greenwich.
    "global Pacific mercator": (PACIFIC, (-20037508.34, 100000.0, 0.0, 15000000.0, 0.0, -100000.0), 401, 300),
    "global Pacific mollweide": (
        "+proj=moll +lon_0=180 +datum=WGS84 +units=m +no_defs",
        (-18040095.7, 40000.0, 0.0, 9020047.85, 0.0, -40000.0),
        903,
        452,
    ),
    "geographic -10..0": ("EPSG:4326", (-10.0, 0.1, 0.0, 50.0, 0.0, -0.1), 100, 100),
    "geographic -5..5": ("EPSG:4326", (-5.0, 0.1, 0.0, 50.0, 0.0, -0.1), 100, 100),
    # Polar tiles with the pole at a corner or on an edge, as polar mosaics are cut.
    "north polar tile, pole at a corner": ("EPSG:3413", (0.0, 10000.0, 0.0, 1000000.0, 0.0, -10000.0), 100, 100),
    "south polar tile, pole at a corner": ("EPSG:3031", (-1000000.0, 10000.0, 0.0, 0.0, 0.0, -10000.0), 100, 100),
    "north polar tile, pole on an edge": ("EPSG:3413", (-700000.0, 10000.0, 0.0, 1000000.0, 0.0, -10000.0), 100, 100),
}

PAIRS = [
    ("north polar stereographic", "global 4326"),
    ("south polar stereographic", "global 4326"),
    ("UTM 33N near the pole", "north polar stereographic"),
    ("UTM 33S near the pole", "south polar stereographic"),
    ("global 4326", "global equal-area"),
    ("global 4326", "global web mercator"),
    ("global 0..360", "global 4326"),
    ("global 0..360", "global equal-area"),
    ("global 0..360", "UTM 18N (west)"),
    ("global 0..360", "UTM 18S (west)"),
    ("global 0..360", "UTM 33N (east)"),
    ("UTM 60N (west of 180)", "UTM 1N (east of 180)"),
    ("UTM 60N across 180", "UTM 1N across 180"),
    ("geographic 179..180", "UTM 60N (west of 180)"),
    ("geographic 179..180", "UTM 1N across 180"),
    ("geographic -180..-179", "UTM 1N (east of 180)"),
    ("geographic 160..200", "UTM 1N (east of 180)"),
    ("geographic 160..200", "UTM 60N across 180"),
    ("global 4326", "UTM 1N across 180"),
    ("global 4326", "UTM 60N across 180"),
    ("global web mercator", "UTM 1N across 180"),
    ("Pacific-centred mercator", "UTM 1N (east of 180)"),
    ("Pacific-centred mercator", "UTM 60N (west of 180)"),
    ("Pacific-centred mercator", "global 4326"),
    ("Pacific-centred mercator", "global 0..360"),
    ("Pacific-centred mercator", "geographic 160..200"),
    ("global sinusoidal", "global 4326"),
    ("global sinusoidal", "north polar stereographic"),
    ("global mollweide", "global 4326"),
    ("global mollweide", "UTM 33N (east)"),
    ("global robinson", "global 4326"),
    ("global robinson", "north polar stereographic"),
    ("MODIS h10v04", "UTM 16N (MODIS h10v04)"),
    ("MODIS h10v04", "global 4326"),
    ("MODIS h35v08", "global 4326"),
    ("MODIS h35v08", "UTM 1N near the equator across 180"),
    ("MODIS h35v08", "geographic 170..190 near the equator"),
    ("MODIS h00v08", "global 0..360"),
    ("global Pacific mercator", "global 4326"),
    ("global Pacific mercator", "geographic -10..0"),
    ("global Pacific mercator", "geographic -5..5"),
    ("global Pacific mollweide", "global 4326"),
    ("north polar tile, pole at a corner", "global 4326"),
    ("south polar tile, pole at a corner", "global 4326"),
    ("north polar tile, pole on an edge", "global 4326"),
    ("north polar tile, pole at a corner", "UTM 33N near the pole"),
]

#: The grid choices: the index of the raster whose grid both outputs take, or None for each its own.
GRIDS = {"A's grid": 0, "B's grid": 1, "own grids": None}


def write_raster(path, crs, transform, width, height, data=None):
    """A one-band Byte GeoTIFF in ``crs`` (anything GDAL's SetFromUserInput reads), all 7 unless ``data``
    is given (then 0 is nodata)."""
    srs = osr.SpatialReference()
    srs.SetFromUserInput(crs)
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), width, height, 1, gdal.GDT_Byte)
    dataset.SetGeoTransform(transform)
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    if data is None:
        band.Fill(7)
    else:
        band.WriteArray(data)
        band.SetNoDataValue(0)
    dataset = None
    return str(path)


def make(folder, name):
    """The raster ``name`` of RASTERS, in ``folder``."""
    stem = "".join(c if c.isalnum() or c in "-" else "_" for c in name)
    return write_raster(folder / (stem + ".tif"), *RASTERS[name])


def gdalwarp_valid(grid_path, other):
    """The pixels of ``grid_path``'s grid where gdalwarp puts ``other``'s data, as a boolean array."""
    # errorThreshold 0: the exact transformation at every pixel, no approximation across the globe.
    warped = warped_onto(other, grid_path, dstAlpha=True, resampleAlg="near", errorThreshold=0)
    return (warped.GetRasterBand(warped.RasterCount).ReadAsArray() > 0) & on_the_globe(gdal.Open(grid_path))


@contextmanager
def osr_exceptions_off():
    """OSR with exceptions off, as the tests found it after: points that fail to transform come back as inf."""
    if hasattr(osr, "ExceptionMgr"):
        with osr.ExceptionMgr(useExceptions=False):
            yield
        return
    was_on = osr.GetUseExceptions()
    osr.DontUseExceptions()
    try:
        yield
    finally:
        if was_on:
            osr.UseExceptions()


def on_the_globe(grid):
    """The pixels of ``grid`` whose centres show the globe: they come back to themselves from longitude and
    latitude. The corners of a global sinusoidal or Robinson grid do not; PROJ folds them back onto real
    ground elsewhere, and gdalwarp puts data there."""
    x0, dx, _, y0, _, dy = grid.GetGeoTransform()
    cols, rows = np.meshgrid(np.arange(grid.RasterXSize) + 0.5, np.arange(grid.RasterYSize) + 0.5)
    points = np.column_stack([(x0 + cols * dx).ravel(), (y0 + rows * dy).ravel()])
    srs = osr.SpatialReference(wkt=grid.GetProjection())
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    if srs.IsGeographic():
        return np.ones((grid.RasterYSize, grid.RasterXSize), dtype=bool)
    geographic = srs.CloneGeogCS()
    geographic.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    with osr_exceptions_off():
        there = np.array(osr.CoordinateTransformation(srs, geographic).TransformPoints(points))[:, :2]
        back = np.array(osr.CoordinateTransformation(geographic, srs).TransformPoints(there))[:, :2]
    close = np.all(np.abs(back - points) <= 1e-3 * abs(dx), axis=1)
    return close.reshape(grid.RasterYSize, grid.RasterXSize)


def bounding_window(valid):
    """(col_start, row_start, col_stop, row_stop) of the True pixels, or None."""
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    if not len(rows):
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1] + 1), int(rows[-1] + 1)


def gdalwarp_window(grid_path, other):
    """The bounding window of the pixels of ``grid_path``'s grid where gdalwarp puts ``other``'s data."""
    return bounding_window(gdalwarp_valid(grid_path, other))


def split_on_grid(valid):
    """Whether gdalwarp's data on a grid touch its west and east edges with empty columns between: one
    area cut in two by the edge of the grid's CRS."""
    columns = valid.any(axis=0)
    return bool(columns[0] and columns[-1] and not columns.all())


def window_on(path, grid):
    """``grid`` as a window of the raster at ``path``: (col_start, row_start, col_stop, row_stop)."""
    x0, dx, _, y0, _, dy = gdal.Open(path).GetGeoTransform()
    col, row = round((grid.x0 - x0) / dx), round((grid.y0 - y0) / dy)
    return col, row, col + grid.width, row + grid.height


def check_against_gdalwarp(folder, paths, reference):
    """Plan a clip of ``paths`` on ``reference``'s grid (None: each its own) and compare each output grid
    with the window where gdalwarp puts the other raster's data on it; a refusal must be a split area."""
    checked = [reference] if reference is not None else [0, 1]
    valid = {index: gdalwarp_valid(paths[index], paths[1 - index]) for index in checked}
    split = [index for index in checked if split_on_grid(valid[index])]
    outputs = [str(folder / "a_out.tif"), str(folder / "b_out.tif")]
    if not any(valid[index].any() for index in checked):
        with pytest.raises(NoOverlapError):
            plan_clip(paths, outputs, reference, warn=lambda _: None)
        return
    if split:
        with pytest.raises(SplitAreaError, match="crosses the edge of") as caught:
            plan_clip(paths, outputs, reference, warn=lambda _: None)
        names = [os.path.basename(paths[index]) for index in split]
        assert any(f"grid of '{name}'" in str(caught.value) for name in names), str(caught.value)
        return
    try:
        plan = plan_clip(paths, outputs, reference, warn=lambda _: None)
    except NoOverlapError as err:
        pytest.fail(f"refused as no overlap, but gdalwarp puts data there: {err}")
    for index in checked:
        expected = bounding_window(valid[index])
        assert expected is not None
        got = window_on(paths[index], plan.outputs[index].grid)
        # Every edge within one pixel of gdalwarp's: the pixel rule against the warper's own sampling.
        assert max(abs(g - e) for g, e in zip(got, expected)) <= 1, f"output {index}: got {got}, gdalwarp {expected}"
    if reference is not None:
        assert plan.outputs[0].grid == plan.outputs[1].grid


#: Grids on which gdalwarp itself gives no reference for a pair, with the reason: those grid choices
#: are not generated (the others of the pair are).
NO_REFERENCE = {
    ("global Pacific mollweide", "global 4326", "B's grid"): "gdalwarp puts data only in 18 columns of the world",
    ("global Pacific mollweide", "global 4326", "own grids"): "gdalwarp puts data only in 18 columns of the world",
}

CASES = [(a, b, grid) for a, b in PAIRS for grid in GRIDS if (a, b, grid) not in NO_REFERENCE]


@pytest.mark.parametrize("name_a,name_b,grid_choice", CASES, ids=[f"{a} | {b}-{grid}" for a, b, grid in CASES])
def test_the_common_area_matches_gdalwarp(tmp_path, name_a, name_b, grid_choice):
    check_against_gdalwarp(tmp_path, [make(tmp_path, name_a), make(tmp_path, name_b)], GRIDS[grid_choice])


# Random scenes over the globe, every UTM zone, north and south up to 80 degrees of latitude, from the
# middle of a zone to its edges: in zones 1 and 60 a scene may cross the antimeridian, and on the global
# grid its common area is then refused as split (gdalwarp's data touch both edges of the grid).
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from([1, 2, 30, 31, 59, 60]) | st.integers(1, 60),
    north=st.booleans(),
    latitude=st.integers(0, 80),
    easting_km=st.integers(150, 850),
    size_km=st.integers(300, 700),
    grid_choice=st.sampled_from(list(GRIDS)),
)
@example(zone=1, north=True, latitude=45, easting_km=200, size_km=400, grid_choice="A's grid")  # split: refused
@example(zone=60, north=False, latitude=30, easting_km=800, size_km=400, grid_choice="own grids")  # split: refused
@example(zone=1, north=True, latitude=45, easting_km=200, size_km=400, grid_choice="B's grid")  # across 180
def test_random_scenes_against_a_global_grid_match_gdalwarp(
    tmp_path_factory, zone, north, latitude, easting_km, size_km, grid_choice
):
    folder = tmp_path_factory.mktemp("globe")
    northing = (latitude * 110574.0) if north else (10000000.0 - latitude * 110574.0)
    size = max(2, size_km // 5)
    transform = (easting_km * 1000.0 - size_km * 500.0, 5000.0, 0.0, northing + size_km * 500.0, 0.0, -5000.0)
    epsg = (32600 if north else 32700) + zone
    scene = write_raster(folder / "scene.tif", f"EPSG:{epsg}", transform, size, size)
    check_against_gdalwarp(folder, [make(folder, "global 4326"), scene], GRIDS[grid_choice])


def test_a_crs_without_a_code_or_a_name_is_named_by_its_proj_string():
    """Messages name a CRS the user can recognise: a Pacific-centred Mercator has neither code nor name."""
    srs = osr.SpatialReference()
    srs.SetFromUserInput(PACIFIC)
    assert crs_name(crs_from_wkt(srs.ExportToWkt())).startswith("+proj=merc +lon_0=180 ")
    srs.ImportFromEPSG(32601)
    assert crs_name(crs_from_wkt(srs.ExportToWkt())) == "EPSG:32601"


def _zone_area(south, north):
    """The area of the WGS 84 ellipsoid between two latitudes (degrees), in m², from the closed form."""
    a, f = 6378137.0, 1 / 298.257223563
    e = math.sqrt(f * (2 - f))
    b = a * (1 - f)

    def up_to(latitude):
        s = math.sin(math.radians(latitude))
        return math.pi * b**2 * (s / (1 - e**2 * s**2) + math.log((1 + e * s) / (1 - e * s)) / (2 * e))

    return up_to(north) - up_to(south)


@pytest.mark.parametrize(
    "name,south,north,share",
    [
        ("global 4326", -90.0, 90.0, 1.0),
        ("global 0..360", -90.0, 90.0, 1.0),
        # Web Mercator's square world reaches 85.05 degrees; this grid is one 100 km row taller in the south.
        ("global web mercator", -math.degrees(math.atan(math.sinh(20062491.66 / 6378137.0))), 85.0511287798, 1.0),
        ("geographic 160..200", 40.0, 50.0, 40.0 / 360.0),
    ],
)
def test_areas_on_the_ellipsoid_match_the_closed_form_for_zones_of_latitude(tmp_path, name, south, north, share):
    raster = read_raster(make(tmp_path, name))
    footprint = ogr.CreateGeometryFromWkt(footprint_of(raster))
    assert ellipsoidal_area(footprint, raster.crs) == pytest.approx(share * _zone_area(south, north), rel=1e-6)


def test_a_common_area_thinner_than_a_pixel_across_crss_is_refused(tmp_path):
    """A 1 km UTM grid against a geographic raster whose overlap with it is a 200 m sliver: no pixel centre."""
    a = write_raster(tmp_path / "a.tif", "EPSG:32633", (400000.0, 1000.0, 0.0, 5000000.0, 0.0, -1000.0), 200, 200)
    srs_a, geographic = osr.SpatialReference(), osr.SpatialReference()
    srs_a.ImportFromEPSG(32633)
    geographic.ImportFromEPSG(4326)
    for srs in (srs_a, geographic):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    # The east edge of A at its middle row, in longitude: B starts 200 m west of it.
    east, north, _ = osr.CoordinateTransformation(srs_a, geographic).TransformPoint(599800.0, 4900000.0)
    b = write_raster(tmp_path / "b.tif", "EPSG:4326", (east, 0.01, 0.0, north + 0.05, 0.0, -0.01), 100, 10)
    assert gdalwarp_window(a, b) is None
    with pytest.raises(NoOverlapError, match="thinner than one pixel"):
        plan_clip([a, b], [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")], warn=lambda _: None)


def test_rasters_in_one_local_crs_clip_with_areas_left_empty(tmp_path):
    """A site grid (a local, engineering CRS) has no ellipsoid: the clip works, areas on it are unknown."""
    local = 'LOCAL_CS["site grid",UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
    paths = []
    for name, x0 in (("a.tif", 0.0), ("b.tif", 50.0)):
        path = str(tmp_path / name)
        dataset = gdal.GetDriverByName("GTiff").Create(path, 100, 100, 1, gdal.GDT_Byte)
        dataset.SetGeoTransform((x0, 1.0, 0.0, 100.0, 0.0, -1.0))
        dataset.SetProjection(local)
        dataset = None
        paths.append(path)
    plan = plan_clip(paths, [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")], warn=lambda _: None)
    assert plan.outputs[0].grid.transform == (50.0, 1.0, 0.0, 100.0, 0.0, -1.0)
    assert (plan.outputs[0].grid.width, plan.outputs[0].grid.height) == (50, 100)
    summary = overlap_summary(plan)
    assert summary.area == 5000.0 and summary.area_m2 is None


def test_valid_area_on_the_ellipsoid_is_the_same_traced_or_counted(tmp_path):
    """Without the polygon, the valid pixels' area on the ellipsoid is summed row band by row band: on a
    global grid with valid data near the pole and at the equator it equals the traced polygon's."""
    data = np.zeros((180, 360), np.uint8)
    data[:30, :] = 7
    data[89, 0] = 7
    a = write_raster(tmp_path / "a.tif", "EPSG:4326", (-180.0, 1.0, 0.0, 90.0, 0.0, -1.0), 360, 180, data=data)
    b = write_raster(tmp_path / "b.tif", "EPSG:4326", (-180.0, 1.0, 0.0, 90.0, 0.0, -1.0), 360, 180)
    plan = plan_clip([a, b], [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")], area="valid", warn=lambda _: None)
    counted = overlap_summary(plan, whole_inputs=False, trace=False)
    traced = overlap_summary(plan, whole_inputs=False, trace=True)
    assert counted.polygon_wkt == "" and traced.polygon_wkt
    assert counted.area_m2 == pytest.approx(traced.area_m2, rel=1e-5)
    # North of 60 degrees, plus one pixel at the equator: from the closed form.
    assert traced.area_m2 == pytest.approx(_zone_area(60.0, 90.0) + _zone_area(0.0, 1.0) / 360.0, rel=1e-5)


@pytest.mark.parametrize("reference", [0, 1])
@pytest.mark.parametrize("area", ["extents", "valid"])
def test_overlap_numbers_across_the_antimeridian_on_either_grid(tmp_path, reference, area):
    """A geographic raster from 170 to 190 degrees against a UTM zone 1 scene across 180: the overlap is the
    scene's part in the raster, whichever grid the outputs take, and its polygon lies at A's longitudes."""
    a = write_raster(tmp_path / "a.tif", "EPSG:4326", (170.0, 0.05, 0.0, 10.0, 0.0, -0.05), 400, 200)
    b = write_raster(tmp_path / "b.tif", "EPSG:32601", (150000.0, 1000.0, 0.0, 800000.0, 0.0, -1000.0), 200, 200)
    plan = plan_clip(
        [a, b], [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")], reference, area=area, warn=lambda _: None
    )
    summary = overlap_summary(plan, whole_inputs=True)
    scene_m2 = ellipsoidal_area(ogr.CreateGeometryFromWkt(footprint_of(read_raster(b))), plan.rasters[1].crs)
    # B lies wholly inside A: its whole area, to within the pixels of the grid at its edges.
    assert summary.area_m2 == pytest.approx(scene_m2, rel=0.03)
    assert summary.percents[1] == pytest.approx(100.0, abs=3.0) and summary.percents[1] <= 100.0
    whole_a = ellipsoidal_area(ogr.CreateGeometryFromWkt(footprint_of(read_raster(a))), plan.rasters[0].crs)
    assert summary.percents[0] == pytest.approx(100.0 * scene_m2 / whole_a, rel=0.03)
    xmin, xmax, _, _ = ogr.CreateGeometryFromWkt(summary.polygon_wkt).GetEnvelope()
    assert 179.0 < xmin < xmax < 182.0


geographic_boxes = st.builds(
    lambda west, width, south, height: (
        "EPSG:4326",
        (west, 0.25, 0.0, south + height, 0.0, -0.25),
        width * 4,
        height * 4,
    ),
    west=st.integers(-200, 340),
    width=st.integers(1, 50),
    south=st.integers(-89, 80),
    height=st.integers(1, 9),
).filter(lambda box: box[1][3] <= 90.0)
polar_tiles = st.builds(
    lambda epsg, x0, y0, size: (f"EPSG:{epsg}", (x0 * 1000.0, 20000.0, 0.0, y0 * 1000.0, 0.0, -20000.0), size, size),
    epsg=st.sampled_from([3413, 3031]),
    x0=st.integers(-2500, 1500),
    y0=st.integers(-1500, 2500),
    size=st.integers(10, 100),
)


# Random geographic boxes (anywhere in -200..340 degrees of longitude, so across 180 and 0..360 alike)
# and random polar tiles (the pole inside, on an edge, at a corner or outside), against a global grid
# and against each other, on every grid choice, by the same rule as the pairs above.
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=geographic_boxes | polar_tiles,
    second=st.sampled_from(["global 4326", "north polar stereographic", "south polar stereographic"]),
    grid_choice=st.sampled_from(list(GRIDS)),
)
def test_random_boxes_and_polar_tiles_match_gdalwarp(tmp_path_factory, first, second, grid_choice):
    folder = tmp_path_factory.mktemp("globe")
    check_against_gdalwarp(
        folder, [write_raster(folder / "first.tif", *first), make(folder, second)], GRIDS[grid_choice]
    )


def test_an_outline_the_target_crs_cannot_show_is_refused_by_name(tmp_path):
    """A footprint that no trip carries into the target CRS (the far side of the Earth, for a geostationary
    view) is refused as having no common area there, naming the raster and the CRS, never an empty polygon."""
    from overlap_clip_plugin.core.area import _transformed_footprint
    from overlap_clip_plugin.core.gdalenv import gdal_mode

    far_side = write_raster(tmp_path / "far_side.tif", "EPSG:4326", (150.0, 1.0, 0.0, 10.0, 0.0, -1.0), 20, 20)
    srs = osr.SpatialReference()
    srs.SetFromUserInput("+proj=geos +h=35785831 +lon_0=0 +datum=WGS84 +units=m +no_defs")
    geostationary = crs_from_wkt(srs.ExportToWkt())
    # As the plan calls it: with the core's GDAL settings (QGIS 3.40 and later turn OSR's exceptions on).
    with gdal_mode(), pytest.raises(NoOverlapError) as raised:
        _transformed_footprint(read_raster(far_side), geostationary, "disk.tif")
    message = str(raised.value)
    assert message.startswith("'far_side.tif' lies where ")
    assert "the CRS of 'disk.tif', cannot show it (0 of 405 points of its outline" in message
