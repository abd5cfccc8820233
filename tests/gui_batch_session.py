"""Run inside the real QGIS desktop (`qgis --code tests/gui_batch_session.py`) by tests/test_gui.py.

Opens the batch-processing dialog of $OVERLAPCLIP_BATCH_ALGORITHM (overlapclip:clippair unless set),
fills its rows from $OVERLAPCLIP_BATCH_ROWS (cells left out stay empty, as a user leaves them), clicks Run
as a user would, waits for the batch to finish and writes what the dialog said (its log, and the text of the
summary of each row's parameters and results that it adds to the Results Viewer) and what reached the project
(layers, layer tree, stretches) to report.json in $OVERLAPCLIP_GUI_OUT, then leaves QGIS.
"""

import json
import os

from gui_common import describe_project, leave
from processing.core.ProcessingResults import resultsList
from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
from processing.tools import dataobjects
from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtGui import QTextDocument
from qgis.PyQt.QtWidgets import QTextEdit
from qgis.utils import iface

ALGORITHM = os.environ.get("OVERLAPCLIP_BATCH_ALGORITHM", "overlapclip:clippair")
ROWS = json.loads(os.environ["OVERLAPCLIP_BATCH_ROWS"])
report = {"rows": 0, "log": "", "summary": "", "project_layers": []}
state = {"ticks": 0}


def log_text(dialog):
    return "\n".join(box.toPlainText() for box in dialog.findChildren(QTextEdit))


def finished(text):
    """The batch has ended: QGIS says so (in English on QGIS 3.22 whatever the language), or every layer
    expected ($OVERLAPCLIP_BATCH_LAYERS) is loaded and the log has stopped growing for two seconds."""
    if "Batch execution completed" in text:
        return True
    expected = int(os.environ.get("OVERLAPCLIP_BATCH_LAYERS", "0"))
    state["still"] = state.get("still", 0) + 1 if text == state.get("text") else 0
    state["text"] = text
    return bool(expected) and len(QgsProject.instance().mapLayers()) >= expected and state["still"] >= 4


def wait_for_batch(dialog):
    state["ticks"] += 1
    text = log_text(dialog)
    if finished(text) or state["ticks"] > 240:
        # The last rows' layers are loaded once the log says so; give the loading a moment.
        QTimer.singleShot(1000, lambda: finish(dialog))
        return
    QTimer.singleShot(500, lambda: wait_for_batch(dialog))


def summary_text():
    """The batch's summary in the Results Viewer (an HTML page QGIS writes after the last row), as plain text."""
    pages = [result.filename for result in resultsList.getResults() if result.name.endswith("[summary]")]
    if not pages:
        return ""
    with open(pages[-1], encoding="utf-8") as handle:
        document = QTextDocument()
        document.setHtml(handle.read())
        return document.toPlainText()


def finish(dialog):
    report["log"] = log_text(dialog)
    report["summary"] = summary_text()
    describe_project(report)
    leave(report)


def run_batch():
    algorithm = QgsApplication.processingRegistry().createAlgorithmById(ALGORITHM)
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
