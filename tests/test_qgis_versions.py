"""Ready for every QGIS from 3.22 to 4.x: scoped enums only, no deprecated API, declared versions.

`make test` runs in the QGIS matrix (3.22, 3.40, 3.44), so these tests judge the plugin under each.
"""

import configparser
import os
import subprocess
import sys
import textwrap

from conftest import ROOT
from qt6_check import unscoped_enums

PLUGIN = os.path.join(ROOT, "overlap_clip_plugin")


def plugin_files():
    for folder, _, names in os.walk(PLUGIN):
        yield from (os.path.join(folder, name) for name in names if name.endswith(".py"))


def test_the_plugin_reaches_every_enum_through_its_enum(qgis_app):
    found = [problem for path in plugin_files() for problem in unscoped_enums(path)]
    assert found == []


def test_the_qt6_check_finds_unscoped_qt_and_qgis_enums(qgis_app, tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        textwrap.dedent(
            """
            from qgis.core import QgsProcessing, QgsFeatureSink, QgsProcessingParameterNumber
            from qgis.PyQt.QtCore import Qt, QVariant

            raster = QgsProcessing.TypeRaster
            insert = QgsFeatureSink.FastInsert
            integer = QgsProcessingParameterNumber.Integer
            left = Qt.AlignLeft
            double = QVariant.Double
            scoped = Qt.AlignmentFlag.AlignLeft
            also_scoped = QgsFeatureSink.Flag.FastInsert
            not_an_enum = QgsProcessing.TEMPORARY_OUTPUT
            """
        ),
        encoding="utf-8",
    )
    found = unscoped_enums(str(sample))
    flagged = sorted(line.split(": ")[1].split(" ")[0] for line in found)
    assert flagged == sorted(
        [
            "Qt.AlignLeft",
            "QVariant.Double",
            "QgsFeatureSink.FastInsert",
            "QgsProcessing.TypeRaster",
            "QgsProcessingParameterNumber.Integer",
        ]
    )


NO_DEPRECATION = """
import os, sys, warnings
warnings.filterwarnings("error", category=DeprecationWarning, module=r"overlap_clip_plugin(\\..*)?$")
warnings.filterwarnings("error", category=PendingDeprecationWarning, module=r"overlap_clip_plugin(\\..*)?$")
from qgis.core import QgsApplication
app = QgsApplication([], False)
app.initQgis()
sys.path.append(os.path.join(QgsApplication.pkgDataPath(), "python", "plugins"))
sys.path.insert(0, sys.argv[1])
from processing.core.Processing import Processing
Processing.initialize()
import processing
from overlap_clip_plugin import classFactory
plugin = classFactory(None)
plugin.initProcessing()
folder = sys.argv[2]
a, b = os.path.join(folder, "a.tif"), os.path.join(folder, "b.tif")
processing.run("overlapclip:clippair", {"INPUT_A": a, "INPUT_B": b, "AREA": 1, "MASK_COMMON": True,
    "OUTPUT_A": os.path.join(folder, "a_out.tif"), "OUTPUT_B": os.path.join(folder, "b_out.tif"),
    "OVERLAP": os.path.join(folder, "overlap.gpkg")})
processing.run("overlapclip:clipstack", {"INPUTS": [a, b], "OUTPUT_FOLDER": os.path.join(folder, "stack")})
plugin.unload()
print("no deprecation warning")
"""


def test_no_deprecation_warning_from_the_plugin_on_import_or_run(tmp_path):
    from rasters import A_TRANSFORM, make_raster

    make_raster(tmp_path / "a.tif", A_TRANSFORM, 60, 50, nodata=-1)
    make_raster(tmp_path / "b.tif", (500203.0, 10.0, 0.0, 4999897.0, 0.0, -10.0), 60, 50, nodata=-1)
    script = tmp_path / "run.py"
    script.write_text(NO_DEPRECATION, encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run = subprocess.run(
        [sys.executable, str(script), ROOT, str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "no deprecation warning" in run.stdout
    assert (tmp_path / "overlap.gpkg").is_file() and len(os.listdir(tmp_path / "stack")) == 2


def test_metadata_declares_qgis_3_22_through_4():
    metadata = configparser.ConfigParser()
    metadata.read(os.path.join(ROOT, "metadata.txt"), encoding="utf-8")
    general = metadata["general"]
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["qgisMaximumVersion"] == "4.99"
    # Deprecated since QGIS 4.0, which decides by qgisMaximumVersion.
    assert "supportsqt6" not in {key.lower() for key in general}
