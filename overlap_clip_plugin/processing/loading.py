"""How a run's outputs reach the map: drawn as their inputs, stretched alike, outlined, grouped.

QGIS loads the outputs after the algorithm has finished, on the main thread, and hands each loaded layer
to the post-processor attached to it. QGIS 3.22 calls each post-processor as soon as its layer is added;
newer QGIS adds every layer first. Each call here therefore settles the whole run again with the layers
loaded so far: the last call leaves the same map on every version.
"""

from collections import deque

from qgis.core import (
    QgsContrastEnhancement,
    QgsFillSymbol,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsMarkerSymbol,
    QgsMultiBandColorRenderer,
    QgsPalettedRasterRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsProject,
    QgsReadWriteContext,
    QgsSingleBandGrayRenderer,
    QgsSingleSymbolRenderer,
)
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtXml import QDomDocument

from overlap_clip_plugin.processing.compat import MANUAL_LIMITS, NO_ENHANCEMENT, RASTER_LAYER, gray_band

#: What of an input's style an output takes: how it is drawn and rendered, not its fields or notes.
STYLE_CATEGORIES = QgsMapLayer.StyleCategory.Symbology | QgsMapLayer.StyleCategory.Rendering

#: The shift windows: an arrow from each window's centre the way the other raster's content lies, longer the
#: further it lies (2 mm, and 3 mm more a pixel); blue where the window agrees with the estimate, grey where
#: not, a small dot where it measured nothing. Set as properties, as QGIS 3.22 to 4 all read them.
ARROWS = {
    "name": "arrow",
    "color": "31,120,180,255",
    "outline_color": "255,255,255,255",
    "outline_width": "0.2",
    "angle_dd_active": "1",
    "angle_dd_useexpr": "1",
    "angle_dd_expression": 'coalesce(degrees(atan2("dx_px", -"dy_px")), 0)',
    "size_dd_active": "1",
    "size_dd_useexpr": "1",
    "size_dd_expression": 'coalesce(2 + 3 * sqrt("dx_px" ^ 2 + "dy_px" ^ 2), 1)',
    "color_dd_active": "1",
    "color_dd_useexpr": "1",
    "color_dd_expression": "if(\"status\" = 'kept', '31,120,180,255', '150,150,150,255')",
}

#: The overlap polygon: an outline only, in a colour that imagery and elevation models rarely have.
OUTLINE = {"style": "no", "outline_color": "255,0,255,255", "outline_width": "0.8", "outline_width_unit": "MM"}

#: The change map: change (1) in a strong red, no change (0) transparent; nodata (255) is transparent anyway.
CHANGE_COLOURS = {1: QColor(228, 26, 28, 255), 0: QColor(0, 0, 0, 0)}

#: The layer-tree property that marks a group a run made.
RUN_GROUP = "overlap_clip/run_group"

#: Python keeps the post-processors QGIS holds until it has called them (a few runs back is plenty).
_RECENT_RUNS: deque = deque(maxlen=64)


def tr(text):
    """Translate ``text`` in the plugin's translation context."""
    return QCoreApplication.translate("OverlapClip", text)


def stretch_slots(renderer):
    """The bands a renderer stretches, with their contrast enhancements: ``[(band, enhancement), ...]``,
    or None for a renderer that draws values as they are (palette, pseudocolour) or draws no stretch."""
    if isinstance(renderer, QgsMultiBandColorRenderer):
        slots = [
            (renderer.redBand(), renderer.redContrastEnhancement()),
            (renderer.greenBand(), renderer.greenContrastEnhancement()),
            (renderer.blueBand(), renderer.blueContrastEnhancement()),
        ]
    elif isinstance(renderer, QgsSingleBandGrayRenderer):
        slots = [(gray_band(renderer), renderer.contrastEnhancement())]
    else:
        return None
    slots = [(band, enhancement) for band, enhancement in slots if band > 0]
    if not slots or any(e is None or e.contrastEnhancementAlgorithm() == NO_ENHANCEMENT for _, e in slots):
        return None
    return slots


def stretch_signature(renderer):
    """What must agree for two layers to share a stretch: the renderer's kind and its bands."""
    slots = stretch_slots(renderer)
    if slots is None:
        return None
    return (type(renderer).__name__, tuple(band for band, _ in slots))


