"""The algorithm ``overlapclip:changemap``: where the second date differs from the first.

The two rasters take the one road (:func:`~overlap_clip_plugin.core.run.run_clip` with a change request): clipped
onto A's grid, the common valid area masked in both, then compared (:mod:`overlap_clip_plugin.core.change`), and
the map committed with the clipped pair.
"""

import os

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterBand,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingUtils,
)
from qgis.PyQt.QtCore import QVariant

from overlap_clip_plugin.core.change import DIRECTIONS, PCA_KMEANS, ChangeRequest, ChangeSettings
from overlap_clip_plugin.core.change import METHODS as CHANGE_METHODS
from overlap_clip_plugin.processing.base import ClipAlgorithmBase
from overlap_clip_plugin.processing.compat import NUMBER_DOUBLE, NUMBER_INTEGER
from overlap_clip_plugin.processing.loading import LoadedRun, project_layer_id

#: ChangeSettings' defaults: Celik's h and S as the core chose them.
DEFAULTS = ChangeSettings()


class ChangeMapAlgorithm(ClipAlgorithmBase):
    """Map the change between two rasters on any grids: clipped onto A's grid, then compared."""

    INPUT_A = "INPUT_A"
    INPUT_B = "INPUT_B"
    BANDS = "BANDS"
    METHOD = "METHOD"
    BLOCK = "BLOCK"
    COMPONENTS = "COMPONENTS"
    THRESHOLD = "THRESHOLD"
    DIRECTION = "DIRECTION"
    OUTPUT = "OUTPUT"
    MAGNITUDE = "MAGNITUDE"
    OUTPUT_A = "OUTPUT_A"
    OUTPUT_B = "OUTPUT_B"
    CHANGED_PIXELS = "CHANGED_PIXELS"
    VALID_PIXELS = "VALID_PIXELS"
    CHANGED_PERCENT = "CHANGED_PERCENT"
    CHANGED_AREA_M2 = "CHANGED_AREA_M2"
    THRESHOLD_USED = "THRESHOLD_USED"

    RASTER_INPUTS = (INPUT_A, INPUT_B)
    #: The core's names of the methods and directions, in the order the dialog lists them.
    METHODS = CHANGE_METHODS

    def createInstance(self):  # noqa: N802
        """Return a new instance (the modeler and batch runs need one per run)."""
        return ChangeMapAlgorithm()

    def name(self):
        """Return the algorithm name, part of its id ``overlapclip:changemap``."""
        return "changemap"

    def displayName(self):  # noqa: N802
        """Return the name shown in the toolbox."""
        return self.tr("Change map of two dates")

    def tags(self):
        """Return search tags."""
        return self.tr("change detection,change map,difference,pca,k-means,kmeans,otsu,celik,two dates").split(",")

    def shortHelpString(self):  # noqa: N802
        """Return the help shown beside the dialog."""
        return self.tr(
            "Maps where raster B (the later date) differs from raster A (the earlier date). Both are first clipped "
            "onto A's grid over the area where both have valid data, with nodata set where either has none; the "
            "change map is then 1 (change), 0 (no change) or 255 (nodata, outside that common area).\n\n"
            "Methods:\n"
            "- PCA + k-means (after Celik, 2009): the difference image (its magnitude over the compared bands), "
            "each pixel's block of h x h pixels projected onto the S leading principal components, split into two "
            "clusters; the cluster of larger mean difference is change.\n"
            "- Change-vector magnitude: the length of the difference over the compared bands, above Otsu's "
            "threshold or the one given.\n"
            "- Difference: one band's difference (both ways, brighter only or darker only), above Otsu's threshold "
            "or the one given.\n\n"
            "What every method assumes: the dates are radiometrically comparable (the same sensor, or a pair "
            "normalised beforehand, in the same units); the images are registered (check it with the shift "
            "estimate of 'Clip raster pair to common area': a shift of a pixel makes edges look like change); and "
            "the scene holds two classes, change and no change. Clouds, shadows and seasons are change to every "
            "method: mask clouds, their shadows and snow with the clear-sky rules of A and B (QA_A, QA_B), which "
            "make them nodata in the map. The thresholds are in the bands' units.\n\n"
            "Example: two Landsat scenes of 2020 (A) and 2024 (B), green band only (BANDS 1), PCA + k-means: the "
            "map's red pixels are the change, and the log gives their count, percent and area in square metres."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the parameters; their keys are a contract for models and scripts."""
        input_a = QgsProcessingParameterRasterLayer(self.INPUT_A, self.tr("Raster A (earlier date)"))
        self.add(input_a, self.tr("The first date; the change map lies on its grid."))
        input_b = QgsProcessingParameterRasterLayer(self.INPUT_B, self.tr("Raster B (later date)"))
        self.add(input_b, self.tr("The second date, on any grid: it is clipped onto A's grid first."))
        bands = QgsProcessingParameterBand(
            self.BANDS,
            self.tr("Bands to compare"),
            parentLayerParameterName=self.INPUT_A,
            optional=True,
            allowMultiple=True,
        )
        self.add(
            bands,
            self.tr(
                "The bands compared, the same numbers in both rasters. Empty: every band (both rasters must then "
                "have as many); the plain difference compares band 1."
            ),
        )
        method = QgsProcessingParameterEnum(
            self.METHOD,
            self.tr("Method"),
            options=[self.tr("PCA + k-means (Celik 2009)"), self.tr("Change-vector magnitude"), self.tr("Difference")],
            defaultValue=0,
        )
        self.add(
            method,
            self.tr(
                "PCA + k-means: blocks of the difference image split into two clusters. Change-vector magnitude and "
                "difference: above a threshold (Otsu's unless one is given)."
            ),
        )
        block = QgsProcessingParameterNumber(
            self.BLOCK,
            self.tr("Block size h (pixels, odd)"),
            type=NUMBER_INTEGER,
            defaultValue=DEFAULTS.block_size,
            minValue=3,
        )
        self.add(block, self.tr("PCA + k-means: the side of each pixel's neighbourhood, an odd number of pixels."))
        components = QgsProcessingParameterNumber(
            self.COMPONENTS,
            self.tr("Principal components S"),
            type=NUMBER_INTEGER,
            defaultValue=DEFAULTS.components,
            minValue=1,
        )
        self.add(components, self.tr("PCA + k-means: how many leading principal components each block keeps."))
        threshold = QgsProcessingParameterNumber(
            self.THRESHOLD,
            self.tr("Change threshold"),
            type=NUMBER_DOUBLE,
            optional=True,
        )
        self.add(
            threshold,
            self.tr(
                "Change-vector magnitude and difference: a change above this value, in the bands' units. Empty: "
                "Otsu's threshold on a sample of the common area. Not used by PCA + k-means."
            ),
        )
        direction = QgsProcessingParameterEnum(
            self.DIRECTION,
            self.tr("Difference direction"),
            options=[self.tr("Either way"), self.tr("B brighter"), self.tr("B darker")],
            defaultValue=0,
        )
        self.add(direction, self.tr("Difference only: which change counts."), advanced=True)
        self.add_pair_qa_parameters()
        self.add_writing_parameters()
        output = QgsProcessingParameterRasterDestination(self.OUTPUT, self.tr("Change map"))
        self.add(output, self.tr("Byte GeoTIFF (.tif): 1 change, 0 no change, 255 nodata outside the common area."))
        magnitude = QgsProcessingParameterRasterDestination(
            self.MAGNITUDE, self.tr("Change magnitude"), optional=True, createByDefault=False
        )
        self.add(
            magnitude,
            self.tr("Float32 GeoTIFF (.tif) of the quantity the method compares (the difference's magnitude)."),
        )
        for key, name in ((self.OUTPUT_A, self.tr("Clipped raster A")), (self.OUTPUT_B, self.tr("Clipped raster B"))):
            clipped = QgsProcessingParameterRasterDestination(key, name, optional=True, createByDefault=True)
            self.add(
                clipped,
                self.tr("The raster on A's grid over the common area, as compared; a temporary file unless named."),
            )
        self.addOutput(QgsProcessingOutputNumber(self.CHANGED_PIXELS, self.tr("Changed pixels")))
        self.addOutput(QgsProcessingOutputNumber(self.VALID_PIXELS, self.tr("Pixels compared (common valid area)")))
        self.addOutput(QgsProcessingOutputNumber(self.CHANGED_PERCENT, self.tr("Changed percent of the common area")))
        self.addOutput(
            QgsProcessingOutputNumber(self.CHANGED_AREA_M2, self.tr("Changed area on the ellipsoid (square metres)"))
        )
        self.addOutput(QgsProcessingOutputNumber(self.THRESHOLD_USED, self.tr("Threshold used")))

    def settings(self, parameters, context):
        """The core's settings from the parameters (enum positions become the core's names)."""
        method = self.METHODS[self.parameterAsEnum(parameters, self.METHOD, context)]
        bands = tuple(self.parameterAsInts(parameters, self.BANDS, context)) or None
        threshold = parameters.get(self.THRESHOLD)
        if isinstance(threshold, QVariant) and threshold.isNull():
            threshold = None
        return ChangeSettings(
            method=method,
            bands=bands,
            block_size=self.parameterAsInt(parameters, self.BLOCK, context),
            components=self.parameterAsInt(parameters, self.COMPONENTS, context),
            threshold=None
            if threshold is None or str(threshold).strip() == ""
            else self.parameterAsDouble(parameters, self.THRESHOLD, context),
            direction=DIRECTIONS[self.parameterAsEnum(parameters, self.DIRECTION, context)],
        )

    def clipped_path(self, parameters, key, context):
        """Where the clipped raster ``key`` goes: the destination given, else a temporary file."""
        if self.output_requested(parameters, key, context):
            return self.parameterAsOutputLayer(parameters, key, context)
        return QgsProcessingUtils.generateTempFilename(f"{key.lower()}.tif")

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Check everything, clip the pair onto A's grid, map the change, and name the outputs for loading."""
        layers = [self.raster_layers(parameters, key, context) for key in (self.INPUT_A, self.INPUT_B)]
        settings = self.settings(parameters, context)
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        magnitude = (
            self.parameterAsOutputLayer(parameters, self.MAGNITUDE, context)
            if self.output_requested(parameters, self.MAGNITUDE, context)
            else None
        )
        clipped = [self.clipped_path(parameters, key, context) for key in (self.OUTPUT_A, self.OUTPUT_B)]
        if settings.method == PCA_KMEANS and settings.threshold is not None:
            feedback.pushWarning(self.tr("PCA + k-means sets no threshold; the change threshold is not used."))
        # One run: the pair clipped onto A's grid over the common valid area, masked in both (the change map's
        # nodata is where either date has none), then mapped, and all of it committed together or not at all.
        request = ChangeRequest(output, settings, magnitude)
        run = self.clip_layers(
            layers,
            ("A", "B"),
            clipped,
            "a",
            parameters,
            context,
            feedback,
            whole=False,
            area="valid",
            mask_common=True,
            change=request,
            pieces=os.cpu_count() or 1,
        )
        result = run.change
        self.log_result(result, feedback)
        results = {
            self.OUTPUT: output,
            self.MAGNITUDE: magnitude,
            self.CHANGED_PIXELS: result.changed,
            self.VALID_PIXELS: result.valid,
            self.CHANGED_PERCENT: result.changed_percent,
            self.CHANGED_AREA_M2: result.changed_area_m2,
            self.THRESHOLD_USED: result.threshold,
        }
        for key, path in zip((self.OUTPUT_A, self.OUTPUT_B), clipped):
            results[key] = path if self.output_requested(parameters, key, context) else None
        feedback.setProgress(100)
        self.load_over_the_pair(results, layers, context)
        return results

    def log_result(self, result, feedback):
        """Say the numbers: the bands compared, changed pixels of those compared, percent, area, and the threshold
        or the PCA's share."""
        feedback.pushInfo(self.tr("Bands compared: {}.").format(", ".join(str(band) for band in result.bands)))
        feedback.pushInfo(
            self.tr("Changed: {} of {} pixels compared ({:.4g} %).").format(
                result.changed, result.valid, result.changed_percent or 0.0
            )
        )
        if result.changed_area_m2 is not None:
            feedback.pushInfo(
                self.tr("Changed area on the ellipsoid: {:.6g} square metres ({:.6g} square kilometres).").format(
                    result.changed_area_m2, result.changed_area_m2 / 1e6
                )
            )
        if result.threshold is not None:
            feedback.pushInfo(self.tr("Threshold: {:.6g}.").format(result.threshold))
        if result.explained is not None:
            feedback.pushInfo(
                self.tr("The principal components kept hold {:.1f} % of the blocks' variance.").format(
                    100.0 * result.explained
                )
            )

    def load_over_the_pair(self, results, layers, context):
        """The change map on top, then the magnitude, then the clipped pair drawn as its inputs."""
        run = LoadedRun(share_stretch=True)
        if context.willLoadLayerOnCompletion(results[self.OUTPUT]):
            details = context.layerToLoadOnCompletionDetails(results[self.OUTPUT])
            details.name = self.tr("Change ({} to {})").format(layers[0].name(), layers[1].name())
            details.forceName = True
            run.attach(details, "change", "change")
        if results[self.MAGNITUDE] and context.willLoadLayerOnCompletion(results[self.MAGNITUDE]):
            details = context.layerToLoadOnCompletionDetails(results[self.MAGNITUDE])
            details.name = self.tr("Change magnitude")
            details.forceName = True
            run.attach(details, "magnitude", "magnitude")
        for key, layer, label in zip((self.OUTPUT_A, self.OUTPUT_B), layers, ("A", "B")):
            path = results[key]
            if path and context.willLoadLayerOnCompletion(path):
                details = context.layerToLoadOnCompletionDetails(path)
                details.name = self.tr("{} ({}, common area)").format(layer.name(), label)
                details.forceName = True
                run.attach(details, label, "raster", project_layer_id(layer, context))
