"""The algorithm ``overlapclip:clippair``: two rasters clipped to their common area."""

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QVariant

from overlap_clip_plugin.core import (
    RESAMPLING_METHODS,
    OverlapClipError,
    crs_name,
    overlap_summary,
    pair_reference,
    plan_clip,
    write_plan,
)

if Qgis.versionInt() >= 33600:
    ADVANCED = Qgis.ProcessingParameterFlag.Advanced
else:
    ADVANCED = QgsProcessingParameterDefinition.FlagAdvanced

if Qgis.versionInt() >= 34000:
    OPTIONS_WIDGET = {"widget_wrapper": {"widget_type": "rasteroptions"}}
else:
    OPTIONS_WIDGET = {
        "widget_wrapper": {"class": "processing.algs.gdal.ui.RasterOptionsWidget.RasterOptionsWidgetWrapper"}
    }


class ClipPairAlgorithm(QgsProcessingAlgorithm):
    """Clip two rasters to their common area, on one grid or each on its own."""

    INPUT_A = "INPUT_A"
    INPUT_B = "INPUT_B"
    GRID = "GRID"
    AREA = "AREA"
    MASK_COMMON = "MASK_COMMON"
    RESAMPLING = "RESAMPLING"
    OPTIONS = "OPTIONS"
    OUTPUT_A = "OUTPUT_A"
    OUTPUT_B = "OUTPUT_B"
    OVERLAP = "OVERLAP"
    OVERLAP_AREA = "OVERLAP_AREA"
    PERCENT_A = "PERCENT_A"
    PERCENT_B = "PERCENT_B"
    WIDTH = "WIDTH"
    HEIGHT = "HEIGHT"

    def tr(self, text):
        """Translate ``text`` in this algorithm's context."""
        return QCoreApplication.translate("ClipPairAlgorithm", text)

    def createInstance(self):  # noqa: N802
        """Return a new instance (the modeler and batch runs need one per run)."""
        return ClipPairAlgorithm()

    def name(self):
        """Return the algorithm name, part of its id ``overlapclip:clippair``."""
        return "clippair"

    def displayName(self):  # noqa: N802
        """Return the name shown in the toolbox."""
        return self.tr("Clip raster pair to common area")

    def group(self):
        """Return the toolbox group."""
        return self.tr("Raster")

    def groupId(self):  # noqa: N802
        """Return the toolbox group id."""
        return "raster"

    def tags(self):
        """Return search tags."""
        return self.tr("overlap,intersection,common,extent,clip,align,grid,change detection,pair").split(",")

    def shortHelpString(self):  # noqa: N802
        """Return the help shown beside the dialog."""
        return self.tr(
            "Clips two rasters to the area they have in common and writes both, ready for "
            "pixel-by-pixel comparison (change detection, imagery against a DEM).\n\n"
            "Grid:\n"
            "- Raster A's grid (default): both outputs on A's CRS, pixel size and pixel phase; "
            "B is resampled only where it does not already lie on that grid.\n"
            "- Raster B's grid: the mirror.\n"
            "- Each raster's own grid: nothing is resampled; each output is a pixel window of its source.\n\n"
            "A pixel belongs to the common area when its centre lies inside it. Where a source already "
            "lies on the output grid its values are copied unchanged. Rasters in different CRSs are "
            "intersected by their footprints in the output CRS.\n\n"
            "The output format follows each output's file extension (.tif, .vrt, .img, ...)."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the parameters; their keys are a contract for models and scripts."""
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT_A, self.tr("Raster A")))
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT_B, self.tr("Raster B")))
        grid = QgsProcessingParameterEnum(
            self.GRID,
            self.tr("Output grid"),
            options=[self.tr("Raster A's grid"), self.tr("Raster B's grid"), self.tr("Each raster's own grid")],
            defaultValue=0,
        )
        grid.setHelp(self.tr("Which pixel grid the outputs use. With A's or B's grid both outputs share one grid."))
        self.addParameter(grid)
        area = QgsProcessingParameterEnum(
            self.AREA,
            self.tr("Common area"),
            options=[self.tr("Raster extents"), self.tr("Where both have valid data")],
            defaultValue=0,
        )
        area.setHelp(
            self.tr(
                "Raster extents: the intersection of the two extents. Where both have valid data: the bounding "
                "box of the pixels where both rasters have valid data (not nodata, not masked) in every band."
            )
        )
        self.addParameter(area)
        mask = QgsProcessingParameterBoolean(
            self.MASK_COMMON, self.tr("Set nodata where either raster has no valid data"), defaultValue=False
        )
        mask.setHelp(
            self.tr(
                "Both outputs then have the same valid pixels. A band without a nodata value gets one "
                "that its data never take."
            )
        )
        self.addParameter(mask)

        resampling_names = [
            self.tr("Nearest neighbour"),
            self.tr("Bilinear"),
            self.tr("Cubic"),
            self.tr("Cubic spline"),
            self.tr("Lanczos windowed sinc"),
            self.tr("Average"),
            self.tr("Mode"),
            self.tr("Minimum"),
            self.tr("Maximum"),
            self.tr("Median"),
            self.tr("First quartile"),
            self.tr("Third quartile"),
        ]
        assert len(resampling_names) == len(RESAMPLING_METHODS)
        resampling = QgsProcessingParameterEnum(
            self.RESAMPLING, self.tr("Resampling method"), options=resampling_names, defaultValue=0
        )
        resampling.setHelp(self.tr("Used only for a raster that does not already lie on the output grid."))
        resampling.setFlags(resampling.flags() | ADVANCED)
        self.addParameter(resampling)

        options = QgsProcessingParameterString(
            self.OPTIONS, self.tr("Creation options"), defaultValue="", optional=True
        )
        options.setHelp(self.tr("GDAL creation options for both outputs, as KEY=VALUE|KEY2=VALUE2."))
        options.setFlags(options.flags() | ADVANCED)
        options.setMetadata(OPTIONS_WIDGET)
        self.addParameter(options)

        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_A, self.tr("Clipped raster A")))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT_B, self.tr("Clipped raster B")))
        self.addParameter(
            QgsProcessingParameterFeatureSink(
                self.OVERLAP,
                self.tr("Overlap polygon"),
                type=QgsProcessing.TypeVectorPolygon,
                optional=True,
                createByDefault=False,
            )
        )
        self.addOutput(QgsProcessingOutputNumber(self.OVERLAP_AREA, self.tr("Overlap area (CRS units of A, squared)")))
        self.addOutput(QgsProcessingOutputNumber(self.PERCENT_A, self.tr("Overlap as percent of A")))
        self.addOutput(QgsProcessingOutputNumber(self.PERCENT_B, self.tr("Overlap as percent of B")))
        self.addOutput(QgsProcessingOutputNumber(self.WIDTH, self.tr("Output width (pixels)")))
        self.addOutput(QgsProcessingOutputNumber(self.HEIGHT, self.tr("Output height (pixels)")))

    def _source(self, parameters, key, context):
        layer = self.parameterAsRasterLayer(parameters, key, context)
        if layer is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, key))
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                self.tr("The layer '{}' is not a file GDAL can read (provider '{}').").format(
                    layer.name(), layer.providerType()
                )
            )
        return layer

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Plan both outputs, log the plan, write them, describe the overlap, name outputs for loading."""
        layer_a = self._source(parameters, self.INPUT_A, context)
        layer_b = self._source(parameters, self.INPUT_B, context)
        grid = self.parameterAsEnum(parameters, self.GRID, context)
        area = self.parameterAsEnum(parameters, self.AREA, context)
        mask_common = self.parameterAsBoolean(parameters, self.MASK_COMMON, context)
        resampling = RESAMPLING_METHODS[self.parameterAsEnum(parameters, self.RESAMPLING, context)]
        options_text = self.parameterAsString(parameters, self.OPTIONS, context) or ""
        creation_options = [item.strip() for item in options_text.split("|") if item.strip()]
        output_a = self.parameterAsOutputLayer(parameters, self.OUTPUT_A, context)
        output_b = self.parameterAsOutputLayer(parameters, self.OUTPUT_B, context)

        def progress_between(start, end):
            def progress(fraction):
                feedback.setProgress(100.0 * (start + (end - start) * fraction))
                return not feedback.isCanceled()

            return progress

        scanning = area == 1 or mask_common
        write_start = 0.2 if scanning else 0.0
        try:
            plan = plan_clip(
                [layer_a.source(), layer_b.source()],
                [output_a, output_b],
                pair_reference(grid),
                area,
                mask_common,
                resampling,
                progress_between(0.0, write_start),
            )
            if feedback.isCanceled():
                raise QgsProcessingException(self.tr("Cancelled before anything was written."))
            self._log_plan(plan, feedback)
            write_plan(plan, creation_options, progress_between(write_start, 0.95))
            summary = overlap_summary(plan)
        except OverlapClipError as err:
            raise QgsProcessingException(str(err)) from err
        feedback.pushInfo(
            self.tr("Overlap: {:.6g} square CRS units, {:.4g}% of A, {:.4g}% of B.").format(
                summary.area, summary.percents[0], summary.percents[1]
            )
        )

        results = {
            self.OUTPUT_A: output_a,
            self.OUTPUT_B: output_b,
            self.OVERLAP_AREA: summary.area,
            self.PERCENT_A: summary.percents[0],
            self.PERCENT_B: summary.percents[1],
            self.WIDTH: summary.width,
            self.HEIGHT: summary.height,
        }
        if parameters.get(self.OVERLAP) is not None:
            results[self.OVERLAP] = self._write_overlap(parameters, context, summary, layer_a)
        feedback.setProgress(100)

        for path, layer, label in ((output_a, layer_a, "A"), (output_b, layer_b, "B")):
            if context.willLoadLayerOnCompletion(path):
                details = context.layerToLoadOnCompletionDetails(path)
                details.name = self.tr("{} ({}, common area)").format(layer.name(), label)
                details.forceName = True
        return results

    def _log_plan(self, plan, feedback):
        if plan.footprint_method:
            feedback.pushInfo(self.tr("Footprints: {}.").format(plan.footprint_method))
        logged_areas = set()
        for label, output in zip(("A", "B"), plan.outputs):
            size = f"{output.grid.width} x {output.grid.height}"
            area = self.tr("Common extent in {}: {}").format(crs_name(output.crs_wkt), str(output.area))
            if area not in logged_areas:
                feedback.pushInfo(area)
                logged_areas.add(area)
            if output.copied:
                feedback.pushInfo(
                    self.tr("Output {}: {} pixels, copied without resampling ({} of the source).").format(
                        label, size, str(output.window)
                    )
                )
            else:
                feedback.pushInfo(
                    self.tr("Output {}: {} pixels, resampled ({}) onto the output grid.").format(
                        label, size, output.resampling
                    )
                )
            if output.mask_with:
                values = ", ".join(str(value) for value in output.nodata)
                feedback.pushInfo(
                    self.tr("Output {}: nodata ({}) where either raster has no valid data.").format(label, values)
                )

    def _write_overlap(self, parameters, context, summary, layer_a):
        fields = QgsFields()
        fields.append(QgsField("area", QVariant.Double))
        fields.append(QgsField("percent_a", QVariant.Double))
        fields.append(QgsField("percent_b", QVariant.Double))
        fields.append(QgsField("width", QVariant.Int))
        fields.append(QgsField("height", QVariant.Int))
        crs = layer_a.crs() if summary.crs_wkt else QgsCoordinateReferenceSystem()
        sink, dest_id = self.parameterAsSink(parameters, self.OVERLAP, context, fields, QgsWkbTypes.MultiPolygon, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OVERLAP))
        feature = QgsFeature(fields)
        feature.setGeometry(QgsGeometry.fromWkt(summary.polygon_wkt))
        feature.setAttributes([summary.area, summary.percents[0], summary.percents[1], summary.width, summary.height])
        sink.addFeature(feature, QgsFeatureSink.FastInsert)
        return dest_id
