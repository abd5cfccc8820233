"""The plugin shell: loads the translation QGIS shows itself in and registers the Processing provider."""

import os

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

from overlap_clip_plugin.processing.provider import OverlapClipProvider

I18N = os.path.join(os.path.dirname(os.path.abspath(__file__)), "i18n")


def translation_file(locales):
    """The compiled translation for the first of ``locales`` that has one, or None.

    QGIS names locales ``zh-Hans``, ``zh_CN`` or just ``zh``; all of them, and
    any Chinese locale but a traditional one, take the Simplified Chinese file.
    """
    for locale in locales:
        if not locale:
            continue
        name = locale.replace("-", "_")
        candidates = [name, name.split("_")[0]]
        if name.lower().startswith("zh") and not any(mark in name for mark in ("Hant", "TW", "HK", "MO")):
            candidates.insert(0, "zh_CN")
        for candidate in candidates:
            path = os.path.join(I18N, f"overlap_clip_plugin_{candidate}.qm")
            if os.path.isfile(path):
                return path
    return None


def qgis_languages():
    """The languages to look for the plugin's translation in: the one QGIS loaded for itself, else the
    profile's locale, then Qt's.

    The desktop names its translation after ``--lang``, the profile's override or the system locale,
    whichever it followed; ``QgsApplication.locale()`` misses ``--lang`` when the profile does not
    override the system locale. qgis_process and a bare ``QgsApplication`` may name none.
    """
    app = QgsApplication.instance()
    loaded = app.translation() if app is not None else ""
    if loaded:
        # Alone: QGIS shown in English (`--lang en`) keeps the plugin in English whatever the profile says.
        return [loaded]
    return [QgsApplication.locale(), QLocale().name()]


class OverlapClipPlugin:
    """Registers the Overlap Clip provider in the desktop and under qgis_process."""

    def __init__(self, iface):
        self.iface = iface
        self.provider = None
        self.translator = None
        path = translation_file(qgis_languages())
        if path:
            translator = QTranslator()
            if translator.load(path):
                QCoreApplication.installTranslator(translator)
                self.translator = translator

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
        """Remove the provider and the translation."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
