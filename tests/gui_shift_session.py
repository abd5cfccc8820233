"""Run inside the real QGIS desktop (`qgis --code tests/gui_shift_session.py`) by tests/test_gui.py.

Loads two dates of one place (OVERLAPCLIP_GUI_A, OVERLAPCLIP_GUI_B), opens overlapclip:clippair's dialog on
them with the parameters OVERLAPCLIP_GUI_PARAMS (JSON: SHIFT, COREGISTER, RESAMPLING, ...) and the shift
windows asked for, clicks Run as a user would, waits for the outputs to be loaded, and draws the windows'
arrows over clipped A (arrows.png). Writes what it saw (the dialog's labels, the log, the layers) to
report.json in $OVERLAPCLIP_GUI_OUT, then leaves QGIS.
"""

import json
import os

from gui_common import OUT, describe_project, leave, open_and_run, pair_parameters, start_on_pair
from qgis.core import QgsProject
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
    open_and_run(
        report,
        "overlapclip:clippair",
        dict(
            pair_parameters(inputs, OUTPUT_A="a_common.tif", OUTPUT_B="b_common.tif", SHIFT_WINDOWS="windows.gpkg"),
            **params,
        ),
        wait_for_results,
    )


QTimer.singleShot(1000, lambda: start_on_pair(inputs, open_dialog))
