"""Run inside the real QGIS desktop (`qgis --code tests/gui_change_session.py`) by tests/test_gui.py.

Loads two dates of one place (OVERLAPCLIP_GUI_A, OVERLAPCLIP_GUI_B), opens overlapclip:changemap's dialog on them
with the parameters OVERLAPCLIP_GUI_PARAMS (JSON), clicks Run as a user would and waits for the change map and the
clipped pair to be loaded. Then draws the canvas three times over the clipped pair's extent: clipped A alone
(before.png), clipped B alone (after.png) and B with the change map over it (change.png). Writes what it saw (the
dialog's labels, the log, the layers, their renderers, where the raster lies in the pictures) to report.json in
$OVERLAPCLIP_GUI_OUT, then leaves QGIS.
"""

import json
import os

from gui_common import OUT, describe_project, leave, open_and_run, pair_parameters, start_on_pair
from qgis.core import QgsPointXY, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QTextEdit
from qgis.utils import iface

report = {"dialog": None, "log": "", "labels": [], "help": ""}
state = {"ticks": 0}
inputs = {}
FILES = ("a_common.tif", "b_common.tif", "change.tif")


def loaded():
    """The run's layers in the project, by their files: clipped A, clipped B and the change map (None until loaded)."""
    by_file = {}
    for layer in QgsProject.instance().mapLayers().values():
        by_file.setdefault(os.path.basename(layer.source().split("|")[0]), layer)
    return tuple(by_file.get(name) for name in FILES)


def draw(states, layers):
    """Draw each of ``states`` (a picture's name and the files of the layers shown), one after the other."""
    if not states:
        leave(report)
        return
    (name, shown), rest = states[0], states[1:]
    canvas = iface.mapCanvas()
    wanted = {layers[file].id() for file in shown}
    for node in QgsProject.instance().layerTreeRoot().findLayers():
        node.setItemVisibilityChecked(node.layerId() in wanted)

    def drawn():
        canvas.mapCanvasRefreshed.disconnect(drawn)
        QTimer.singleShot(500, save)

    def save():
        canvas.grab().toImage().save(os.path.join(OUT, f"{name}.png"))
        draw(rest, layers)

    canvas.mapCanvasRefreshed.connect(drawn)
    canvas.refreshAllLayers()


def pictures():
    out_a, out_b, change = loaded()
    describe_project(report)
    report["renderers"] = {
        name: layer.renderer().type() for name, layer in zip(FILES, (out_a, out_b, change)) if layer is not None
    }
    canvas = iface.mapCanvas()
    canvas.setExtent(out_a.extent())
    canvas.refresh()

    def placed():
        # Where the clipped raster's corners fall in the pictures (device pixels of the grabbed canvas).
        extent, to_pixel = out_a.extent(), canvas.mapSettings().mapToPixel()
        top_left = to_pixel.transform(QgsPointXY(extent.xMinimum(), extent.yMaximum()))
        bottom_right = to_pixel.transform(QgsPointXY(extent.xMaximum(), extent.yMinimum()))
        ratio = canvas.devicePixelRatioF() if hasattr(canvas, "devicePixelRatioF") else 1.0
        report["raster_box"] = [v * ratio for v in (top_left.x(), top_left.y(), bottom_right.x(), bottom_right.y())]
        layers = dict(zip(FILES, (out_a, out_b, change)))
        draw(
            [
                ("before", ["a_common.tif"]),
                ("after", ["b_common.tif"]),
                ("change", ["b_common.tif", "change.tif"]),
            ],
            layers,
        )

    QTimer.singleShot(1000, placed)


def wait_for_results(dialog):
    state["ticks"] += 1
    if all(loaded()) or state["ticks"] > 120:
        report["log"] = "\n".join(box.toPlainText() for box in dialog.findChildren(QTextEdit))
        dialog.close()
        if not all(loaded()):
            describe_project(report)
            leave(report)
            return
        QTimer.singleShot(500, pictures)
        return
    QTimer.singleShot(500, lambda: wait_for_results(dialog))


def open_dialog():
    params = json.loads(os.environ.get("OVERLAPCLIP_GUI_PARAMS", "{}"))
    open_and_run(
        report,
        "overlapclip:changemap",
        dict(pair_parameters(inputs, OUTPUT="change.tif", OUTPUT_A="a_common.tif", OUTPUT_B="b_common.tif"), **params),
        wait_for_results,
    )


QTimer.singleShot(1000, lambda: start_on_pair(inputs, open_dialog))
