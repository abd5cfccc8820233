"""Session set-up: the repository and QGIS's own plugins on sys.path, the provider registered once."""

import configparser
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Debian's qgis_process wrapper passes an option the binary rejects: call the binary.
QGIS_PROCESS = shutil.which("qgis_process.bin") or shutil.which("qgis_process")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_report_header(config):
    """Say which QGIS profile the suite installs the plugin into: never the user's under `make test`."""
    profile = os.environ.get("QGIS_CUSTOM_CONFIG_PATH")
    if profile:
        return f"QGIS profile: {profile} (the suite's own; desktop and qgis_process tests use temporary ones)"
    return "QGIS profile: none set; the desktop and qgis_process tests use temporary profiles of their own"


def pytest_configure(config):
    """Make QGIS's bundled ``processing`` package importable, as the desktop does."""
    from qgis.core import QgsApplication

    plugins = os.path.join(QgsApplication.pkgDataPath(), "python", "plugins")
    if plugins not in sys.path:
        sys.path.append(plugins)


@pytest.fixture(scope="session")
def plugin(qgis_app, qgis_processing):
    """The plugin, loaded as qgis_process loads it (no iface), once for the session."""
    from overlap_clip_plugin import classFactory

    loaded = classFactory(None)
    loaded.initProcessing()
    assert loaded.provider is not None
    yield loaded
    loaded.unload()


@pytest.fixture
def provider(plugin):
    """The registered Overlap Clip provider."""
    from qgis.core import QgsApplication

    registered = QgsApplication.processingRegistry().providerById("overlapclip")
    assert registered is not None
    return registered


@pytest.fixture(scope="session")
def profile(tmp_path_factory):
    """Environment of a QGIS profile of the tests' own, with the plugin installed by `make install`.

    The user's real profile is never touched (QGIS_CUSTOM_CONFIG_PATH).
    """
    if QGIS_PROCESS is None:
        pytest.skip("qgis_process is not installed; `make test` installs it")
    config = tmp_path_factory.mktemp("qgis-profile")
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(config), QT_QPA_PLATFORM="offscreen")
    subprocess.run(["make", "-s", "-C", ROOT, "install"], env=env, check=True, capture_output=True, text=True)
    assert (config / "profiles/default/python/plugins/overlap_clip_plugin/metadata.txt").is_file()
    # A second install must accept "already enabled".
    subprocess.run(["make", "-s", "-C", ROOT, "install"], env=env, check=True, capture_output=True, text=True)
    return env


@pytest.fixture(scope="session")
def project_layer_tree_view(qgis_app):
    """QGIS's own layer-tree view of QgsProject.instance(), alive for the whole session.

    Never torn down mid-session: QGIS 3.40 dies (SIGFPE) when pending events reach a view whose
    model was taken away.
    """
    from qgis.core import QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView

    view = QgsLayerTreeView()
    model = QgsLayerTreeModel(QgsProject.instance().layerTreeRoot(), view)
    view.setModel(model)
    return view


@pytest.fixture
def layer_tree(qgis_iface, project_layer_tree_view, monkeypatch):
    """pytest-qgis's interface with a real layer-tree view of the project, as the desktop has.

    QGIS 3.44's post-processing hands ``iface.layerTreeView()`` to C++, which takes no test double.
    """
    monkeypatch.setattr(qgis_iface, "layerTreeView", lambda: project_layer_tree_view, raising=False)
    return project_layer_tree_view


@pytest.fixture
def project(provider, layer_tree):
    """QgsProject.instance(), empty before and after the test, with the provider and a layer-tree view."""
    from qgis.core import QgsProject

    project = QgsProject.instance()
    project.removeAllMapLayers()
    project.layerTreeRoot().removeAllChildren()
    yield project
    project.removeAllMapLayers()
    project.layerTreeRoot().removeAllChildren()


@pytest.fixture
def scanned_rows(monkeypatch):
    """The row counts of every strip the core reads of the rasters' masks, in order (a list that grows)."""
    from overlap_clip_plugin.core import validity

    rows_read = []
    real_read_each = validity.CommonMask.read_each

    def counting(self, row_off, rows):
        rows_read.append(rows)
        return real_read_each(self, row_off, rows)

    monkeypatch.setattr(validity.CommonMask, "read_each", counting)
    return rows_read


@pytest.fixture(scope="session")
def chinese_profile(tmp_path_factory):
    """A QGIS profile with the plugin installed and QGIS's language set to Simplified Chinese."""
    if QGIS_PROCESS is None:
        pytest.skip("qgis_process is not installed; `make test` installs it")
    config = tmp_path_factory.mktemp("qgis-profile-zh")
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(config), QT_QPA_PLATFORM="offscreen", LANG="C.UTF-8")
    env.pop("LC_ALL", None)
    subprocess.run(["make", "-s", "-C", ROOT, "install"], env=env, check=True, capture_output=True)
    set_profile_locale(config, override=True, locale="zh-Hans")
    return env


def set_profile_locale(config, override, locale):
    """Set the locale of the QGIS profile root ``config``: whether it overrides the system's, and which."""
    ini = config / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    settings = configparser.ConfigParser(interpolation=None)
    settings.optionxform = str
    settings.read(ini, encoding="utf-8")
    settings["locale"] = {"overrideFlag": "true" if override else "false", "userLocale": locale}
    with open(ini, "w", encoding="utf-8") as handle:
        settings.write(handle, space_around_delimiters=False)
