"""Inputs georeferenced any way GDAL knows: rotated geotransforms, GCPs (polynomial, thin-plate spline), RPCs.

Each is clipped against a north-up scene and its output compared with what gdalwarp makes of the same
raster on the same output grid, with the same transformer.
"""

import numpy as np
import pytest
from feedback import RecordingFeedback
from osgeo import gdal
from rasters import A_TRANSFORM, UTM33, crs_wkt, grid_of, make_raster, read_array, warped_onto

from overlap_clip_plugin.core import clip_pair


def north_up_scene(folder):
    return make_raster(folder / "scene.tif", A_TRANSFORM, 200, 200, nodata=-1)


def rotated(folder):
    """100 x 100 pixels of 10 m, turned by about 10 degrees, inside the scene."""
    angle = np.radians(10.0)
    transform = (
        500500.0,
        10.0 * np.cos(angle),
        10.0 * np.sin(angle),
        4999500.0,
        10.0 * np.sin(angle),
        -10.0 * np.cos(angle),
    )
    values = (np.arange(100 * 100).reshape(100, 100) % 250 + 1).astype(np.float64)
    return make_raster(folder / "rotated.tif", transform, 100, 100, dtype=gdal.GDT_Byte, data=values)


def with_gcps(folder, count=16):
    """A raster placed by ``count`` GCPs only (no geotransform), on a slightly curved ground."""
    path = str(folder / "gcps.tif")
    values = (np.arange(100 * 100).reshape(100, 100) % 250 + 1).astype(np.uint8)
    dataset = gdal.GetDriverByName("GTiff").Create(path, 100, 100, 1, gdal.GDT_Byte)
    dataset.GetRasterBand(1).WriteArray(values)
    side = int(np.sqrt(count))
    gcps = []
    for row in np.linspace(0, 100, side):
        for col in np.linspace(0, 100, side):
            x = 500400.0 + col * 10.0 + 0.002 * (row - 50) ** 2
            y = 4999600.0 - row * 10.0 + 0.002 * (col - 50) ** 2
            gcps.append(gdal.GCP(x, y, 0.0, float(col), float(row)))
    dataset.SetGCPs(gcps, crs_wkt(UTM33))
    dataset = None
    return path


def with_rpcs(folder):
    """A raster placed by a simple RPC model: a north-up mapping of longitude and latitude."""
    path = str(folder / "rpc.tif")
    values = (np.arange(100 * 100).reshape(100, 100) % 250 + 1).astype(np.uint8)
    dataset = gdal.GetDriverByName("GTiff").Create(path, 100, 100, 1, gdal.GDT_Byte)
    dataset.GetRasterBand(1).WriteArray(values)
    zeros = " ".join(["0"] * 20)

    def coefficients(index, value):
        terms = ["0"] * 20
        terms[index] = value
        return " ".join(terms)

    dataset.SetMetadata(
        {
            "LINE_OFF": "50",
            "SAMP_OFF": "50",
            "LAT_OFF": "45.1",
            "LONG_OFF": "15.02",
            "HEIGHT_OFF": "0",
            "LINE_SCALE": "50",
            "SAMP_SCALE": "50",
            "LAT_SCALE": "0.004",
            "LONG_SCALE": "0.006",
            "HEIGHT_SCALE": "1",
            # Normalised: line = -latitude, sample = longitude (terms: 1, L, P, H, ...).
            "LINE_NUM_COEFF": coefficients(2, "-1"),
            "LINE_DEN_COEFF": "1 " + zeros[2:],
            "SAMP_NUM_COEFF": coefficients(1, "1"),
            "SAMP_DEN_COEFF": "1 " + zeros[2:],
        },
        "RPC",
    )
    dataset = None
    return path


def gdalwarp_on(path, grid_path, options=(), resampling="near"):
    """Gdalwarp's own result for ``path`` on the grid of the raster at ``grid_path``."""
    return warped_onto(path, grid_path, resampleAlg=resampling, transformerOptions=list(options)).ReadAsArray()


