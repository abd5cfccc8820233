"""Run inside the real QGIS desktop (`qgis --code tests/gui_stack_session.py`) by tests/test_gui.py.

Loads the rasters listed in $OVERLAPCLIP_GUI_INPUTS (a JSON list) as layers, opens overlapclip:clipstack's
dialog from the Processing toolbox with every layer as input and the second one picked as the reference
layer, clicks Run as a user would, waits until every output is loaded, and writes what it saw (dialog
labels and help, the log, the layer tree with its groups, each layer's stretch) to report.json in
$OVERLAPCLIP_GUI_OUT, then leaves QGIS.
"""

import json
import os

import processing
from gui_common import OUT, describe_project, leave, run_when_open
from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QTextEdit

PATHS = json.loads(os.environ["OVERLAPCLIP_GUI_INPUTS"])
report = {"dialog": None, "log": "", "labels": [], "help": ""}
state = {"ticks": 0}


def loaded_outputs():
    return [layer for layer in QgsProject.instance().mapLayers().values() if "_common" in layer.source()]


def wait_for_results(dialog):
    state["ticks"] += 1
    if len(loaded_outputs()) >= len(PATHS) or state["ticks"] > 120:
        report["log"] = "\n".join(box.toPlainText() for box in dialog.findChildren(QTextEdit))
        dialog.close()
        describe_project(report)
        leave(report)
        return
    QTimer.singleShot(500, lambda: wait_for_results(dialog))


def start():
    layers = [QgsRasterLayer(path, os.path.splitext(os.path.basename(path))[0]) for path in PATHS]
    QgsProject.instance().addMapLayers(layers)
    QTimer.singleShot(1000, lambda: run_when_open(report, wait_for_results))
    processing.execAlgorithmDialog(
        "overlapclip:clipstack",
        {
            "INPUTS": [layer.id() for layer in layers],
            "REFERENCE_LAYER": layers[1].id(),
            "OUTPUT_FOLDER": os.path.join(OUT, "series"),
        },
    )


QTimer.singleShot(1000, start)
