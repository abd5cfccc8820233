"""overlapclip:changemap (issue 22) as users run it: processing.run, qgis_process, a model chaining clippair into
it, and the map loaded and styled in a project. The dates are real Landsat content with planted change
(test_change.planted): the map's array is checked against the planted mask, its numbers against the array."""

import json
import os
import re

import numpy as np
import processing
import pytest
from commands import qgis_process
from feedback import RecordingFeedback
from osgeo import gdal
from qgis.core import (
    QgsPalettedRasterRenderer,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelParameter,
    QgsProcessingParameterRasterLayer,
    QgsSingleBandGrayRenderer,
)
from rasters import make_raster, read_array
from shift_data import SHIFT_TRANSFORM
from test_change import planted, rates, write_dates
from test_modeler import child_output, model_output, steps_of

#: 10 m pixels of UTM 33N near its central meridian: 100 m² on the plane, over the scale factor squared on the
#: ellipsoid.
PIXEL_M2 = 100.0 / 0.9996**2
METHOD_PCA, METHOD_MAGNITUDE, METHOD_DIFFERENCE = 0, 1, 2


@pytest.fixture(scope="module")
def dates(tmp_path_factory):
    """The planted pair on one grid (2 bands, 256 x 512, UInt16, nodata 0) and where change was planted."""
    folder = tmp_path_factory.mktemp("dates")
    before, after, truth = planted()
    first, second = write_dates(folder, before, after)
    return first, second, truth, before, after


def run_change(a, b, folder, **params):
    feedback = RecordingFeedback()
    parameters = {"INPUT_A": a, "INPUT_B": b, "OUTPUT": str(folder / "change.tif"), **params}
    return processing.run("overlapclip:changemap", parameters, feedback=feedback), feedback


def assert_numbers(result, labels):
    """The numbers are the map's: its 1s, its valid pixels, their share, their area on the ellipsoid."""
    assert result["CHANGED_PIXELS"] == int((labels == 1).sum())
    assert result["VALID_PIXELS"] == int((labels != 255).sum())
    assert result["CHANGED_PERCENT"] == pytest.approx(100.0 * result["CHANGED_PIXELS"] / result["VALID_PIXELS"])
    assert result["CHANGED_AREA_M2"] == pytest.approx(result["CHANGED_PIXELS"] * PIXEL_M2, rel=1e-3)


def test_pca_kmeans_finds_the_planted_change(provider, dates, tmp_path):
    first, second, truth, _, _ = dates
    result, feedback = run_change(first, second, tmp_path, MAGNITUDE=str(tmp_path / "magnitude.tif"))
    labels = read_array(tmp_path / "change.tif")[0]
    found, alarms = rates(labels, truth)
    assert found >= 0.95 and alarms <= 0.02, (found, alarms)
    assert_numbers(result, labels)
    assert (labels != 255).all()
    dataset = gdal.Open(str(tmp_path / "change.tif"))
    assert dataset.GetGeoTransform() == SHIFT_TRANSFORM
    band = dataset.GetRasterBand(1)
    assert band.DataType == gdal.GDT_Byte and band.GetNoDataValue() == 255
    magnitude = read_array(tmp_path / "magnitude.tif")[0]
    assert magnitude.shape == labels.shape and magnitude[truth].mean() > 5 * magnitude[~truth].mean()
    assert any(line.startswith(f"Changed: {result['CHANGED_PIXELS']} of ") for line in feedback.infos)
    assert "Bands compared: 1, 2." in feedback.infos
    # PCA + k-means sets no threshold in the bands' units: none is reported.
    assert result["THRESHOLD_USED"] is None
    assert not any(line.startswith("Threshold") for line in feedback.infos)


@pytest.mark.parametrize(
    ("params", "detected", "false_alarms"),
    [
        ({"METHOD": METHOD_MAGNITUDE}, 0.99, 0.001),
        ({"METHOD": METHOD_DIFFERENCE}, 0.99, 0.001),
        ({"METHOD": METHOD_DIFFERENCE, "THRESHOLD": 1200.0}, 0.99, 0.001),
    ],
    ids=["magnitude_otsu", "difference_otsu", "difference_threshold"],
)
def test_the_other_methods_find_it_too(provider, dates, tmp_path, params, detected, false_alarms):
    first, second, truth, _, _ = dates
    result, feedback = run_change(first, second, tmp_path, **params)
    labels = read_array(tmp_path / "change.tif")[0]
    found, alarms = rates(labels, truth)
    assert found >= detected and alarms <= false_alarms, (found, alarms)
    assert_numbers(result, labels)
    if "THRESHOLD" in params:
        assert result["THRESHOLD_USED"] == params["THRESHOLD"]
    # Otsu's threshold, in the bands' units: the map's change lies above it.
    assert f"Threshold: {result['THRESHOLD_USED']:.6g}." in feedback.infos
    quantity = np.abs(read_array(first).astype(float) - read_array(second).astype(float))[0]
    if params["METHOD"] == METHOD_DIFFERENCE:
        assert np.array_equal(labels == 1, quantity > result["THRESHOLD_USED"])


