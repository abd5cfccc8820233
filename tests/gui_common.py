"""What the desktop sessions (tests/gui_*session.py, run inside QGIS by tests/test_gui.py) share: how they
describe the project they leave, and how they leave."""

import json
import os

from qgis.core import (
    QgsLayerTreeGroup,
    QgsMultiBandColorRenderer,
    QgsProject,
    QgsRasterLayer,
    QgsSingleBandGrayRenderer,
)
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QLabel, QTextBrowser

OUT = os.environ["OVERLAPCLIP_GUI_OUT"]


def stretch(layer):
    """The min/max of each band a raster layer's renderer stretches (empty for other layers)."""
    renderer = layer.renderer() if hasattr(layer, "renderer") else None
    if isinstance(renderer, QgsMultiBandColorRenderer):
        enhancements = [
            renderer.redContrastEnhancement(),
            renderer.greenContrastEnhancement(),
            renderer.blueContrastEnhancement(),
        ]
    elif isinstance(renderer, QgsSingleBandGrayRenderer):
        enhancements = [renderer.contrastEnhancement()]
    else:
        return []
    return [[e.minimumValue(), e.maximumValue()] for e in enhancements if e is not None]


def tree(group=None):
    """The layer tree, top first: layer names, and groups as [name, [children]]."""
    group = group or QgsProject.instance().layerTreeRoot()
    return [
        [child.name(), tree(child)] if isinstance(child, QgsLayerTreeGroup) else child.layer().name()
        for child in group.children()
    ]


def describe_project(report):
    """Put the project's layers, their layer tree and, by file name, each layer's name and stretch into
    ``report``."""
    layers = list(QgsProject.instance().mapLayers().values())
    report["project_layers"] = sorted(layer.name() for layer in layers)
    report["tree"] = tree()
    report["tree_files"] = [
        os.path.basename(node.layer().source().split("|")[0])
        for node in QgsProject.instance().layerTreeRoot().findLayers()
    ]
    report["layers"] = {
        os.path.basename(layer.source().split("|")[0]): {
            "name": layer.name(),
            "stretch": stretch(layer),
            "renderer": layer.renderer().type() if getattr(layer, "renderer", None) and layer.renderer() else None,
        }
        for layer in layers
    }


def leave(report):
    """Write ``report`` to report.json and leave QGIS at once (it would ask to save the project)."""
    with open(os.path.join(OUT, "report.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False)
    os._exit(0)


def run_when_open(report, then, ticks=0):
    """Once the algorithm dialog is open: note its title, labels and help in ``report``, click Run as a
    user does, and hand the dialog to ``then``; leave QGIS if no dialog opens within 30 seconds."""
    dialogs = [w for w in QApplication.topLevelWidgets() if w.isVisible() and type(w).__name__ == "AlgorithmDialog"]
    if not dialogs:
        if ticks > 60:
            leave(report)
        QTimer.singleShot(500, lambda: run_when_open(report, then, ticks + 1))
        return
    dialog = dialogs[0]
    report["dialog"] = dialog.windowTitle()
    report["labels"] = [label.text() for label in dialog.findChildren(QLabel) if label.isVisible() and label.text()]
    report["help"] = "\n".join(box.toPlainText() for box in dialog.findChildren(QTextBrowser))
    dialog.runButton().click()
    then(dialog)


def load_pair():
    """The rasters OVERLAPCLIP_GUI_A and OVERLAPCLIP_GUI_B added to the project, named after their files, as
    {"a": layer, "b": layer}."""
    layers = {}
    for key in ("a", "b"):
        path = os.environ[f"OVERLAPCLIP_GUI_{key.upper()}"]
        layers[key] = QgsRasterLayer(path, os.path.splitext(os.path.basename(path))[0])
        QgsProject.instance().addMapLayer(layers[key])
    return layers


def open_and_run(report, algorithm, parameters, then):
    """Open ``algorithm``'s dialog with ``parameters`` filled in, click Run once it is open, then ``then(dialog)``
    (see :func:`run_when_open`)."""
    import processing

    QTimer.singleShot(1000, lambda: run_when_open(report, then))
    processing.execAlgorithmDialog(algorithm, parameters)


def pair_parameters(layers, **outputs):
    """INPUT_A and INPUT_B as ``layers``' ids, and each of ``outputs`` (a key and a file name) in OUT."""
    return dict(
        {"INPUT_A": layers["a"].id(), "INPUT_B": layers["b"].id()},
        **{key: os.path.join(OUT, name) for key, name in outputs.items()},
    )


def start_on_pair(layers, then):
    """Load the pair into ``layers`` (see :func:`load_pair`), show A's extent, and call ``then`` soon after."""
    from qgis.utils import iface

    layers.update(load_pair())
    iface.mapCanvas().setExtent(layers["a"].extent())
    QTimer.singleShot(500, then)