@pytest.mark.parametrize(
    "make,options,how",
    [
        (rotated, (), "rotated, sheared or south-up geotransform"),
        (with_gcps, ("METHOD=GCP_POLYNOMIAL",), "polynomial GCP transformer"),
        (lambda folder: with_gcps(folder), ("METHOD=GCP_TPS",), "thin-plate-spline GCP transformer"),
    ],
    ids=["rotated", "gcp polynomial", "gcp thin-plate spline"],
)
def test_a_raster_placed_by_a_transformer_clips_against_a_north_up_scene(tmp_path, make, options, how):
    scene = north_up_scene(tmp_path)
    placed = make(tmp_path)
    out_a, out_b = str(tmp_path / "scene_common.tif"), str(tmp_path / "placed_common.tif")
    notes = []
    method = "tps" if "METHOD=GCP_TPS" in options else "polynomial"
    from overlap_clip_plugin.core import plan_clip, write_plan

    plan = plan_clip([scene, placed], [out_a, out_b], gcp_method=method, warn=notes.append)
    write_plan(plan)
    assert any(how in str(note) for note in plan.warnings), plan.warnings
    assert not plan.outputs[1].copied and plan.outputs[1].source.warp_options == options
    # The common area is the placed raster's true footprint on the scene's grid, not the scene.
    (x0, dx, _, y0, _, dy), width, height = grid_of(out_a)
    assert dx == 10.0 and dy == -10.0 and width < 200 and height < 200
    expected = gdalwarp_on(placed, out_a, options)
    np.testing.assert_array_equal(read_array(out_b)[0], expected)
    # Where the warper brings no data (the corners around a turned footprint) the output is masked.
    written = gdal.Open(out_b)
    mask = written.GetRasterBand(1).GetMaskBand().ReadAsArray()
    assert (mask == 0).any() and (mask[expected != 0] == 255).all()


def test_a_raster_placed_by_rpcs_clips_against_a_north_up_scene(tmp_path):
    scene = make_raster(tmp_path / "scene.tif", (15.0, 0.0001, 0.0, 45.11, 0.0, -0.0001), 300, 300, epsg=4326)
    placed = with_rpcs(tmp_path)
    out_a, out_b = str(tmp_path / "scene_common.tif"), str(tmp_path / "rpc_common.tif")
    plan = clip_pair(scene, placed, out_a, out_b)
    assert any("RPC transformer" in str(note) for note in plan.warnings)
    expected = gdalwarp_on(placed, out_a, ("METHOD=RPC",))
    np.testing.assert_array_equal(read_array(out_b)[0], expected)
    assert (expected != 0).mean() > 0.9  # the RPC raster covers the common area, as gdalwarp agrees


def test_a_rotated_raster_as_the_grid_takes_the_grid_gdal_suggests_for_it(tmp_path):
    scene = north_up_scene(tmp_path)
    placed = rotated(tmp_path)
    suggested = gdal.Warp("", placed, format="VRT")
    out_a, out_b = str(tmp_path / "scene_common.tif"), str(tmp_path / "rotated_common.tif")
    clip_pair(scene, placed, out_a, out_b, grid="b")
    (x0, dx, _, y0, _, dy), _, _ = grid_of(out_b)
    sx0, sdx, _, sy0, _, sdy = suggested.GetGeoTransform()
    assert (dx, dy) == (sdx, sdy)
    # On the suggested grid's lattice: whole pixels away from its origin.
    assert abs((x0 - sx0) / sdx - round((x0 - sx0) / sdx)) < 1e-6
    assert abs((y0 - sy0) / sdy - round((y0 - sy0) / sdy)) < 1e-6
    np.testing.assert_array_equal(read_array(out_b)[0], gdalwarp_on(placed, out_b))


def test_the_gcp_transformer_is_chosen_in_the_algorithm_and_logged(provider, tmp_path):
    import processing

    scene = north_up_scene(tmp_path)
    placed = with_gcps(tmp_path)
    out_a, out_b = str(tmp_path / "scene_common.tif"), str(tmp_path / "gcps_common.tif")
    feedback = RecordingFeedback()
    processing.run(
        "overlapclip:clippair",
        {"INPUT_A": scene, "INPUT_B": placed, "GCP_TRANSFORMER": 1, "OUTPUT_A": out_a, "OUTPUT_B": out_b},
        feedback=feedback,
    )
    assert any("thin-plate-spline GCP transformer" in line for line in feedback.warnings), feedback.warnings
    np.testing.assert_array_equal(read_array(out_b)[0], gdalwarp_on(placed, out_a, ("METHOD=GCP_TPS",)))