def offset_b(folder, after, columns, rows):
    """The later date on A's lattice, ``columns`` east and ``rows`` south: its pixel (0, 0) is A's (rows, columns)."""
    bands, height, width = after.shape
    values = np.clip(np.rint(3000.0 + 600.0 * after), 1, 65535).astype(np.uint16)
    shifted = np.zeros_like(values)
    shifted[:, : height - rows, : width - columns] = values[:, rows:, columns:]
    x, dx, _, y, _, dy = SHIFT_TRANSFORM
    transform = (x + columns * dx, dx, 0.0, y + rows * dy, 0.0, dy)
    return make_raster(
        folder / "after_offset.tif",
        transform,
        width,
        height,
        bands=bands,
        dtype=gdal.GDT_UInt16,
        nodata=0,
        data=shifted,
    )


def finer_b(folder, after):
    """The later date in 5 m pixels (each 10 m pixel as 2 x 2), on A's corner: nearest neighbour onto A's grid
    gives A's pixels back."""
    values = np.clip(np.rint(3000.0 + 600.0 * after), 1, 65535).astype(np.uint16)
    values = values.repeat(2, axis=1).repeat(2, axis=2)
    bands, height, width = values.shape
    x, _, _, y, _, _ = SHIFT_TRANSFORM
    return make_raster(
        folder / "after_5m.tif",
        (x, 5.0, 0.0, y, 0.0, -5.0),
        width,
        height,
        bands=bands,
        dtype=gdal.GDT_UInt16,
        nodata=0,
        data=values,
    )


@pytest.mark.parametrize("case", ["offset", "finer"])
def test_inputs_on_other_grids_are_clipped_onto_a_first(provider, dates, tmp_path, case):
    first, _, truth, _, after = dates
    if case == "offset":
        second = offset_b(tmp_path, after, 30, 20)
        window, shape = np.s_[20:, 30:], (236, 482)
    else:
        second = finer_b(tmp_path, after)
        window, shape = np.s_[:, :], truth.shape
    result, _ = run_change(first, second, tmp_path, OUTPUT_A=str(tmp_path / "a.tif"), OUTPUT_B=str(tmp_path / "b.tif"))
    labels = read_array(tmp_path / "change.tif")[0]
    assert labels.shape == shape
    found, alarms = rates(labels, truth[window])
    assert found >= 0.95 and alarms <= 0.02, (found, alarms)
    assert_numbers(result, labels)
    x, dx, _, y, _, dy = SHIFT_TRANSFORM
    rows, columns = (20, 30) if case == "offset" else (0, 0)
    assert gdal.Open(str(tmp_path / "change.tif")).GetGeoTransform() == (
        x + columns * dx,
        dx,
        0.0,
        y + rows * dy,
        0.0,
        dy,
    )
    # The clipped pair is the one compared: A's values on the common area, B's on A's pixels.
    np.testing.assert_array_equal(read_array(tmp_path / "a.tif"), read_array(first)[(slice(None), *window)])
    assert result["OUTPUT_A"] == str(tmp_path / "a.tif") and result["OUTPUT_B"] == str(tmp_path / "b.tif")


def test_different_band_counts_are_refused_before_anything_is_written(provider, dates, tmp_path):
    first, _, _, _, after = dates
    one_band = write_dates(tmp_path, after[:1], after[:1], names=("x.tif", "after_1.tif"))[1]
    before = sorted(os.listdir(tmp_path))
    outputs = {key: str(tmp_path / f"{key.lower()}.tif") for key in ("OUTPUT_A", "OUTPUT_B", "MAGNITUDE")}
    with pytest.raises(QgsProcessingException) as raised:
        run_change(first, one_band, tmp_path, **outputs)
    assert str(raised.value) == (
        "'before.tif' has 2 bands and 'after_1.tif' has 1; choose the bands to compare, which both must have."
    )
    assert sorted(os.listdir(tmp_path)) == before
    # Band 1 of each is there to compare.
    result, _ = run_change(first, one_band, tmp_path, BANDS=[1])
    assert result["VALID_PIXELS"] == read_array(tmp_path / "change.tif")[0].size


