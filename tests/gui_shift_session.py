"""Run inside the real QGIS desktop (`qgis --code tests/gui_shift_session.py`) by tests/test_gui.py.

Loads two dates of one place (OVERLAPCLIP_GUI_A, OVERLAPCLIP_GUI_B), opens overlapclip:clippair's dialog on
them with the parameters OVERLAPCLIP_GUI_PARAMS (JSON: SHIFT, COREGISTER, RESAMPLING, ...) and the shift
windows asked for, clicks Run as a user would, waits for the outputs to be loaded, and draws the windows'
arrows over clipped A (arrows.png). Writes what it saw (the dialog's labels, the log, the layers) to
report.json in $OVERLAPCLIP_GUI_OUT, then leaves QGIS.
"""

import json
import os

import processing
from gui_common import OUT, describe_project, leave, run_when_open
from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QTextEdit
from qgis.utils import iface

report = {"dialog": None, "log": "", "labels": [], "help": ""}
state = {"ticks": 0}
inputs = {}


def loaded():
    """The run's layers in the project, by their files: A's, B's and the windows' (None until loaded)."""
    by_file = {}
    for layer in QgsProject.instance().mapLayers().values():
        by_file.setdefault(os.path.basename(layer.source().split("|")[0]), layer)
    return tuple(by_file.get(name) for name in ("a_common.tif", "b_common.tif", "windows.gpkg"))


def draw_arrows():
    out_a, _, windows = loaded()
    describe_project(report)
    canvas = iface.mapCanvas()
    for node in QgsProject.instance().layerTreeRoot().findLayers():
        node.setItemVisibilityChecked(node.layerId() in {out_a.id(), windows.id() if windows else ""})
    canvas.setExtent(out_a.extent())

    def drawn():
        canvas.mapCanvasRefreshed.disconnect(drawn)
        QTimer.singleShot(500, save)

    def save():
        canvas.grab().toImage().save(os.path.join(OUT, "arrows.png"))
        leave(report)

    canvas.mapCanvasRefreshed.connect(drawn)
    canvas.refreshAllLayers()


def wait_for_results(dialog):
    state["ticks"] += 1
    out_a, out_b, windows = loaded()
    expected = bool(json.loads(os.environ["OVERLAPCLIP_GUI_PARAMS"]).get("SHIFT_WINDOWS_EXPECTED", True))
    if (out_a and out_b and (windows or not expected)) or state["ticks"] > 120:
        report["log"] = "\n".join(box.toPlainText() for box in dialog.findChildren(QTextEdit))
        dialog.close()
        if not (out_a and out_b):
            leave(report)
            return
        QTimer.singleShot(500, draw_arrows)
        return
    QTimer.singleShot(500, lambda: wait_for_results(dialog))


def open_dialog():
    params = json.loads(os.environ["OVERLAPCLIP_GUI_PARAMS"])
    params.pop("SHIFT_WINDOWS_EXPECTED", None)
    QTimer.singleShot(1000, lambda: run_when_open(report, wait_for_results))
    processing.execAlgorithmDialog(
        "overlapclip:clippair",
        dict(
            {
                "INPUT_A": inputs["a"].id(),
                "INPUT_B": inputs["b"].id(),
                "OUTPUT_A": os.path.join(OUT, "a_common.tif"),
                "OUTPUT_B": os.path.join(OUT, "b_common.tif"),
                "SHIFT_WINDOWS": os.path.join(OUT, "windows.gpkg"),
            },
            **params,
        ),
    )


def start():
    for key in ("a", "b"):
        path = os.environ[f"OVERLAPCLIP_GUI_{key.upper()}"]
        inputs[key] = QgsRasterLayer(path, os.path.splitext(os.path.basename(path))[0])
        QgsProject.instance().addMapLayer(inputs[key])
    iface.mapCanvas().setExtent(inputs["a"].extent())
    QTimer.singleShot(500, open_dialog)


QTimer.singleShot(1000, start)
