"""How the outputs reach the map, as the toolbox loads them (processing.runAndLoadResults): drawn as their
inputs, A and B with one stretch, the overlap as an outline on top, a stack in one group."""

import processing
import pytest
from feedback import RecordingFeedback
from qgis.core import (
    QgsContrastEnhancement,
    QgsExpressionContext,
    QgsLayerTreeGroup,
    QgsMultiBandColorRenderer,
    QgsProcessingException,
    QgsRasterLayer,
    QgsSingleBandGrayRenderer,
    QgsSingleSymbolRenderer,
)
from qgis.PyQt.QtCore import Qt
from rasters import sample_dates, sample_pair
from shift_data import write_pair

from overlap_clip_plugin.processing.compat import gray_band

STRETCH = QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum


def limits(layer):
    """The min/max of each band the layer's renderer stretches."""
    renderer = layer.renderer()
    if isinstance(renderer, QgsMultiBandColorRenderer):
        enhancements = [
            renderer.redContrastEnhancement(),
            renderer.greenContrastEnhancement(),
            renderer.blueContrastEnhancement(),
        ]
    else:
        enhancements = [renderer.contrastEnhancement()]
    return [(e.minimumValue(), e.maximumValue()) for e in enhancements]


def by_name(project):
    return {layer.name(): layer for layer in project.mapLayers().values()}


def tree_order(project):
    """Layer names in the layer tree, top first, with groups as (name, [children])."""

    def walk(group):
        return [
            (child.name(), walk(child)) if isinstance(child, QgsLayerTreeGroup) else child.layer().name()
            for child in group.children()
        ]

    return walk(project.layerTreeRoot())


def gray(layer, band, low, high):
    """Draw ``layer`` as one grey band stretched from ``low`` to ``high``."""
    renderer = QgsSingleBandGrayRenderer(layer.dataProvider(), band)
    enhancement = QgsContrastEnhancement(layer.dataProvider().dataType(band))
    enhancement.setContrastEnhancementAlgorithm(STRETCH)
    enhancement.setMinimumValue(low)
    enhancement.setMaximumValue(high)
    renderer.setContrastEnhancement(enhancement)
    layer.setRenderer(renderer)


