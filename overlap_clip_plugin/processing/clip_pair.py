"""The algorithm ``overlapclip:clippair``: two rasters clipped to their common area."""

import os

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingException,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from overlap_clip_plugin.core.plan import Note
from overlap_clip_plugin.processing.base import ClipAlgorithmBase, core_message
from overlap_clip_plugin.processing.compat import (
    FAST_INSERT,
    MULTIPOLYGON,
    POINT,
    SOURCE_POINT,
    SOURCE_POLYGON,
    double_field,
    integer_field,
    string_field,
)
from overlap_clip_plugin.processing.loading import LoadedRun, project_layer_id


class ClipPairAlgorithm(ClipAlgorithmBase):
    """Clip two rasters to their common area, on one grid or each on its own."""

    INPUT_A = "INPUT_A"
    INPUT_B = "INPUT_B"
    GRID = "GRID"
    OUTPUT_A = "OUTPUT_A"
    OUTPUT_B = "OUTPUT_B"
    OVERLAP = "OVERLAP"
    WHOLE_INPUT_PERCENTS = "WHOLE_INPUT_PERCENTS"
    OVERLAP_AREA = "OVERLAP_AREA"
    OVERLAP_AREA_M2 = "OVERLAP_AREA_M2"
    PERCENT_A = "PERCENT_A"
    PERCENT_B = "PERCENT_B"
    WIDTH = "WIDTH"
    HEIGHT = "HEIGHT"
    SHIFT = "SHIFT"
    COREGISTER = "COREGISTER"
    SHIFT_X = "SHIFT_X"
    SHIFT_Y = "SHIFT_Y"
    SHIFT_M = "SHIFT_M"
    SHIFT_RELIABLE = "SHIFT_RELIABLE"
    SHIFT_NOTE = "SHIFT_NOTE"
    SHIFT_WINDOWS = "SHIFT_WINDOWS"

    RASTER_INPUTS = (INPUT_A, INPUT_B)
    #: The core's names of the output grids, in the order the dialog lists them.
    GRIDS = ("a", "b", "own")

    def createInstance(self):  # noqa: N802
        """Return a new instance (the modeler and batch runs need one per run)."""
        return ClipPairAlgorithm()

    def name(self):
        """Return the algorithm name, part of its id ``overlapclip:clippair``."""
        return "clippair"

    def displayName(self):  # noqa: N802
        """Return the name shown in the toolbox."""
        return self.tr("Clip raster pair to common area")

    def tags(self):
        """Return search tags."""
        return self.tr("overlap,intersection,common,extent,clip,align,grid,change detection,pair").split(",")

    def shortHelpString(self):  # noqa: N802
        """Return the help shown beside the dialog."""
        return (
            self.tr(
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
                "The output format follows each output's file extension (.tif, .vrt, .img, ...).\n\n"
                "Example: for change detection between scenes of 2020 (A) and 2024 (B), keep A's grid, choose "
                "'Where all rasters have valid data' and set nodata where any has none: both outputs then cover "
                "the same ground on the same pixels, with identical valid pixels, ready for a difference."
            )
            + "\n\n"
            + self.tr(
                "In the map, each output is drawn with its input layer's style where that layer is in the project. On "
                "one grid, A and B drawn alike share one stretch: per band, from the lower of their minimums to the "
                "higher of their maximums; the log gives it. The overlap polygon is drawn as an outline above them."
            )
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the parameters; their keys are a contract for models and scripts."""
        input_a = QgsProcessingParameterRasterLayer(self.INPUT_A, self.tr("Raster A"))
        self.add(input_a, self.tr("The first raster (for example the earlier date); its grid is the default."))
        input_b = QgsProcessingParameterRasterLayer(self.INPUT_B, self.tr("Raster B"))
        self.add(input_b, self.tr("The second raster (for example the later date, or a DEM)."))
        grid = QgsProcessingParameterEnum(
            self.GRID,
            self.tr("Output grid"),
            options=[self.tr("Raster A's grid"), self.tr("Raster B's grid"), self.tr("Each raster's own grid")],
            defaultValue=0,
        )
        self.add(grid, self.tr("Which pixel grid the outputs use. With A's or B's grid both outputs share one grid."))
        self.add_area_parameters()
        self.add_writing_parameters()
        percents = QgsProcessingParameterBoolean(
            self.WHOLE_INPUT_PERCENTS,
            self.tr("Count each input's valid pixels for the overlap percentages (reads every input whole)"),
            defaultValue=False,
        )
        self.add(
            percents,
            self.tr(
                "Only with 'Where all rasters have valid data': the overlap's share of each input's valid data needs "
                "every input read whole, however small the overlap. Off, PERCENT_A and PERCENT_B (and the polygon's "
                "percent_a and percent_b) are left empty. With raster extents the percentages are always given."
            ),
            advanced=True,
        )
        shift = QgsProcessingParameterBoolean(
            self.SHIFT, self.tr("Estimate the shift between A and B"), defaultValue=True
        )
        self.add(
            shift,
            self.tr(
                "Measures how far the second raster's content lies from the reference's (phase correlation in "
                "windows over the overlap, to a few hundredths of a pixel), or says why it cannot. The reference is "
                "the raster whose grid the outputs take (A with each raster's own grid). On by default: it reads a few "
                "small windows while the outputs are written; turn it off where the content cannot match, as a DEM's "
                "against an image's."
            ),
        )
        coregister = QgsProcessingParameterBoolean(
            self.COREGISTER, self.tr("Remove the shift before clipping (co-register)"), defaultValue=False
        )
        self.add(
            coregister,
            self.tr(
                "Moves the other raster by its estimated shift before its output grid is planned, so that it is "
                "resampled once; a shift of whole pixels on the grid's lattice is still a copy. Nearest neighbour "
                "moves whole pixels only: choose bilinear, cubic or Lanczos to remove a fraction too."
            ),
        )
        self.add_pair_qa_parameters()
        for key, name in ((self.OUTPUT_A, self.tr("Clipped raster A")), (self.OUTPUT_B, self.tr("Clipped raster B"))):
            output = QgsProcessingParameterRasterDestination(key, name)
            self.add(output, self.tr("Where to write the clipped raster; the file extension chooses the format."))
        overlap = QgsProcessingParameterFeatureSink(
            self.OVERLAP,
            self.tr("Overlap polygon"),
            type=SOURCE_POLYGON,
            optional=True,
            createByDefault=False,
        )
        self.add(
            overlap,
            self.tr(
                "The common area as one polygon in A's CRS: the true intersection of the footprints (or, with "
                "'Where all rasters have valid data', of the valid pixels), with its area in A's CRS units, its "
                "area on the ellipsoid in square metres and square kilometres, its share of A and B, and the output "
                "size in pixels."
            ),
        )
        windows = QgsProcessingParameterFeatureSink(
            self.SHIFT_WINDOWS,
            self.tr("Shift windows (arrows)"),
            type=SOURCE_POINT,
            optional=True,
            createByDefault=False,
        )
        self.add(
            windows,
            self.tr(
                "With the shift estimated: a point at the centre of each window the shift was measured in, with its "
                "dx_px and dy_px (the other raster's content east and south, in reference pixels), dx and dy (in "
                "the reference's CRS units), the peak's strength and its status (kept, outlier, invalid, flat, weak, "
                "out_of_range); drawn as arrows, so that you see where the images disagree."
            ),
        )
        self.addOutput(QgsProcessingOutputNumber(self.OVERLAP_AREA, self.tr("Overlap area (CRS units of A, squared)")))
        self.addOutput(
            QgsProcessingOutputNumber(self.OVERLAP_AREA_M2, self.tr("Overlap area on the ellipsoid (square metres)"))
        )
        self.addOutput(QgsProcessingOutputNumber(self.PERCENT_A, self.tr("Overlap as percent of A")))
        self.addOutput(QgsProcessingOutputNumber(self.PERCENT_B, self.tr("Overlap as percent of B")))
        self.addOutput(QgsProcessingOutputNumber(self.WIDTH, self.tr("Output width (pixels)")))
        self.addOutput(QgsProcessingOutputNumber(self.HEIGHT, self.tr("Output height (pixels)")))
        self.addOutput(QgsProcessingOutputNumber(self.SHIFT_X, self.tr("Shift east (reference pixels)")))
        self.addOutput(QgsProcessingOutputNumber(self.SHIFT_Y, self.tr("Shift south (reference pixels)")))
        self.addOutput(QgsProcessingOutputNumber(self.SHIFT_M, self.tr("Shift on the ground (metres)")))
        self.addOutput(QgsProcessingOutputBoolean(self.SHIFT_RELIABLE, self.tr("Shift estimate is reliable")))
        self.addOutput(QgsProcessingOutputString(self.SHIFT_NOTE, self.tr("Why the shift is not estimated")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Clip both rasters, describe the overlap, and name the outputs for loading."""
        layers = [self.raster_layers(parameters, key, context) for key in (self.INPUT_A, self.INPUT_B)]
        grid = self.parameterAsEnum(parameters, self.GRID, context)
        outputs = [self.parameterAsOutputLayer(parameters, key, context) for key in (self.OUTPUT_A, self.OUTPUT_B)]
        whole = self.parameterAsBoolean(parameters, self.WHOLE_INPUT_PERCENTS, context)
        counted = whole or self.AREAS[self.parameterAsEnum(parameters, self.AREA, context)] != "valid"
        polygon = self.output_requested(parameters, self.OVERLAP, context)
        shift = (
            "correct"
            if self.parameterAsBoolean(parameters, self.COREGISTER, context)
            else "estimate"
            if self.parameterAsBoolean(parameters, self.SHIFT, context)
            else ""
        )
        arrows = self.output_requested(parameters, self.SHIFT_WINDOWS, context)
        made = {}

        def before_commit(result):
            # The overlap polygon is written before any raster is moved into place: if it fails, no output
            # path changes.
            feedback.pushInfo(self.overlap_sentence(result.overlap, counted))
            if polygon:
                made["overlap"] = self._write_overlap(parameters, context, result.overlap, layers[0])
            estimate = next((shift for shift in result.shifts if shift is not None), None)
            if estimate is not None and arrows:
                reference = next(layer for layer, shift in zip(layers, result.shifts) if shift is None)
                made["windows"] = self._write_windows(parameters, context, estimate, reference)

        try:
            result = self.clip_layers(
                layers,
                ("A", "B"),
                outputs,
                self.GRIDS[grid],
                parameters,
                context,
                feedback,
                "polygon" if polygon else "numbers",
                whole,
                before_commit,
                shift,
            )
        except QgsProcessingException:
            self._remove_new_file(made.get("overlap"))
            self._remove_new_file(made.get("windows"))
            raise
        summary = result.overlap
        results = {
            self.OUTPUT_A: outputs[0],
            self.OUTPUT_B: outputs[1],
            self.OVERLAP_AREA: summary.area,
            self.OVERLAP_AREA_M2: summary.area_m2,
            self.PERCENT_A: summary.percents[0],
            self.PERCENT_B: summary.percents[1],
            self.WIDTH: summary.width,
            self.HEIGHT: summary.height,
            **self.shift_results(result),
        }
        if "overlap" in made:
            results[self.OVERLAP] = made["overlap"][0]
        if "windows" in made:
            results[self.SHIFT_WINDOWS] = made["windows"][0]
        feedback.setProgress(100)
        # On one grid, A and B drawn alike (the same renderer on the same bands) take one stretch.
        run = LoadedRun(share_stretch=self.GRIDS[grid] != "own")
        if "overlap" in made and context.willLoadLayerOnCompletion(made["overlap"][0]):
            run.attach(context.layerToLoadOnCompletionDetails(made["overlap"][0]), "overlap", "outline")
        if "windows" in made and context.willLoadLayerOnCompletion(made["windows"][0]):
            run.attach(context.layerToLoadOnCompletionDetails(made["windows"][0]), "windows", "arrows")
        for path, layer, label in zip(outputs, layers, ("A", "B")):
            if context.willLoadLayerOnCompletion(path):
                details = context.layerToLoadOnCompletionDetails(path)
                details.name = self.tr("{} ({}, common area)").format(layer.name(), label)
                details.forceName = True
                run.attach(details, label, "raster", project_layer_id(layer, context))
        return results

    def shift_results(self, result):
        """SHIFT_X, SHIFT_Y, SHIFT_M, SHIFT_RELIABLE and SHIFT_NOTE of the other raster's shift (empty when it
        was not asked for; no number when it is unreliable)."""
        estimate = next((shift for shift in result.shifts if shift is not None), None)
        if estimate is None:
            return {
                self.SHIFT_X: None,
                self.SHIFT_Y: None,
                self.SHIFT_M: None,
                self.SHIFT_RELIABLE: None,
                self.SHIFT_NOTE: "",
            }
        note = "" if estimate.reliable else core_message(Note(estimate.reason_template, estimate.reason_fields))
        return {
            self.SHIFT_X: estimate.dx_px,
            self.SHIFT_Y: estimate.dy_px,
            self.SHIFT_M: estimate.shift_m,
            self.SHIFT_RELIABLE: estimate.reliable,
            self.SHIFT_NOTE: note,
        }

    def overlap_sentence(self, summary, counted):
        """The log's sentence on the overlap: its area on the ellipsoid (or in CRS units, without a CRS) and its
        share of A and B (``counted``: whether the shares were asked for)."""
        if summary.area_m2 is not None:
            # The units stay out of the sentence: translation sources are plain ASCII.
            size = self.tr("{} ({}, on the ellipsoid)").format(
                f"{summary.area_m2:.6g} m\u00b2", f"{summary.area_km2:.6g} km\u00b2"
            )
        else:
            size = self.tr("{:.6g} square map units").format(summary.area)
        if not counted:
            return self.tr(
                "Overlap: {}; its share of each input's valid data was not counted (that reads every input whole: "
                "see the advanced parameters)."
            ).format(size)
        if None in summary.percents:
            # An area PROJ cannot carry into longitude and latitude (the edge of a Robinson grid) is not measured.
            return self.tr("Overlap: {}.").format(size)
        return self.tr("Overlap: {}, {:.4g}% of A, {:.4g}% of B.").format(
            size, summary.percents[0], summary.percents[1]
        )

    def _write_overlap(self, parameters, context, summary, layer_a):
        fields = QgsFields()
        for name in ("area", "area_m2", "area_km2", "percent_a", "percent_b"):
            fields.append(double_field(name))
        for name in ("width", "height"):
            fields.append(integer_field(name))
        crs = layer_a.crs() if summary.crs is not None else QgsCoordinateReferenceSystem()
        destination = self.parameterAsOutputLayer(parameters, self.OVERLAP, context)
        existed = os.path.exists(destination.split("|")[0])
        sink, dest_id = self.parameterAsSink(parameters, self.OVERLAP, context, fields, MULTIPOLYGON, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OVERLAP))
        feature = QgsFeature(fields)
        feature.setGeometry(QgsGeometry.fromWkt(summary.polygon_wkt))
        feature.setAttributes(
            [
                summary.area,
                summary.area_m2,
                summary.area_km2,
                summary.percents[0],
                summary.percents[1],
                summary.width,
                summary.height,
            ]
        )
        if not sink.addFeature(feature, FAST_INSERT):
            raise QgsProcessingException(self.writeFeatureError(sink, parameters, self.OVERLAP))
        sink.flushBuffer()
        return dest_id, None if existed else destination.split("|")[0]

    def _write_windows(self, parameters, context, estimate, reference):
        """The shift's windows as points in the reference's CRS; returns the sink's id and the file this run
        created (None where it replaced one)."""
        fields = QgsFields()
        for name in ("dx_px", "dy_px", "dx", "dy", "strength"):
            fields.append(double_field(name))
        fields.append(string_field("status"))
        crs = reference.crs() if estimate.grid.crs is not None else QgsCoordinateReferenceSystem()
        destination = self.parameterAsOutputLayer(parameters, self.SHIFT_WINDOWS, context)
        existed = os.path.exists(destination.split("|")[0])
        sink, dest_id = self.parameterAsSink(parameters, self.SHIFT_WINDOWS, context, fields, POINT, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.SHIFT_WINDOWS))
        for window in estimate.windows:
            feature = QgsFeature(fields)
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(window.x, window.y)))
            measured = window.dx_px is not None and window.dy_px is not None
            feature.setAttributes(
                [
                    window.dx_px,
                    window.dy_px,
                    window.dx_px * estimate.grid.dx if measured else None,
                    window.dy_px * estimate.grid.dy if measured else None,
                    window.strength,
                    window.status,
                ]
            )
            if not sink.addFeature(feature, FAST_INSERT):
                raise QgsProcessingException(self.writeFeatureError(sink, parameters, self.SHIFT_WINDOWS))
        sink.flushBuffer()
        return dest_id, None if existed else destination.split("|")[0]

    @staticmethod
    def _remove_new_file(overlap):
        """Remove a vector output's file (the overlap polygon, the shift windows) when this run created it and
        then failed."""
        if overlap and overlap[1] and os.path.isfile(overlap[1]):
            os.remove(overlap[1])