def project_layer_id(layer, context):
    """``layer``'s id when it is a layer of the run's project (its style can be copied), else None."""
    project = context.project()
    if project is not None and project.mapLayer(layer.id()) is not None:
        return layer.id()
    return None


def copy_style(source, layer):
    """Draw ``layer`` as ``source`` is drawn (renderer, contrast, resampling, opacity); False if QGIS refuses."""
    document = QDomDocument("qgis")
    error = source.exportNamedStyle(document, QgsReadWriteContext(), STYLE_CATEGORIES)
    if error:
        return False
    ok, _ = layer.importNamedStyle(document, STYLE_CATEGORIES)
    return bool(ok)


def move_nodes(nodes, parent, index):
    """Put layer-tree ``nodes`` into ``parent`` at ``index``, in this order (each layer stays in the project)."""
    clones = [node.clone() for node in nodes]
    parent.insertChildNodes(index, clones)
    for node in nodes:
        node.parent().removeChildNode(node)


def change_renderer(layer):
    """The change map's palette: change in red, no change transparent, each with its label in the legend."""
    labels = {1: tr("Change"), 0: tr("No change")}
    classes = [
        QgsPalettedRasterRenderer.Class(value, colour, labels[value]) for value, colour in CHANGE_COLOURS.items()
    ]
    return QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes)


def grey_stretch(layer):
    """Band 1 in grey, stretched from its minimum to its maximum."""
    provider = layer.dataProvider()
    renderer = QgsSingleBandGrayRenderer(provider, 1)
    statistics = provider.bandStatistics(1)
    enhancement = QgsContrastEnhancement(provider.dataType(1))
    enhancement.setContrastEnhancementAlgorithm(
        QgsContrastEnhancement.ContrastEnhancementAlgorithm.StretchToMinimumMaximum
    )
    enhancement.setMinimumValue(statistics.minimumValue)
    enhancement.setMaximumValue(statistics.maximumValue)
    renderer.setContrastEnhancement(enhancement)
    return renderer


