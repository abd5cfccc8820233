"""Run inside the real QGIS desktop (`qgis --lang zh-Hans --code tests/gui_language_session.py`) by
tests/test_qgis_language.py.

Writes to report.json in $OVERLAPCLIP_GUI_OUT the language QGIS loaded, the locales the profile and Qt
name, the titles of QGIS's own menus and the display names of the plugin's algorithms, then leaves QGIS.
"""

from gui_common import leave
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QLocale, QTimer
from qgis.utils import iface


def describe():
    registry = QgsApplication.processingRegistry()
    leave(
        {
            "translation": QgsApplication.instance().translation(),
            "locale": QgsApplication.locale(),
            "qt_locale": QLocale().name(),
            "menus": [action.text() for action in iface.mainWindow().menuBar().actions()],
            "algorithms": {
                name: registry.algorithmById(f"overlapclip:{name}").displayName()
                for name in ("clippair", "clipstack")
                if registry.algorithmById(f"overlapclip:{name}") is not None
            },
        }
    )


QTimer.singleShot(1000, describe)
