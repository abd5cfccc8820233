"""Models with overlapclip:clippair in them, as the graphical modeler builds and runs them: chained into a native
raster algorithm, saved as .model3 and run with qgis_process as a user would; the shift between two dates as the
model's outputs and a downstream step's input, and a co-registration checked by a second estimate in the same
model."""

import json

import numpy as np
import processing
import pytest
from commands import qgis_process
from osgeo import gdal
from qgis.core import (
    Qgis,
    QgsProcessingContext,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterRasterLayer,
    QgsProject,
)
from rasters import A_TRANSFORM, assert_copied_from, grid_of, make_raster, read_array
from shift_data import write_pair

RANGE = 10  # native:cellstatistics: the range of the values, here |A - B|
CUBIC = 2  # clippair's RESAMPLING: cubic moves a fraction of a pixel too
FLOAT64 = 6  # native:createconstantrasterlayer's OUTPUT_TYPE
#: The map of the shift: shift_data's pairs (10240 m a side) in 10 x 10 pixels.
SHIFT_MAP_PIXEL = 1024.0
#: The clipped rasters and the shift's outputs of clippair, as model outputs.
SHIFT_OUTPUTS = ("OUTPUT_A", "OUTPUT_B", "SHIFT_X", "SHIFT_Y", "SHIFT_M", "SHIFT_RELIABLE", "SHIFT_NOTE")


def model_output(name, child_id, output_name):
    """The output ``output_name`` of the model's step ``child_id`` as the model's output ``name``."""
    output = QgsProcessingModelOutput(name)
    output.setChildId(child_id)
    output.setChildOutputName(output_name)
    return output


def clip_pair_model(name, inputs, outputs=(), **values):
    """A model ``name`` whose two raster parameters ``inputs`` are INPUT_A and INPUT_B of an
    overlapclip:clippair step ``clip``; ``values`` are fixed values of its other parameters, and each of its
    ``outputs`` is a model output, named in lower case."""
    model = QgsProcessingModelAlgorithm(name, "Overlap Clip tests")
    clip = QgsProcessingModelChildAlgorithm("overlapclip:clippair")
    clip.setChildId("clip")
    for key, parameter in zip(inputs, ("INPUT_A", "INPUT_B")):
        model.addModelParameter(QgsProcessingParameterRasterLayer(key, key), QgsProcessingModelParameter(key))
        clip.addParameterSources(parameter, [QgsProcessingModelChildParameterSource.fromModelParameter(key)])
    for parameter, value in values.items():
        clip.addParameterSources(parameter, [QgsProcessingModelChildParameterSource.fromStaticValue(value)])
    clip.setModelOutputs({key.lower(): model_output(key.lower(), "clip", key) for key in outputs})
    model.addChildAlgorithm(clip)
    return model


def change_model():
    """Two dates in, their absolute difference on A's grid over the common area out."""
    model = clip_pair_model("Change between two dates", ("before", "after"))

    change = QgsProcessingModelChildAlgorithm("native:cellstatistics")
    change.setChildId("change")
    change.addParameterSources(
        "INPUT",
        [
            QgsProcessingModelChildParameterSource.fromChildOutput("clip", "OUTPUT_A"),
            QgsProcessingModelChildParameterSource.fromChildOutput("clip", "OUTPUT_B"),
        ],
    )
    change.addParameterSources("STATISTIC", [QgsProcessingModelChildParameterSource.fromStaticValue(RANGE)])
    change.addParameterSources(
        "REFERENCE_LAYER", [QgsProcessingModelChildParameterSource.fromChildOutput("clip", "OUTPUT_A")]
    )
    change.setModelOutputs({"difference": model_output("difference", "change", "OUTPUT")})
    model.addChildAlgorithm(change)
    return model


def results_of(run):
    """The results of a ``qgis_process --json`` run that succeeded."""
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout[run.stdout.index("{") :])["results"]


