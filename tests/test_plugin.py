"""The plugin shell and the files the QGIS plugin repository requires."""

import configparser
import os
import xml.etree.ElementTree as ET

from commands import python_output
from conftest import ROOT
from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QTranslator, QUrl
from qgis.PyQt.QtGui import QIcon, QImage, QTextDocument
from translations import qm_path

from overlap_clip_plugin import classFactory


def test_plugin_registers_and_removes_the_provider_without_iface(plugin):
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("overlapclip") is plugin.provider
    plugin.unload()
    assert plugin.provider is None
    assert registry.providerById("overlapclip") is None
    plugin.initGui()
    plugin.initProcessing()
    provider = registry.providerById("overlapclip")
    assert provider is plugin.provider
    assert sorted(alg.id() for alg in provider.algorithms()) == [
        "overlapclip:changemap",
        "overlapclip:clippair",
        "overlapclip:clipstack",
    ]
    assert [p.id() for p in registry.providers()].count("overlapclip") == 1


def test_a_second_copy_of_the_plugin_does_not_register_twice(plugin, qgis_iface):
    second = classFactory(qgis_iface)
    second.initGui()
    assert second.provider is None
    assert [p.id() for p in QgsApplication.processingRegistry().providers()].count("overlapclip") == 1
    second.unload()
    assert QgsApplication.processingRegistry().providerById("overlapclip") is plugin.provider


def test_metadata_has_every_field_the_plugin_repository_requires():
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, "metadata.txt"), encoding="utf-8")
    general = parser["general"]
    for field in (
        "name",
        "qgisMinimumVersion",
        "description",
        "about",
        "version",
        "author",
        "email",
        "repository",
        "tracker",
        "category",
        "tags",
        "icon",
    ):
        assert general.get(field, "").strip(), field
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["repository"].startswith("https://") and general["tracker"].startswith("https://")
    # The plugin manager shows this image: it must load.
    assert not QImage(os.path.join(ROOT, "overlap_clip_plugin", general["icon"])).isNull()


def test_the_toolbox_icon_is_drawn_from_the_svg_shipped_with_the_plugin(provider):
    """The provider loads its icon by file path; nothing loads resources.qrc, which must list only files that
    exist (that SVG among them) for those who compile it."""
    path = provider.svgIconPath()
    assert os.path.isfile(path) and os.path.samefile(path, os.path.join(ROOT, "overlap_clip_plugin", "icon.svg"))
    drawn = provider.icon().pixmap(32, 32).toImage()
    assert not drawn.isNull()
    assert drawn == QIcon(path).pixmap(32, 32).toImage()
    # Not an empty picture: a QIcon of a missing or unreadable file is not null either, but draws nothing.
    assert any(drawn.pixelColor(x, y).alpha() > 0 for x in range(32) for y in range(32))
    listed = [node.text for node in ET.parse(os.path.join(ROOT, "resources.qrc")).iter("file")]
    assert [name for name in listed if not os.path.isfile(os.path.join(ROOT, name))] == []
    assert any(os.path.samefile(os.path.join(ROOT, name), path) for name in listed)


def test_core_works_where_qgis_cannot_be_imported(tmp_path):
    script = (
        "import sys; sys.modules['qgis'] = None\n"
        "from rasters import make_raster\n"
        "from overlap_clip_plugin.core import clip_pair\n"
        f"a = make_raster('{tmp_path}/a.tif', (0.0, 1.0, 0.0, 10.0, 0.0, -1.0), 10, 10)\n"
        f"b = make_raster('{tmp_path}/b.tif', (5.0, 1.0, 0.0, 10.0, 0.0, -1.0), 10, 10)\n"
        f"plan = clip_pair(a, b, '{tmp_path}/x.tif', '{tmp_path}/y.tif')\n"
        "print(plan.outputs[0].grid.width, 'qgis' in sys.modules and sys.modules['qgis'] is not None)\n"
    )
    assert python_output(script).split() == ["5", "False"]


def test_every_parameter_has_help_and_the_help_button_opens_a_page_shipped_with_the_plugin(provider):
    for algorithm in provider.algorithms():
        for parameter in algorithm.parameterDefinitions():
            assert parameter.help(), f"{algorithm.id()} {parameter.name()}"
        assert "Example" in algorithm.shortHelpString()
        url = QUrl(algorithm.helpUrl())
        assert url.isLocalFile() and url.toLocalFile().endswith(f"help/{algorithm.name()}.en.html")
        with open(url.toLocalFile(), encoding="utf-8") as handle:
            page = handle.read()
        keys = [parameter.name() for parameter in algorithm.parameterDefinitions()]
        keys += [output.name() for output in algorithm.outputDefinitions()]
        assert [key for key in keys if f"<code>{key}</code>" not in page] == []


def test_the_help_page_follows_the_interface_language(provider):
    translator = QTranslator()
    assert translator.load(qm_path("zh_CN"))
    QCoreApplication.installTranslator(translator)
    try:
        for algorithm in provider.algorithms():
            path = QUrl(algorithm.helpUrl()).toLocalFile()
            assert path.endswith(f"help/{algorithm.name()}.zh_CN.html") and os.path.isfile(path)
            with open(path, encoding="utf-8") as handle:
                assert 'lang="zh-CN"' in handle.read()
    finally:
        QCoreApplication.removeTranslator(translator)


def test_the_help_beside_the_dialog_shows_the_file_name_placeholder(provider):
    """QGIS shows the short help as HTML, where a <name> placeholder would vanish as an unknown tag."""
    algorithm = provider.algorithm("clipstack")
    document = QTextDocument()
    document.setHtml(algorithm.shortHelpString().replace("\n", "<br>"))
    assert "NAME_common.tif" in document.toPlainText()
    folder = algorithm.parameterDefinition("OUTPUT_FOLDER").help()
    document.setHtml(folder)
    assert "NAME_common.tif" in document.toPlainText()
