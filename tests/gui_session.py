"""Run inside the real QGIS desktop (`qgis --code tests/gui_session.py`) by tests/test_gui.py.

Loads two rasters as a user has them in a project, opens overlapclip:clippair's dialog from the
Processing toolbox on them with the overlap polygon asked for, clicks Run as a user would, waits for the
outputs to be loaded, and lets the map canvas draw one state after another, saving each drawing:

- before.png: the two inputs as loaded;
- after.png: the outputs with the overlap outlined (the inputs hidden);
- no_outline.png: the same without the overlap polygon;
- only_a.png, only_b.png: each output alone, as styled by the run;
- a_alone.png, b_alone.png: each output as QGIS draws it loaded by itself (its own stretch);
- a_outlined.png, b_outlined.png: each output with the overlap outlined;
- before_after.png: before, a_outlined and b_outlined side by side, captioned, for README.

It writes what it saw (dialog labels and help, the log, the layers, where the overlap lies on the canvas)
to report.json in $OVERLAPCLIP_GUI_OUT and a screenshot of the desktop to desktop.png, then leaves QGIS.
"""

import os

from gui_common import OUT, describe_project, leave, load_pair, open_and_run
from qgis.core import QgsProject, QgsRasterLayer, QgsRectangle
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtGui import QColor, QImage, QPainter
from qgis.PyQt.QtWidgets import QTextEdit
from qgis.utils import iface

report = {"dialog": None, "log": "", "labels": [], "help": ""}
state = {"ticks": 0}
inputs = {}


def show_only(layers):
    """Tick exactly ``layers`` in the layer tree, as a user does with the check boxes."""
    wanted = {layer.id() for layer in layers}
    for node in QgsProject.instance().layerTreeRoot().findLayers():
        node.setItemVisibilityChecked(node.layerId() in wanted)


def draw_states(states, done):
    """Draw each (name, layers) state on the canvas in turn, saving name.png once the canvas has drawn it."""
    canvas = iface.mapCanvas()
    if not states:
        done()
        return
    name, layers = states[0]

    def drawn():
        canvas.mapCanvasRefreshed.disconnect(drawn)
        QTimer.singleShot(300, save)

    def save():
        canvas.grab().toImage().save(os.path.join(OUT, f"{name}.png"))
        draw_states(states[1:], done)

    canvas.mapCanvasRefreshed.connect(drawn)
    show_only(layers)
    canvas.refreshAllLayers()


def side_by_side(panels, name):
    """Save the drawings ``panels`` ((state, caption), ...) next to each other, captioned, as ``name``.png."""
    images = [QImage(os.path.join(OUT, f"{state}.png")) for state, _ in panels]
    gap, width, height = 12, min(image.width() for image in images), min(image.height() for image in images)
    joined = QImage(len(images) * (width + gap) - gap, height, QImage.Format.Format_RGB32)
    joined.fill(QColor("white"))
    painter = QPainter(joined)
    font = painter.font()
    font.setPointSize(14)
    painter.setFont(font)
    for index, (image, (_, caption)) in enumerate(zip(images, panels)):
        left = index * (width + gap)
        painter.drawImage(left, 0, image, (image.width() - width) // 2, 0, width, height)
        painter.setPen(QColor("black"))
        painter.drawText(left + 12, 28, caption)
    painter.end()
    joined.save(os.path.join(OUT, f"{name}.png"))


def outputs_loaded():
    """The run's layers in the project, known by their files: A's, B's and the overlap's (None until loaded)."""
    by_file = {}
    for layer in QgsProject.instance().mapLayers().values():
        by_file.setdefault(os.path.basename(layer.source().split("|")[0]), layer)
    return tuple(by_file.get(name) for name in ("a_common.tif", "b_common.tif", "overlap.gpkg"))


def after_run():
    out_a, out_b, overlap = outputs_loaded()
    canvas = iface.mapCanvas()
    describe_project(report)
    # A and B as QGIS draws each alone: layers of their own, which the run did not style.
    alone = [QgsRasterLayer(out.source(), f"{key} alone") for key, out in (("A", out_a), ("B", out_b))]
    QgsProject.instance().addMapLayers(alone)
    extent = overlap.extent()
    pixels = [
        canvas.getCoordinateTransform().transform(x, y)
        for x, y in ((extent.xMinimum(), extent.yMaximum()), (extent.xMaximum(), extent.yMinimum()))
    ]
    report["overlap_pixels"] = [pixels[0].x(), pixels[0].y(), pixels[1].x(), pixels[1].y()]

    def finish():
        side_by_side(
            [
                ("before", "Inputs: A (2020) under B (2024)"),
                ("a_outlined", "A clipped, overlap outlined"),
                ("b_outlined", "B clipped onto A's grid, one stretch"),
            ],
            "before_after",
        )
        # The desktop as the user has it after the run: without the test's own layers.
        QgsProject.instance().removeMapLayers([layer.id() for layer in alone])
        show_only([overlap, out_a, out_b])
        canvas.refreshAllLayers()
        QTimer.singleShot(
            1500, lambda: (iface.mainWindow().grab().save(os.path.join(OUT, "desktop.png")), leave(report))
        )

    draw_states(
        [
            ("after", [overlap, out_a, out_b]),
            ("no_outline", [out_a, out_b]),
            ("a_outlined", [overlap, out_a]),
            ("b_outlined", [overlap, out_b]),
            ("only_a", [out_a]),
            ("only_b", [out_b]),
            ("a_alone", [alone[0]]),
            ("b_alone", [alone[1]]),
        ],
        finish,
    )


def wait_for_results(dialog):
    state["ticks"] += 1
    out_a, out_b, overlap = outputs_loaded()
    if (out_a and out_b and overlap) or state["ticks"] > 120:
        report["log"] = "\n".join(box.toPlainText() for box in dialog.findChildren(QTextEdit))
        dialog.close()
        if not (out_a and out_b and overlap):
            leave(report)
        QTimer.singleShot(500, after_run)
        return
    QTimer.singleShot(500, lambda: wait_for_results(dialog))


def open_dialog():
    open_and_run(
        report,
        "overlapclip:clippair",
        {
            "INPUT_A": inputs["a"].id(),
            "INPUT_B": inputs["b"].id(),
            "OUTPUT_A": os.path.join(OUT, "a_common.tif"),
            "OUTPUT_B": os.path.join(OUT, "b_common.tif"),
            "OVERLAP": os.path.join(OUT, "overlap.gpkg"),
        },
        wait_for_results,
    )


def start():
    """The inputs in the project, drawn as QGIS draws them, before anything is clipped."""
    canvas = iface.mapCanvas()
    inputs.update(load_pair())
    extent = QgsRectangle(inputs["a"].extent())
    extent.combineExtentWith(inputs["b"].extent())
    extent.grow(extent.width() * 0.05)
    canvas.setExtent(extent)
    draw_states([("before", [inputs["a"], inputs["b"]])], open_dialog)


QTimer.singleShot(1000, start)