def test_model3_file_runs_with_qgis_process(provider, profile, tmp_path):
    before_values = np.arange(8000, dtype=np.float32).reshape(80, 100)
    after_values = before_values * 1.5 + 7
    before = make_raster(tmp_path / "before.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Float32, data=before_values)
    # The later scene on the same lattice, 30 columns east and 20 rows south.
    after_transform = (500300.0, 10.0, 0.0, 4999800.0, 0.0, -10.0)
    after_full = np.zeros((80, 100), dtype=np.float32)
    after_full[:60, :70] = after_values[20:, 30:]
    after = make_raster(tmp_path / "after.tif", after_transform, 100, 80, dtype=gdal.GDT_Float32, data=after_full)

    model_path = tmp_path / "change.model3"
    assert change_model().toFile(str(model_path))
    output = tmp_path / "difference.tif"
    run = qgis_process(
        profile,
        "--json",
        "run",
        str(model_path),
        "--",
        f"before={before}",
        f"after={after}",
        f"change:difference={output}",
    )
    assert results_of(run)["change:difference"] == str(output)
    # On the common area (columns 30..99, rows 20..79 of "before"): |after - before| = 0.5 * before + 7.
    assert grid_of(output) == ((500300.0, 10.0, 0.0, 4999800.0, 0.0, -10.0), 70, 60)
    expected = np.abs(after_values - before_values)[20:, 30:]
    np.testing.assert_allclose(read_array(output)[0], expected, rtol=1e-6)


def steps_of(model, parameters):
    """Run ``model``: its results, and each step's numbers and texts by step and output name. QGIS 3.38 and
    later keep every step's outputs in the context (and report only files among the model's results); before,
    the steps' outputs declared as model outputs are the only record (``clip:shift_x``)."""
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    results = processing.run(model, parameters, context=context)
    if Qgis.versionInt() >= 33800:
        steps = {step: dict(done.outputs()) for step, done in context.modelResult().childResults().items()}
    else:
        steps = {}
        for key, value in results.items():
            step, _, name = key.partition(":")
            steps.setdefault(step, {})[name.upper()] = value
    return results, steps


def child_output(child_id, output_name):
    """A step's parameter source: the output ``output_name`` of the step ``child_id``."""
    return QgsProcessingModelChildParameterSource.fromChildOutput(child_id, output_name)


def static(value):
    """A step's parameter source: the fixed ``value``."""
    return QgsProcessingModelChildParameterSource.fromStaticValue(value)


def shift_map_model():
    """Two dates in; both clipped, the shift of the second against the first, and a map of it out: a raster over
    the common area holding the shift east, made by a native step from clippair's SHIFT_X."""
    model = clip_pair_model("Shift between two dates", ("reference", "other"), SHIFT_OUTPUTS, SHIFT=True)
    shift_map = QgsProcessingModelChildAlgorithm("native:createconstantrasterlayer")
    shift_map.setChildId("shift_map")
    sources = {
        "EXTENT": child_output("clip", "OUTPUT_A"),
        "TARGET_CRS": child_output("clip", "OUTPUT_A"),
        "PIXEL_SIZE": static(SHIFT_MAP_PIXEL),
        "NUMBER": child_output("clip", "SHIFT_X"),
        "OUTPUT_TYPE": static(FLOAT64),
    }
    for key, source in sources.items():
        shift_map.addParameterSources(key, [source])
    shift_map.setModelOutputs({"shift_east": model_output("shift_east", "shift_map", "OUTPUT")})
    model.addChildAlgorithm(shift_map)
    return model


def test_a_model_gives_the_shift_as_its_outputs_and_feeds_it_to_the_next_step(provider, profile, tmp_path):
    reference, other = write_pair(tmp_path, 1.3, -0.7)
    model_path = tmp_path / "shift.model3"
    assert shift_map_model().toFile(str(model_path))
    shift_map = tmp_path / "shift_east.tif"
    results = results_of(
        qgis_process(
            profile,
            "--json",
            "run",
            str(model_path),
            "--",
            f"reference={reference}",
            f"other={other}",
            f"clip:output_a={tmp_path / 'a.tif'}",
            f"clip:output_b={tmp_path / 'b.tif'}",
            f"shift_map:shift_east={shift_map}",
        )
    )
    # The next step got the shift east as its number: the map over the common area holds it everywhere.
    assert results["shift_map:shift_east"] == str(shift_map)
    assert grid_of(shift_map) == ((500000.0, 1024.0, 0.0, 5000000.0, 0.0, -1024.0), 10, 10)
    east = read_array(shift_map)
    assert east[0, 0, 0] == pytest.approx(1.3, abs=0.05)
    np.testing.assert_array_equal(east, np.full((1, 10, 10), east[0, 0, 0]))
    if Qgis.versionInt() < 33800:
        # QGIS 3.22 also reports the step's numbers among the model's results (3.40 and 3.44 only its files).
        assert (results["clip:shift_x"], results["clip:shift_y"]) == pytest.approx((1.3, -0.7), abs=0.05)
        assert results["clip:shift_m"] == pytest.approx(10.0 * np.hypot(1.3, 0.7), abs=0.5)
        assert results["clip:shift_reliable"] is True and results["clip:shift_note"] == ""
        assert results["clip:shift_x"] == east[0, 0, 0]


def test_a_model_says_why_the_shift_of_unrelated_dates_is_not_estimated(provider, tmp_path):
    reference, other = write_pair(tmp_path, 0.5, 0.5, other_seed=7)
    model = clip_pair_model("Shift between two dates", ("reference", "other"), SHIFT_OUTPUTS, SHIFT=True)
    outputs = {"clip:output_a": str(tmp_path / "a.tif"), "clip:output_b": str(tmp_path / "b.tif")}
    results, steps = steps_of(model, {"reference": reference, "other": other, **outputs})
    clip = steps["clip"]
    assert clip["SHIFT_RELIABLE"] is False
    assert clip["SHIFT_X"] is None and clip["SHIFT_Y"] is None and clip["SHIFT_M"] is None
    assert clip["SHIFT_NOTE"].startswith("The rasters' content does not match"), clip["SHIFT_NOTE"]
    # The clip itself is done: a copy of each input, there being no offset between their grids.
    assert [results[key] for key in outputs] == list(outputs.values())
    assert_copied_from(outputs["clip:output_a"], reference)
    assert_copied_from(outputs["clip:output_b"], other)


def test_a_model_coregisters_and_a_second_estimate_in_it_finds_the_shift_gone(provider, tmp_path):
    """A clippair step with COREGISTER (cubic) feeds its outputs to a second one with SHIFT: the first finds the
    true shift, the second under 0.1 pixel."""
    reference, other = write_pair(tmp_path, 1.3, -0.7)
    model = clip_pair_model(
        "Co-register two dates", ("reference", "other"), SHIFT_OUTPUTS, COREGISTER=True, RESAMPLING=CUBIC
    )
    check = QgsProcessingModelChildAlgorithm("overlapclip:clippair")
    check.setChildId("check")
    for parameter, output_name in (("INPUT_A", "OUTPUT_A"), ("INPUT_B", "OUTPUT_B")):
        check.addParameterSources(parameter, [child_output("clip", output_name)])
    check.addParameterSources("SHIFT", [static(True)])
    check.setModelOutputs({key.lower(): model_output(key.lower(), "check", key) for key in SHIFT_OUTPUTS[2:]})
    model.addChildAlgorithm(check)

    _results, steps = steps_of(
        model,
        {
            "reference": reference,
            "other": other,
            "clip:output_a": str(tmp_path / "a.tif"),
            "clip:output_b": str(tmp_path / "b.tif"),
        },
    )
    clip, check = steps["clip"], steps["check"]
    assert clip["SHIFT_RELIABLE"] is True
    assert (clip["SHIFT_X"], clip["SHIFT_Y"]) == pytest.approx((1.3, -0.7), abs=0.05)
    assert check["SHIFT_RELIABLE"] is True, check["SHIFT_NOTE"]
    residual = (check["SHIFT_X"], check["SHIFT_Y"])
    assert max(abs(value) for value in residual) < 0.1, residual
