"""Overlap Clip: clip two or more rasters to their common area (QGIS plugin)."""


def classFactory(iface):  # noqa: N802 - the name QGIS calls
    """Return the plugin object QGIS loads; ``iface`` is None under qgis_process."""
    from overlap_clip_plugin.plugin import OverlapClipPlugin

    return OverlapClipPlugin(iface)
