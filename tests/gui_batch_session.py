"""Run inside the real QGIS desktop (`qgis --code tests/gui_batch_session.py`) by tests/test_gui.py.

Opens overlapclip:clippair's batch-processing dialog, fills its rows from $OVERLAPCLIP_BATCH_ROWS
(cells left out stay empty, as a user leaves them), clicks Run as a user would, waits for the batch to
finish and writes what the dialog said and what reached the project to report.json in
$OVERLAPCLIP_GUI_OUT, then leaves QGIS.
"""

import json
import os

from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
from processing.tools import dataobjects
from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QTextEdit
from qgis.utils import iface

OUT = os.environ["OVERLAPCLIP_GUI_OUT"]
ROWS = json.loads(os.environ["OVERLAPCLIP_BATCH_ROWS"])
report = {"rows": 0, "log": "", "project_layers": []}
state = {"ticks": 0}


def leave():
    with open(os.path.join(OUT, "report.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    os._exit(0)


def log_text(dialog):
    return "\n".join(box.toPlainText() for box in dialog.findChildren(QTextEdit))


def wait_for_batch(dialog):
    state["ticks"] += 1
    text = log_text(dialog)
    if "Batch execution completed" in text or state["ticks"] > 240:
        report["log"] = text
        report["project_layers"] = sorted(layer.name() for layer in QgsProject.instance().mapLayers().values())
        leave()
        return
    QTimer.singleShot(500, lambda: wait_for_batch(dialog))


def run_batch():
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("overlapclip:clippair")
    dialog = BatchAlgorithmDialog(algorithm, iface.mainWindow())
    dialog.show()
    panel = dialog.mainWidget()
    while panel.batchRowCount() < len(ROWS):
        panel.addRow()
    report["rows"] = panel.batchRowCount()
    # The user ticks "Load layers on completion".
    panel.checkLoadLayersOnCompletion.setChecked(True)
    context = dataobjects.createContext()
    for row, values in enumerate(ROWS):
        for key, value in values.items():
            column = panel.parameter_to_column[key]
            if algorithm.parameterDefinition(key).isDestination():
                # Row 0 of the table is the "fill down" row; the batch rows follow it.
                panel.tblParameters.cellWidget(row + 1, column).setValue(value)
            else:
                panel.wrappers[row][column].setParameterValue(value, context)
    dialog.runButton().click()
    wait_for_batch(dialog)


QTimer.singleShot(1000, run_batch)