@pytest.mark.parametrize("cancel_at", [20.0, 70.0], ids=["while clipping", "while mapping"])
def test_a_cancel_leaves_nothing_behind(provider, dates, tmp_path, cancel_at):
    first, second, _, _, _ = dates
    folder = tmp_path / "out"
    folder.mkdir()
    outputs = {key: str(folder / f"{key.lower()}.tif") for key in ("OUTPUT_A", "OUTPUT_B", "MAGNITUDE")}
    feedback = RecordingFeedback(cancel_at=cancel_at)
    with pytest.raises(QgsProcessingException):
        processing.run(
            "overlapclip:changemap",
            {"INPUT_A": first, "INPUT_B": second, "OUTPUT": str(folder / "change.tif"), **outputs},
            feedback=feedback,
        )
    assert os.listdir(folder) == []


def test_one_file_named_twice_is_refused(provider, dates, tmp_path):
    first, second, _, _, _ = dates
    with pytest.raises(QgsProcessingException) as raised:
        run_change(first, second, tmp_path, OUTPUT_A=str(tmp_path / "change.tif"))
    assert str(raised.value) == (
        "The change map, its magnitude and the clipped rasters need files of their own; "
        f"'{tmp_path / 'change.tif'}' is named twice."
    )
    assert not (tmp_path / "change.tif").exists()


