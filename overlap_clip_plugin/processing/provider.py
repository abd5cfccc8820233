"""The Processing provider ``overlapclip``."""

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from overlap_clip_plugin.processing.base import tr
from overlap_clip_plugin.processing.change_map import ChangeMapAlgorithm
from overlap_clip_plugin.processing.clip_pair import ClipPairAlgorithm
from overlap_clip_plugin.processing.clip_stack import ClipStackAlgorithm

ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "icon.svg")


class OverlapClipProvider(QgsProcessingProvider):
    """Provides the Overlap Clip algorithms."""

    def id(self):
        """Return the provider id used in algorithm ids (``overlapclip:...``)."""
        return "overlapclip"

    def name(self):
        """Return the provider name shown in the toolbox."""
        return tr("Overlap Clip")

    def icon(self):
        """Return the provider icon, loaded by file path (no compiled resources needed)."""
        return QIcon(ICON_PATH)

    def svgIconPath(self):  # noqa: N802
        """Return the path of the provider icon."""
        return ICON_PATH

    def loadAlgorithms(self):  # noqa: N802
        """Add the provider's algorithms."""
        self.addAlgorithm(ClipPairAlgorithm())
        self.addAlgorithm(ClipStackAlgorithm())
        self.addAlgorithm(ChangeMapAlgorithm())