def run_pair(a, b, folder, **params):
    feedback = RecordingFeedback()
    processing.runAndLoadResults(
        "overlapclip:clippair",
        dict(
            {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": str(folder / "a.tif"), "OUTPUT_B": str(folder / "b.tif")}, **params
        ),
        feedback=feedback,
    )
    return feedback


def test_a_and_b_on_one_grid_share_one_stretch_from_both(project, tmp_path):
    a, b = sample_dates(tmp_path)
    feedback = run_pair(a, b, tmp_path)
    layers = by_name(project)
    out_a, out_b = layers["date_2020 (A, common area)"], layers["date_2024 (B, common area)"]
    assert isinstance(out_a.renderer(), QgsMultiBandColorRenderer)
    # Each output on its own, as QGIS would stretch it.
    own_a = limits(QgsRasterLayer(str(tmp_path / "a.tif"), "a"))
    own_b = limits(QgsRasterLayer(str(tmp_path / "b.tif"), "b"))
    # B's bright new patch widens its stretch: alone, the two would be drawn differently.
    assert own_a != own_b
    shared = [(min(x[0], y[0]), max(x[1], y[1])) for x, y in zip(own_a, own_b)]
    assert limits(out_a) == limits(out_b) == shared
    assert any("share one stretch" in line and "band 1" in line for line in feedback.infos), feedback.infos


def test_outputs_on_their_own_grids_keep_their_own_stretch(project, tmp_path):
    a, b = sample_dates(tmp_path)
    run_pair(a, b, tmp_path, GRID=2)
    layers = by_name(project)
    assert limits(layers["date_2020 (A, common area)"]) == limits(QgsRasterLayer(str(tmp_path / "a.tif"), "a"))
    assert limits(layers["date_2024 (B, common area)"]) == limits(QgsRasterLayer(str(tmp_path / "b.tif"), "b"))


def test_outputs_take_the_style_of_input_layers_in_the_project(project, tmp_path):
    a, b = sample_dates(tmp_path)
    layer_a, layer_b = QgsRasterLayer(a, "before"), QgsRasterLayer(b, "after")
    gray(layer_a, 2, 1000.0, 5000.0)
    gray(layer_b, 2, 1500.0, 7000.0)
    layer_a.setOpacity(0.5)
    project.addMapLayers([layer_a, layer_b])
    run_pair(layer_a.id(), layer_b.id(), tmp_path, GRID=2)
    layers = by_name(project)
    out_a, out_b = layers["before (A, common area)"], layers["after (B, common area)"]
    for out, band, expected, opacity in ((out_a, 2, (1000.0, 5000.0), 0.5), (out_b, 2, (1500.0, 7000.0), 1.0)):
        assert isinstance(out.renderer(), QgsSingleBandGrayRenderer)
        assert gray_band(out.renderer()) == band
        assert limits(out) == [expected]
        assert out.opacity() == opacity
    # On one grid the copied stretches become one.
    run_pair(layer_a.id(), layer_b.id(), tmp_path, OUTPUT_A=str(tmp_path / "a1.tif"), OUTPUT_B=str(tmp_path / "b1.tif"))
    one = [layer for layer in project.mapLayers().values() if layer.source().endswith(("a1.tif", "b1.tif"))]
    assert len(one) == 2
    assert limits(one[0]) == limits(one[1]) == [(1000.0, 7000.0)]


def test_a_different_band_layout_is_not_stretched_alike(project, tmp_path):
    a, b = sample_pair(tmp_path)  # a 3-band image and a one-band elevation model
    feedback = run_pair(a, b, tmp_path)
    layers = by_name(project)
    assert isinstance(layers["sample_a (A, common area)"].renderer(), QgsMultiBandColorRenderer)
    assert isinstance(layers["sample_b (B, common area)"].renderer(), QgsSingleBandGrayRenderer)
    assert limits(layers["sample_b (B, common area)"]) == limits(QgsRasterLayer(str(tmp_path / "b.tif"), "b"))
    assert not any("share one stretch" in line for line in feedback.infos)


def test_the_overlap_is_an_outline_above_the_rasters_and_only_when_asked_for(project, tmp_path):
    a, b = sample_dates(tmp_path)
    run_pair(a, b, tmp_path)
    assert len(project.mapLayers()) == 2  # no polygon unless asked for
    project.removeAllMapLayers()
    run_pair(a, b, tmp_path, OVERLAP=str(tmp_path / "overlap.gpkg"))
    order = tree_order(project)
    assert len(order) == 3
    assert order[1:] == ["date_2020 (A, common area)", "date_2024 (B, common area)"]
    outline = by_name(project)[order[0]]
    renderer = outline.renderer()
    assert isinstance(renderer, QgsSingleSymbolRenderer)
    fill = renderer.symbol().symbolLayer(0)
    assert fill.brushStyle() == Qt.BrushStyle.NoBrush  # nothing drawn inside
    assert fill.strokeWidth() > 0 and fill.strokeColor().alpha() == 255


def stack(folder):
    a, b = sample_dates(folder)
    return [a, b, a]


def test_a_stack_loads_into_one_group_with_unique_names(project, tmp_path):
    inputs = stack(tmp_path)
    feedback = RecordingFeedback()
    processing.runAndLoadResults(
        "overlapclip:clipstack", {"INPUTS": inputs, "OUTPUT_FOLDER": str(tmp_path / "series")}, feedback=feedback
    )
    assert tree_order(project) == [
        (
            "series (common area)",
            ["date_2020 (1, common area)", "date_2024 (2, common area)", "date_2020 (3, common area)"],
        )
    ]
    first, second = (by_name(project)[f"date_202{n} ({i}, common area)"] for n, i in ((0, 1), (4, 2)))
    assert limits(first) == limits(second)
    assert any("share one stretch" in line for line in feedback.infos)
    # A second run into a folder of the same name gets a group of its own.
    processing.runAndLoadResults(
        "overlapclip:clipstack", {"INPUTS": inputs, "OUTPUT_FOLDER": str(tmp_path / "again" / "series")}
    )
    assert [entry[0] for entry in tree_order(project)] == ["series (common area) (2)", "series (common area)"]


def test_a_stack_need_not_be_loaded(project, tmp_path):
    result = processing.runAndLoadResults(
        "overlapclip:clipstack",
        {"INPUTS": stack(tmp_path), "OUTPUT_FOLDER": str(tmp_path / "out"), "LOAD_OUTPUTS": False},
    )
    assert len(result["OUTPUT_LAYERS"]) == 3
    assert project.mapLayers() == {}
    assert tree_order(project) == []


def test_the_reference_layer_wins_over_the_reference_position(project, tmp_path):
    inputs = stack(tmp_path)
    layers = [QgsRasterLayer(path, f"scene {n}") for n, path in enumerate(inputs[:2], start=1)]
    project.addMapLayers(layers)
    result = processing.run(
        "overlapclip:clipstack",
        {
            "INPUTS": [layer.id() for layer in layers],
            "REFERENCE": 1,
            "REFERENCE_LAYER": layers[1].id(),
            "OUTPUT_FOLDER": str(tmp_path / "out"),
        },
    )
    from osgeo import gdal

    # B's pixel phase (x 400003 + whole pixels), not A's (399960 + whole pixels).
    for path in result["OUTPUT_LAYERS"]:
        assert round(gdal.Open(path).GetGeoTransform()[0] % 10.0, 6) == 3.0
    # A path naming the same file as an input counts as that input.
    by_path = processing.run(
        "overlapclip:clipstack",
        {"INPUTS": inputs[:2], "REFERENCE_LAYER": inputs[1], "OUTPUT_FOLDER": str(tmp_path / "out2")},
    )
    assert round(gdal.Open(by_path["OUTPUT_LAYERS"][0]).GetGeoTransform()[0] % 10.0, 6) == 3.0


def test_a_reference_layer_outside_the_inputs_is_refused(project, tmp_path):
    a, b = sample_dates(tmp_path)
    other, _ = sample_pair(tmp_path)
    with pytest.raises(QgsProcessingException, match="The reference layer 'sample_a' is not one of the input rasters"):
        processing.run(
            "overlapclip:clipstack", {"INPUTS": [a, b], "REFERENCE_LAYER": other, "OUTPUT_FOLDER": str(tmp_path / "o")}
        )
    assert not (tmp_path / "o").exists()


def test_in_a_stack_the_rasters_drawn_alike_share_a_stretch_and_the_others_keep_theirs(project, tmp_path):
    a, b = sample_dates(tmp_path)
    _, dem = sample_pair(tmp_path)
    feedback = RecordingFeedback()
    processing.runAndLoadResults(
        "overlapclip:clipstack", {"INPUTS": [a, dem, b], "OUTPUT_FOLDER": str(tmp_path / "out")}, feedback=feedback
    )
    layers = by_name(project)
    first, elevation, second = (
        layers[f"{name} ({n}, common area)"] for n, name in enumerate(["date_2020", "sample_b", "date_2024"], 1)
    )
    assert limits(first) == limits(second)
    assert limits(elevation) == limits(QgsRasterLayer(elevation.source(), "alone"))
    said = [line for line in feedback.infos if "share one stretch" in line]
    assert len(said) == 1 and "'date_2020 (1, common area)', 'date_2024 (3, common area)'" in said[0], said


def test_the_shift_windows_load_as_arrows_pointing_where_the_content_lies(project, tmp_path):
    a, b = write_pair(tmp_path, 2.0, 0.0)  # B's content two pixels east of A's
    feedback = run_pair(a, b, tmp_path, SHIFT=True, SHIFT_WINDOWS=str(tmp_path / "windows.gpkg"))
    windows = next(layer for layer in project.mapLayers().values() if layer.name() == "Shift windows (arrows)")
    features = list(windows.getFeatures())
    assert len(features) == 25
    kept = [feature for feature in features if feature["status"] == "kept"]
    assert len(kept) >= 20
    assert all(abs(feature["dx_px"] - 2.0) < 0.05 and abs(feature["dy_px"]) < 0.05 for feature in kept)
    properties = windows.renderer().symbol().symbolLayer(0).dataDefinedProperties()
    angle = next(
        properties.property(key)
        for key in properties.propertyKeys()
        if "atan2" in properties.property(key).expressionString()
    )
    expression_context = QgsExpressionContext()
    expression_context.setFields(windows.fields())
    expression_context.setFeature(kept[0])
    assert angle.valueAsDouble(expression_context, 0.0)[0] == pytest.approx(90.0, abs=2.0)  # an arrow east
    assert any("Shift of B against A: +2.00, " in line for line in feedback.infos), feedback.infos
