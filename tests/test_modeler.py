"""A model that chains overlapclip:clippair into a native raster algorithm, saved as .model3 and
run with qgis_process as a user would."""

import json

import numpy as np
from commands import qgis_process
from osgeo import gdal
from qgis.core import (
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterRasterLayer,
)
from rasters import A_TRANSFORM, grid_of, make_raster, read_array

RANGE = 10  # native:cellstatistics: the range of the values, here |A - B|


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
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout[run.stdout.index("{") :])["results"]["change:difference"] == str(output)
    # On the common area (columns 30..99, rows 20..79 of "before"): |after - before| = 0.5 * before + 7.
    assert grid_of(output) == ((500300.0, 10.0, 0.0, 4999800.0, 0.0, -10.0), 70, 60)
    expected = np.abs(after_values - before_values)[20:, 30:]
    np.testing.assert_allclose(read_array(output)[0], expected, rtol=1e-6)
