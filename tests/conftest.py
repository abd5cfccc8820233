"""Session set-up: the repository and QGIS's own plugins on sys.path, the provider registered once."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


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