def test_qgis_process_runs_it_as_a_user_types_it(provider, profile, dates, tmp_path):
    first, second, truth, _, _ = dates
    output = tmp_path / "change.tif"
    run = qgis_process(
        profile,
        "--json",
        "run",
        "overlapclip:changemap",
        "--",
        f"INPUT_A={first}",
        f"INPUT_B={second}",
        f"OUTPUT={output}",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    labels = read_array(output)[0]
    found, alarms = rates(labels, truth)
    assert found >= 0.95 and alarms <= 0.02, (found, alarms)
    assert results["OUTPUT"] == str(output)
    assert_numbers(results, labels)


def clip_then_change_model():
    """Two dates in, clipped as a pair (A's grid, common valid area, nodata set), then mapped."""
    model = QgsProcessingModelAlgorithm("Clip then map change", "Overlap Clip tests")
    clip = QgsProcessingModelChildAlgorithm("overlapclip:clippair")
    clip.setChildId("clip")
    for key, parameter in (("before", "INPUT_A"), ("after", "INPUT_B")):
        model.addModelParameter(QgsProcessingParameterRasterLayer(key, key), QgsProcessingModelParameter(key))
        clip.addParameterSources(parameter, [QgsProcessingModelChildParameterSource.fromModelParameter(key)])
    for parameter, value in (("AREA", 1), ("MASK_COMMON", True), ("SHIFT", True)):
        clip.addParameterSources(parameter, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    clip.setModelOutputs({key.lower(): model_output(key.lower(), "clip", key) for key in ("SHIFT_X", "SHIFT_RELIABLE")})
    model.addChildAlgorithm(clip)
    change = QgsProcessingModelChildAlgorithm("overlapclip:changemap")
    change.setChildId("change")
    change.addParameterSources("INPUT_A", [child_output("clip", "OUTPUT_A")])
    change.addParameterSources("INPUT_B", [child_output("clip", "OUTPUT_B")])
    change.setModelOutputs(
        {
            "change": model_output("change", "change", "OUTPUT"),
            **{key.lower(): model_output(key.lower(), "change", key) for key in ("CHANGED_PIXELS", "CHANGED_AREA_M2")},
        }
    )
    model.addChildAlgorithm(change)
    return model


def test_a_model_chains_clippair_into_changemap(provider, dates, tmp_path):
    first, _, truth, _, after = dates
    second = offset_b(tmp_path, after, 30, 20)
    output = str(tmp_path / "change.tif")
    results, steps = steps_of(clip_then_change_model(), {"before": first, "after": second, "change:change": output})
    labels = read_array(output)[0]
    found, alarms = rates(labels, truth[20:, 30:])
    assert found >= 0.95 and alarms <= 0.02, (found, alarms)
    assert steps["change"]["CHANGED_PIXELS"] == int((labels == 1).sum())
    assert steps["change"]["CHANGED_AREA_M2"] == pytest.approx(steps["change"]["CHANGED_PIXELS"] * PIXEL_M2, rel=1e-3)
    # The shift check of the step before: the pair is registered.
    assert steps["clip"]["SHIFT_RELIABLE"] and abs(steps["clip"]["SHIFT_X"]) < 0.1


def test_the_map_is_loaded_over_the_pair_change_in_red_the_rest_transparent(project, dates, tmp_path):
    first, second, _, _, _ = dates
    processing.runAndLoadResults(
        "overlapclip:changemap",
        {
            "INPUT_A": first,
            "INPUT_B": second,
            "OUTPUT": str(tmp_path / "change.tif"),
            "MAGNITUDE": str(tmp_path / "magnitude.tif"),
            "OUTPUT_A": str(tmp_path / "a.tif"),
            "OUTPUT_B": str(tmp_path / "b.tif"),
        },
        context=QgsProcessingContext(),
    )
    names = [node.layer().name() for node in project.layerTreeRoot().findLayers()]
    assert names == [
        "Change (before to after)",
        "Change magnitude",
        "before (A, common area)",
        "after (B, common area)",
    ], names
    layers = {layer.name(): layer for layer in project.mapLayers().values()}
    renderer = layers["Change (before to after)"].renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer) and renderer.band() == 1
    colours = {int(item.value): item.color for item in renderer.classes()}
    assert colours[1].red() > 200 and colours[1].green() < 60 and colours[1].alpha() == 255
    assert colours[0].alpha() == 0
    # Nodata (255) is no class: drawn transparent.
    assert 255 not in colours
    magnitude = layers["Change magnitude"].renderer()
    assert isinstance(magnitude, QgsSingleBandGrayRenderer)
    values = read_array(tmp_path / "magnitude.tif")[0]
    enhancement = magnitude.contrastEnhancement()
    assert enhancement.minimumValue() == pytest.approx(np.nanmin(values), rel=1e-5)
    assert enhancement.maximumValue() == pytest.approx(np.nanmax(values), rel=1e-5)


def test_every_log_line_and_error_reads_in_chinese(provider, dates, tmp_path):
    from language import english_fragments
    from qgis.PyQt.QtCore import QCoreApplication, QTranslator
    from translations import qm_path

    first, second, _, _, after = dates
    translator = QTranslator()
    assert translator.load(qm_path("zh_CN"))
    QCoreApplication.installTranslator(translator)
    try:
        _, feedback = run_change(first, second, tmp_path, MAGNITUDE=str(tmp_path / "magnitude.tif"))
        one_band = write_dates(tmp_path, after[:1], after[:1], names=("x.tif", "after_1.tif"))[1]
        with pytest.raises(QgsProcessingException) as raised:
            run_change(first, one_band, tmp_path)
    finally:
        QCoreApplication.removeTranslator(translator)
    lines = [line for line in feedback.messages if not line.startswith("Results: ")] + [str(raised.value)]
    for line in lines:
        assert re.search(r"[\u4e00-\u9fff]", line), line
        assert english_fragments(line) == [], line


def test_a_cloud_masked_by_a_clear_sky_rule_adds_no_false_alarm(provider, dates, tmp_path):
    """A bright cloud planted in B where nothing changed: mapped as change unless B's clear-sky rule (an SCL
    companion, class 9 high-probability cloud) makes it nodata, in the clipped pair and in the map."""
    first, _, truth, before, after = dates
    cloud = np.zeros(truth.shape, dtype=bool)
    cloud[20:60, 300:380] = True
    assert not (cloud & truth).any()
    cloudy = after.copy()
    cloudy[:, cloud] += 6.0
    second = write_dates(tmp_path, before, cloudy, names=("unused.tif", "cloudy.tif"))[1]
    scl = np.where(cloud, 9, 4).astype(np.uint8)
    companion = make_raster(
        tmp_path / "scl.tif", SHIFT_TRANSFORM, truth.shape[1], truth.shape[0], dtype=gdal.GDT_Byte, data=scl
    )
    unmasked, _ = run_change(first, second, tmp_path)
    labels = read_array(tmp_path / "change.tif")[0]
    assert (labels[cloud] == 1).mean() > 0.9
    masked, _ = run_change(
        first,
        second,
        tmp_path,
        OUTPUT=str(tmp_path / "clear.tif"),
        QA_B="sentinel-2-scl",
        QA_RASTER_B=companion,
        OUTPUT_B=str(tmp_path / "b.tif"),
    )
    assert (read_array(tmp_path / "b.tif")[:, cloud] == 0).all()  # nodata in the clipped B too

    labels = read_array(tmp_path / "clear.tif")[0]
    assert (labels[cloud] == 255).all() and (labels[~cloud] != 255).all()
    found, alarms = rates(labels[~cloud], truth[~cloud])
    assert found >= 0.95 and alarms <= 0.02, (found, alarms)
    assert masked["VALID_PIXELS"] == truth.size - cloud.sum()
    assert masked["CHANGED_PIXELS"] < unmasked["CHANGED_PIXELS"]
