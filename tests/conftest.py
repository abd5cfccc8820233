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
def provider(qgis_app, qgis_processing):
    """The Overlap Clip provider, registered in the session's Processing registry."""
    from qgis.core import QgsApplication

    from overlap_clip_plugin.processing.provider import OverlapClipProvider

    registered = OverlapClipProvider()
    assert QgsApplication.processingRegistry().addProvider(registered)
    yield registered
    QgsApplication.processingRegistry().removeProvider(registered)
