"""Run inside the real QGIS desktop (`qgis --code tests/gui_session.py`) by tests/test_gui.py.

Opens overlapclip:clippair's dialog from the Processing toolbox on a sample pair, clicks Run as a
user would, waits for both outputs to be loaded, lets the map canvas draw them, saves screenshots
and writes what it saw to report.json in $OVERLAPCLIP_GUI_OUT, then leaves QGIS.
"""

import json
import os

import processing
from qgis.core import QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QTextEdit
from qgis.utils import iface

OUT = os.environ["OVERLAPCLIP_GUI_OUT"]
report = {"dialog": None, "log": ""}
state = {"ticks": 0}


def leave():
    with open(os.path.join(OUT, "report.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    # The desktop would ask to save the project; the test only needs what it saw.
    os._exit(0)


def after_drawing():
    canvas = iface.mapCanvas()
    image = canvas.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    report["canvas_colours"] = len(colours)
    report["canvas_layers"] = [layer.name() for layer in canvas.layers()]
    report["project_layers"] = sorted(layer.name() for layer in QgsProject.instance().mapLayers().values())
    iface.mainWindow().grab().save(os.path.join(OUT, "desktop.png"))
    leave()


def wait_for_results(dialog):
    state["ticks"] += 1
    if len(QgsProject.instance().mapLayers()) >= 2 or state["ticks"] > 120:
        report["log"] = "\n".join(box.toPlainText() for box in dialog.findChildren(QTextEdit))
        dialog.close()
        canvas = iface.mapCanvas()
        canvas.mapCanvasRefreshed.connect(lambda: QTimer.singleShot(300, after_drawing))
        canvas.zoomToFullExtent()
        canvas.refreshAllLayers()
        return
    QTimer.singleShot(500, lambda: wait_for_results(dialog))


def press_run():
    dialogs = [w for w in QApplication.topLevelWidgets() if w.isVisible() and type(w).__name__ == "AlgorithmDialog"]
    if not dialogs:
        state["ticks"] += 1
        if state["ticks"] > 60:
            leave()
        QTimer.singleShot(500, press_run)
        return
    dialog = dialogs[0]
    report["dialog"] = dialog.windowTitle()
    state["ticks"] = 0
    dialog.runButton().click()
    wait_for_results(dialog)


QTimer.singleShot(1000, press_run)
processing.execAlgorithmDialog(
    "overlapclip:clippair",
    {
        "INPUT_A": os.environ["OVERLAPCLIP_GUI_A"],
        "INPUT_B": os.environ["OVERLAPCLIP_GUI_B"],
        "OUTPUT_A": os.path.join(OUT, "a_common.tif"),
        "OUTPUT_B": os.path.join(OUT, "b_common.tif"),
    },
)