class LoadedRun:
    """One run's layers on their way to the map.

    ``share_stretch``: the outputs lie on one grid, so those drawn alike (the same renderer on the same
    bands) take one stretch. ``group_name``: the layer-tree group the outputs go into (none: where
    QGIS puts them).
    """

    def __init__(self, share_stretch, group_name=None):
        self.share_stretch = share_stretch
        self.group_name = group_name
        self.entries = []  # (key, kind, source layer id), top of the layer tree first
        self.layer_ids = {}
        self.own_limits = {}
        self.group = None
        self.stretch_said = False
        self.processors = []
        _RECENT_RUNS.append(self)

    def attach(self, details, key, kind, source_id=None):
        """Have the layer that ``details`` loads arrive here; ``kind``: "raster", "outline", "arrows",
        "change" or "magnitude"."""
        processor = _Arrival(self, key)
        self.processors.append(processor)
        self.entries.append((key, kind, source_id))
        details.setPostProcessor(processor)

    def arrive(self, key, layer, context, feedback):
        """Take the layer of output ``key`` as QGIS loads it, and settle the run's styles again."""
        project = context.project() or QgsProject.instance()
        kind, source_id = next((kind, source) for k, kind, source in self.entries if k == key)
        self.layer_ids[key] = layer.id()
        if kind == "outline":
            layer.setRenderer(QgsSingleSymbolRenderer(QgsFillSymbol.createSimple(OUTLINE)))
        elif kind == "arrows":
            layer.setRenderer(QgsSingleSymbolRenderer(QgsMarkerSymbol.createSimple(ARROWS)))
        elif kind == "change":
            layer.setRenderer(change_renderer(layer))
        elif kind == "magnitude":
            layer.setRenderer(grey_stretch(layer))
        else:
            source = project.mapLayer(source_id) if source_id else None
            if (
                source is not None
                and source.type() == RASTER_LAYER
                and source.isValid()
                and source.bandCount() == layer.bandCount()
            ):
                copy_style(source, layer)
            slots = stretch_slots(layer.renderer())
            if slots is not None:
                self.own_limits[key] = [(e.minimumValue(), e.maximumValue()) for _, e in slots]
        layer.triggerRepaint()
        self.settle(project, feedback)

    def loaded(self, project, kind=None):
        """``(key, layer)`` of the run's layers in the project, top of the layer tree first."""
        found = []
        for key, entry_kind, _ in self.entries:
            layer = project.mapLayer(self.layer_ids.get(key, ""))
            if layer is not None and (kind is None or entry_kind == kind):
                found.append((key, layer))
        return found

    def settle(self, project, feedback):
        """Stretch alike, group and order the layers loaded so far."""
        if self.share_stretch:
            self.stretch_alike(project, feedback)
        nodes = [project.layerTreeRoot().findLayer(layer.id()) for _, layer in self.loaded(project)]
        nodes = [node for node in nodes if node is not None]
        if not nodes:
            return
        if self.group_name:
            if self.group is None or self.group.parent() is None:
                # Beside, not inside, the group of an earlier run whose layer QGIS reuses.
                anchor = nodes[0]
                while anchor.parent().customProperty(RUN_GROUP):
                    anchor = anchor.parent()
                self.group = self.new_group(anchor.parent(), anchor.parent().children().index(anchor))
            parent = self.group
        else:
            parent = nodes[0].parent()
            nodes = [node for node in nodes if node.parent() is parent]
        children = parent.children()
        index = min((children.index(node) for node in nodes if node in children), default=0)
        if children[index : index + len(nodes)] != nodes:
            move_nodes(nodes, parent, index)

    def new_group(self, parent, index):
        """The run's group, named ``group_name`` (with a number when a group of that name is already there)."""
        names = {child.name() for child in parent.children() if isinstance(child, QgsLayerTreeGroup)}
        name, number = self.group_name, 1
        while name in names:
            number += 1
            name = f"{self.group_name} ({number})"
        group = parent.insertGroup(index, name)
        group.setExpanded(True)
        group.setCustomProperty(RUN_GROUP, True)
        return group

    def stretch_alike(self, project, feedback):
        """One stretch for each set of the run's rasters drawn alike (the same renderer on the same bands):
        per band, from the lowest minimum of their own stretches to the highest maximum."""
        alike = {}
        for key, layer in self.loaded(project, "raster"):
            signature = stretch_signature(layer.renderer())
            if key in self.own_limits and signature is not None:
                alike.setdefault(signature, []).append((key, layer))
        everything_loaded = len(self.loaded(project, "raster")) == sum(1 for e in self.entries if e[1] == "raster")
        for rasters in alike.values():
            if len(rasters) < 2:
                continue
            limits = self.shared_limits([self.own_limits[key] for key, _ in rasters])
            for _, layer in rasters:
                renderer = layer.renderer()
                for (_, enhancement), (low, high) in zip(stretch_slots(renderer), limits):
                    enhancement.setMinimumValue(low)
                    enhancement.setMaximumValue(high)
                origin = renderer.minMaxOrigin()
                origin.setLimits(MANUAL_LIMITS)
                renderer.setMinMaxOrigin(origin)
                layer.triggerRepaint()
            if everything_loaded and not self.stretch_said:
                bands = tr("; ").join(
                    tr("band {band}: {low:.6g} to {high:.6g}").format(band=band, low=low, high=high)
                    for (band, _), (low, high) in zip(stretch_slots(rasters[0][1].renderer()), limits)
                )
                names = ", ".join(f"'{layer.name()}'" for _, layer in rasters)
                feedback.pushInfo(tr("{names} share one stretch ({bands}).").format(names=names, bands=bands))
        self.stretch_said = self.stretch_said or everything_loaded

    @staticmethod
    def shared_limits(own):
        """Per band, the lowest minimum and the highest maximum of ``own`` limits ([[(min, max), ...], ...])."""
        return [
            (min(limits[slot][0] for limits in own), max(limits[slot][1] for limits in own))
            for slot in range(len(own[0]))
        ]


class _Arrival(QgsProcessingLayerPostProcessorInterface):
    """Tells the run that one of its layers has been loaded."""

    def __init__(self, run, key):
        super().__init__()
        self.run = run
        self.key = key

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802
        """Called by QGIS on the main thread once the layer is in the project."""
        self.run.arrive(self.key, layer, context, feedback)
