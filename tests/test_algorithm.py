"""overlapclip:clippair through processing.run, as the toolbox, the modeler and scripts call it."""

import numpy as np
import processing
import pytest
from feedback import RecordingFeedback
from files import listing
from osgeo import gdal
from qgis.core import (
    NULL,
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsDistanceArea,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterEnum,
    QgsProject,
    QgsUnitTypes,
    QgsVectorLayer,
)
from rasters import A_TRANSFORM, assert_copied_from, assert_same_grid, grid_of, make_raster, read_array
from test_modeler import clip_pair_model

from overlap_clip_plugin.processing.compat import ADVANCED, OPTIONAL


@pytest.fixture
def pair(tmp_path):
    a = make_raster(tmp_path / "scene_2020.tif", A_TRANSFORM, 100, 80, bands=2, nodata=-1)
    b = make_raster(tmp_path / "scene_2024.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80, nodata=-1)
    return a, b


def test_algorithm_is_registered_with_its_contract(provider):
    algorithm = QgsApplication.processingRegistry().algorithmById("overlapclip:clippair")
    assert algorithm is not None
    keys = [parameter.name() for parameter in algorithm.parameterDefinitions()]
    assert keys == [
        "INPUT_A",
        "INPUT_B",
        "GRID",
        "AREA",
        "MASK_COMMON",
        "RESAMPLING",
        "OPTIONS",
        "GCP_TRANSFORMER",
        "RPC_DEM",
        "DASK_SCHEDULER",
        "WHOLE_INPUT_PERCENTS",
        "SHIFT",
        "COREGISTER",
        "QA_A",
        "QA_BAND_A",
        "QA_RASTER_A",
        "QA_B",
        "QA_BAND_B",
        "QA_RASTER_B",
        "OUTPUT_A",
        "OUTPUT_B",
        "OVERLAP",
        "SHIFT_WINDOWS",
    ]
    assert [output.name() for output in algorithm.outputDefinitions()] == [
        "OUTPUT_A",
        "OUTPUT_B",
        "OVERLAP",
        "SHIFT_WINDOWS",
        "OVERLAP_AREA",
        "OVERLAP_AREA_M2",
        "PERCENT_A",
        "PERCENT_B",
        "WIDTH",
        "HEIGHT",
        "SHIFT_X",
        "SHIFT_Y",
        "SHIFT_M",
        "SHIFT_RELIABLE",
        "SHIFT_NOTE",
    ]
    grid = algorithm.parameterDefinition("GRID")
    assert isinstance(grid, QgsProcessingParameterEnum)
    assert grid.options() == ["Raster A's grid", "Raster B's grid", "Each raster's own grid"]
    assert grid.defaultValue() == 0
    resampling = algorithm.parameterDefinition("RESAMPLING")
    assert resampling.defaultValue() == 0
    assert resampling.options()[:2] == ["Nearest neighbour", "Bilinear"]
    assert len(resampling.options()) == 12
    assert resampling.flags() & ADVANCED
    assert algorithm.parameterDefinition("OPTIONS").flags() & ADVANCED
    assert algorithm.parameterDefinition("AREA").defaultValue() == 0
    assert algorithm.parameterDefinition("MASK_COMMON").defaultValue() is False
    assert algorithm.parameterDefinition("OVERLAP").flags() & OPTIONAL
    assert "centre" in algorithm.shortHelpString()
    assert provider.icon().isNull() is False


def test_run_writes_both_outputs_on_one_grid_and_logs_the_plan(provider, pair, tmp_path):
    a, b = pair
    out_a, out_b = str(tmp_path / "a_out.tif"), str(tmp_path / "b_out.tif")
    feedback = RecordingFeedback()
    result = processing.run(
        "overlapclip:clippair",
        {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": out_a, "OUTPUT_B": out_b},
        feedback=feedback,
    )
    assert result["OUTPUT_A"] == out_a and result["OUTPUT_B"] == out_b
    # A's output is 40 x 30 pixels of 10 m.
    assert (result["WIDTH"], result["HEIGHT"]) == (40, 30)
    # The overlap is the true intersection of the extents, 396.7 x 296.7 m, not A's snapped 400 x 300 m window;
    # its area on the ellipsoid is the UTM area over the scale factor squared (0.9996 at the central meridian).
    assert result["OVERLAP_AREA"] == pytest.approx(396.7 * 296.7)
    assert result["OVERLAP_AREA_M2"] == pytest.approx(396.7 * 296.7 / 0.9996**2, rel=2e-4)
    assert result["PERCENT_A"] == pytest.approx(100.0 * 396.7 * 296.7 / 800000.0, rel=1e-4)
    assert result["PERCENT_B"] == pytest.approx(100.0 * 396.7 * 296.7 / 800000.0, rel=1e-4)
    assert grid_of(out_a) == ((500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 40, 30)
    assert_same_grid(out_a, out_b)
    assert_copied_from(out_a, a)
    np.testing.assert_array_equal(read_array(out_b)[0], read_array(b)[0][:30, :40])
    log = "\n".join(feedback.infos)
    assert "Common extent in EPSG:32633: [500603.3, 4999200 : 501000, 4999496.7]" in log
    # Sizes in pixels and on the ground, the source window, the method as the dialog names it.
    assert (
        "Output A: 40 x 30 pixels (400 m x 300 m), copied without resampling (40 x 30 pixels from column 60, "
        "row 50 of the source)." in log
    )
    assert "Output B: 40 x 30 pixels (400 m x 300 m), resampled onto the output grid (Nearest neighbour)." in log
    assert "4194304" not in log
    assert feedback.progress_values[-1] == 100.0


def test_grid_modes_resampling_and_options(provider, pair, tmp_path):
    _, b = pair
    a = make_raster(tmp_path / "float.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Float32)
    out_a, out_b = str(tmp_path / "a_out.tif"), str(tmp_path / "b_out.tif")
    processing.run(
        "overlapclip:clippair",
        {
            "INPUT_A": a,
            "INPUT_B": b,
            "GRID": 1,
            "RESAMPLING": 1,
            "OPTIONS": "COMPRESS=LZW|TILED=YES",
            "OUTPUT_A": out_a,
            "OUTPUT_B": out_b,
        },
    )
    assert_same_grid(out_a, out_b)
    assert_copied_from(out_b, b)
    assert grid_of(out_b)[0][0] == 500603.3
    ds = gdal.Open(out_a)
    assert ds.GetMetadata("IMAGE_STRUCTURE")["COMPRESSION"] == "LZW"
    # Bilinear over a third-of-a-pixel shift of an integer ramp gives fractions in Float32.
    values = read_array(out_a)[0]
    assert values.dtype == np.float32
    assert (values[1:-1, 1:-1] != np.round(values[1:-1, 1:-1])).all()

    own_a, own_b = str(tmp_path / "own_a.tif"), str(tmp_path / "own_b.tif")
    processing.run(
        "overlapclip:clippair", {"INPUT_A": a, "INPUT_B": b, "GRID": 2, "OUTPUT_A": own_a, "OUTPUT_B": own_b}
    )
    assert_copied_from(own_a, a)
    assert_copied_from(own_b, b)


def test_results_are_loaded_with_names_that_tell_a_from_b(provider, pair, layer_tree):
    a, b = pair
    project = QgsProject.instance()
    project.removeAllMapLayers()
    result = processing.runAndLoadResults(
        "overlapclip:clippair",
        {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": "TEMPORARY_OUTPUT", "OUTPUT_B": "TEMPORARY_OUTPUT"},
    )
    layers = {layer.name(): layer for layer in project.mapLayers().values()}
    assert sorted(layers) == ["scene_2020 (A, common area)", "scene_2024 (B, common area)"]
    assert layers["scene_2020 (A, common area)"].source() == result["OUTPUT_A"]
    assert layers["scene_2024 (B, common area)"].source() == result["OUTPUT_B"]
    assert layers["scene_2020 (A, common area)"].isValid()
    project.removeAllMapLayers()


def test_core_errors_become_processing_exceptions_and_nothing_is_written(provider, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    out_a, out_b = str(tmp_path / "a_out.tif"), str(tmp_path / "b_out.tif")
    with pytest.raises(QgsProcessingException, match="The rasters do not overlap: 'a.tif' covers"):
        processing.run("overlapclip:clippair", {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": out_a, "OUTPUT_B": out_b})
    with pytest.raises(QgsProcessingException, match="is the input"):
        processing.run("overlapclip:clippair", {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": out_a, "OUTPUT_B": a})
    assert listing(tmp_path) == ["a.tif", "b.tif"]


def test_cancel_from_feedback_stops_and_leaves_nothing(provider, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 2000, 2000, dtype=gdal.GDT_Float32)
    b = make_raster(tmp_path / "b.tif", (500003.3, 10.0, 0.0, 4999996.7, 0.0, -10.0), 2000, 2000)
    feedback = RecordingFeedback(cancel_at=60.0)
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        processing.run(
            "overlapclip:clippair",
            {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": str(tmp_path / "x.tif"), "OUTPUT_B": str(tmp_path / "y.tif")},
            feedback=feedback,
        )
    assert max(feedback.progress_values) < 100.0
    assert listing(tmp_path) == ["a.tif", "b.tif"]


def test_each_run_is_a_fresh_instance(provider, pair, tmp_path):
    """One algorithm object run twice on other inputs: the second run owes nothing to the first."""
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("overlapclip:clippair")
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    a, b = pair
    # C lies 20.33 pixels east and south of A: another common area, 80 x 60 pixels from A's (20, 20).
    c = make_raster(tmp_path / "c.tif", (500203.3, 10.0, 0.0, 4999796.7, 0.0, -10.0), 100, 80, nodata=-1)
    for index, (other, size, origin) in enumerate(((b, (40, 30), (60, 50)), (c, (80, 60), (20, 20)))):
        params = {
            "INPUT_A": a,
            "INPUT_B": other,
            "OUTPUT_A": str(tmp_path / f"a{index}.tif"),
            "OUTPUT_B": str(tmp_path / f"b{index}.tif"),
        }
        result, ok = algorithm.run(params, context, feedback)
        assert ok and (result["OUTPUT_A"], result["OUTPUT_B"]) == (params["OUTPUT_A"], params["OUTPUT_B"])
        assert (result["WIDTH"], result["HEIGHT"]) == size
        (width, height), (col, row) = size, origin
        expected_grid = (500000.0 + 10.0 * col, 10.0, 0.0, 5000000.0 - 10.0 * row, 0.0, -10.0), width, height
        assert grid_of(params["OUTPUT_A"]) == expected_grid
        assert_copied_from(params["OUTPUT_A"], a)
        # Nearest neighbour on a third-of-a-pixel shift: output pixel (r, c) is the other's pixel (r, c).
        np.testing.assert_array_equal(read_array(params["OUTPUT_B"]), read_array(other)[:, :height, :width])
    fresh = algorithm.createInstance()
    assert type(fresh) is type(algorithm) and fresh is not algorithm


def test_runs_as_a_step_of_a_model(provider, pair, tmp_path):
    model = clip_pair_model("clip pair model", ("first", "second"), ("OUTPUT_A", "OUTPUT_B"), GRID=2)
    a, b = pair
    out_a, out_b = str(tmp_path / "model_a.tif"), str(tmp_path / "model_b.tif")
    result = processing.run(model, {"first": a, "second": b, "clip:output_a": out_a, "clip:output_b": out_b})
    assert result["clip:output_a"] == out_a
    assert_copied_from(out_a, a)
    assert_copied_from(out_b, b)


def test_valid_area_mask_and_overlap_outputs(provider, tmp_path):
    from qgis.core import QgsVectorLayer

    a_values = np.full((80, 100), 5, dtype=np.int16)
    a_values[:, :20] = -1  # A's west collar
    b_values = np.full((80, 100), 9, dtype=np.int16)
    b_values[60:, :] = -1  # B's south collar
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1, data=a_values)
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, nodata=-1, data=b_values)
    out_a, out_b, overlap = str(tmp_path / "a_out.tif"), str(tmp_path / "b_out.tif"), str(tmp_path / "overlap.gpkg")
    feedback = RecordingFeedback()
    result = processing.run(
        "overlapclip:clippair",
        {
            "INPUT_A": a,
            "INPUT_B": b,
            "AREA": 1,
            "MASK_COMMON": True,
            "WHOLE_INPUT_PERCENTS": True,
            "OUTPUT_A": out_a,
            "OUTPUT_B": out_b,
            "OVERLAP": overlap,
        },
        feedback=feedback,
    )
    # Valid in both: columns 20..99, rows 0..59.
    assert grid_of(out_a) == ((500200.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 80, 60)
    assert (result["WIDTH"], result["HEIGHT"]) == (80, 60)
    assert result["OVERLAP_AREA"] == pytest.approx(80 * 60 * 100.0)
    assert result["PERCENT_A"] == pytest.approx(100.0 * 4800 / 6400)
    assert result["PERCENT_B"] == pytest.approx(100.0 * 4800 / 6000)
    np.testing.assert_array_equal(read_array(out_a)[0], 5)
    np.testing.assert_array_equal(read_array(out_b)[0], 9)
    assert any("Footprints: valid data read from GDAL's masks" in info for info in feedback.infos)

    layer = QgsVectorLayer(result["OVERLAP"], "overlap", "ogr")
    assert layer.isValid() and layer.featureCount() == 1
    assert layer.crs().authid() == "EPSG:32633"
    feature = next(layer.getFeatures())
    assert feature.geometry().area() == pytest.approx(4800 * 100.0)
    assert feature["area"] == pytest.approx(4800 * 100.0)
    assert feature["percent_a"] == pytest.approx(75.0)
    assert feature["percent_b"] == pytest.approx(80.0)
    assert (feature["width"], feature["height"]) == (80, 60)


def test_mask_common_refusal_is_a_processing_error(provider, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1)
    b = make_raster(tmp_path / "b.tif", (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0), 100, 80, nodata=-1)
    with pytest.raises(QgsProcessingException, match="needs grids that coincide"):
        processing.run(
            "overlapclip:clippair",
            {
                "INPUT_A": a,
                "INPUT_B": b,
                "GRID": 2,
                "MASK_COMMON": True,
                "OUTPUT_A": str(tmp_path / "x.tif"),
                "OUTPUT_B": str(tmp_path / "y.tif"),
            },
        )
    assert listing(tmp_path) == ["a.tif", "b.tif"]


SKIPPED_OVERLAP = {
    "left out": {},
    "None": {"OVERLAP": None},
    "empty string": {"OVERLAP": ""},
    "empty definition (batch dialog)": "definition",
}


@pytest.mark.parametrize("given", list(SKIPPED_OVERLAP), ids=list(SKIPPED_OVERLAP))
def test_an_optional_output_left_empty_is_skipped(provider, pair, tmp_path, given):
    from qgis.core import QgsProcessingOutputLayerDefinition

    extra = SKIPPED_OVERLAP[given]
    if extra == "definition":
        extra = {"OVERLAP": QgsProcessingOutputLayerDefinition("")}
    out_a, out_b = str(tmp_path / "a_out.tif"), str(tmp_path / "b_out.tif")
    result = processing.run(
        "overlapclip:clippair", {"INPUT_A": pair[0], "INPUT_B": pair[1], "OUTPUT_A": out_a, "OUTPUT_B": out_b, **extra}
    )
    assert result.get("OVERLAP") in (None, "")
    assert_same_grid(out_a, out_b)
    assert_copied_from(out_a, pair[0])
    assert result["OVERLAP_AREA"] == pytest.approx(396.7 * 296.7)
    # Nothing else written (QGIS itself caches statistics beside the inputs it loads).
    written = [name for name in listing(tmp_path) if not name.startswith("scene_")]
    assert written == ["a_out.tif", "b_out.tif"]


def test_a_layer_source_with_gdal_open_options_is_read_with_them(provider, tmp_path):
    """``a.tif|option:GEOREF_SOURCES=WORLDFILE,INTERNAL``: QGIS reads the world file, and so must the clip."""
    from qgis.core import QgsRasterLayer

    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    # The world file puts the raster 200 m east of its internal georeference (pixel centre of the corner).
    (tmp_path / "a.tfw").write_text("10\n0\n0\n-10\n500205\n4999995\n")
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 300, 80)
    layer = QgsRasterLayer(f"{a}|option:GEOREF_SOURCES=WORLDFILE,INTERNAL", "a with world file", "gdal")
    assert layer.isValid() and layer.extent().xMinimum() == 500200.0
    out_a, out_b = str(tmp_path / "a_out.tif"), str(tmp_path / "b_out.tif")
    processing.run("overlapclip:clippair", {"INPUT_A": layer, "INPUT_B": b, "OUTPUT_A": out_a, "OUTPUT_B": out_b})
    assert grid_of(out_a) == ((500200.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 100, 80)
    np.testing.assert_array_equal(read_array(out_a), read_array(a))
    np.testing.assert_array_equal(read_array(out_b)[0], read_array(b)[0][:, 20:120])


def test_valid_area_percentages_are_counted_only_when_asked_for(provider, tmp_path, scanned_rows):
    """Counting the inputs' valid pixels reads them whole: without WHOLE_INPUT_PERCENTS only the overlap is read."""
    from qgis.core import QgsVectorLayer

    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, nodata=-1)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80, nodata=-1)
    overlap = str(tmp_path / "overlap.gpkg")
    parameters = {
        "INPUT_A": a,
        "INPUT_B": b,
        "AREA": 1,
        "OUTPUT_A": str(tmp_path / "a_out.tif"),
        "OUTPUT_B": str(tmp_path / "b_out.tif"),
        "OVERLAP": overlap,
    }
    feedback = RecordingFeedback()
    result = processing.run("overlapclip:clippair", parameters, feedback=feedback)
    assert result["PERCENT_A"] is None and result["PERCENT_B"] is None
    assert result["OVERLAP_AREA"] == 40 * 30 * 100.0
    assert sum(scanned_rows) == 30  # the common extent's rows only, never the whole inputs
    assert any("was not counted" in info for info in feedback.infos)
    feature = next(QgsVectorLayer(result["OVERLAP"], "overlap", "ogr").getFeatures())
    assert feature["area"] == 40 * 30 * 100.0 and feature["percent_a"] in (None, NULL)
    scanned_rows.clear()
    counted = processing.run("overlapclip:clippair", {**parameters, "WHOLE_INPUT_PERCENTS": True, "OVERLAP": None})
    assert counted["PERCENT_A"] == pytest.approx(100.0 * 1200 / 8000)
    assert sum(scanned_rows) == 30 + 80 + 80  # and then each input whole, once


@pytest.mark.parametrize("grid", [0, 1, 2])
def test_a_raster_inside_another_in_another_crs_is_all_overlap_on_every_grid(provider, tmp_path, grid):
    """B (Web Mercator) lies wholly inside A (UTM): PERCENT_B is 100 whatever the grid, and the areas on the
    ellipsoid are what QGIS's measuring tools give for the polygon."""
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (1670400.0, 15.0, 0.0, 5645400.0, 0.0, -15.0), 20, 20, epsg=3857)
    result = processing.run(
        "overlapclip:clippair",
        {
            "INPUT_A": a,
            "INPUT_B": b,
            "GRID": grid,
            "OUTPUT_A": str(tmp_path / "a_out.tif"),
            "OUTPUT_B": str(tmp_path / "b_out.tif"),
            "OVERLAP": str(tmp_path / "overlap.gpkg"),
        },
    )
    assert result["PERCENT_B"] == pytest.approx(100.0, abs=1e-3) and result["PERCENT_B"] <= 100.0
    layer = QgsVectorLayer(result["OVERLAP"], "overlap", "ogr")
    feature = next(layer.getFeatures())
    measure = QgsDistanceArea()
    measure.setSourceCrs(layer.crs(), QgsProject.instance().transformContext())
    measure.setEllipsoid("EPSG:7030")
    assert feature["area_m2"] == pytest.approx(measure.measureArea(feature.geometry()), rel=1e-4)
    assert feature["area_m2"] == pytest.approx(result["OVERLAP_AREA_M2"])
    assert feature["area_km2"] == pytest.approx(result["OVERLAP_AREA_M2"] / 1e6)
    assert feature["area"] == pytest.approx(feature.geometry().area())
    # B's 300 x 300 m in Web Mercator at 45 degrees north are about 212 x 212 m on the ground.
    assert 0.95 < result["OVERLAP_AREA_M2"] / (300.0 * 300.0 / 1.414**2) < 1.05


def test_the_log_gives_sizes_in_the_units_of_the_crs(provider, tmp_path):
    """A geographic pair: output sizes in pixels and in degrees."""
    a = make_raster(tmp_path / "a.tif", (10.0, 0.01, 0.0, 50.0, 0.0, -0.01), 100, 80, epsg=4326)
    b = make_raster(tmp_path / "b.tif", (10.5, 0.01, 0.0, 49.8, 0.0, -0.01), 100, 80, epsg=4326)
    feedback = RecordingFeedback()
    processing.run(
        "overlapclip:clippair",
        {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": str(tmp_path / "x.tif"), "OUTPUT_B": str(tmp_path / "y.tif")},
        feedback=feedback,
    )
    degrees = QgsUnitTypes.toAbbreviatedString(QgsCoordinateReferenceSystem("EPSG:4326").mapUnits())
    expected = f"Output A: 50 x 60 pixels (0.5 {degrees} x 0.6 {degrees}), copied"
    assert any(info.startswith(expected) for info in feedback.infos), feedback.infos
