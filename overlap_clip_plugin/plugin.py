"""The plugin shell: registers the Processing provider, nothing more."""

from qgis.core import QgsApplication

from overlap_clip_plugin.processing.provider import OverlapClipProvider


class OverlapClipPlugin:
    """Registers the Overlap Clip provider in the desktop and under qgis_process."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802
        """Register the provider (qgis_process calls this without initGui)."""
        if self.provider is None:
            provider = OverlapClipProvider()
            # On failure (a provider with this id already registered) the registry deletes it.
            if QgsApplication.processingRegistry().addProvider(provider):
                self.provider = provider

    def initGui(self):  # noqa: N802
        """Register the provider when the desktop loads the plugin."""
        self.initProcessing()

    def unload(self):
        """Remove the provider."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
