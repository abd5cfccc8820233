"""The algorithm ``overlapclip:clipstack``: a stack of rasters (a time series) clipped to their common area."""

import csv
import os
import tempfile

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from overlap_clip_plugin.core import output_names
from overlap_clip_plugin.core.plan import Note
from overlap_clip_plugin.processing.base import ClipAlgorithmBase, core_message
from overlap_clip_plugin.processing.compat import NUMBER_INTEGER, SOURCE_RASTER
from overlap_clip_plugin.processing.loading import LoadedRun, project_layer_id


class ClipStackAlgorithm(ClipAlgorithmBase):
    """Clip two or more rasters to the area they all share, on one grid or each on its own."""

    INPUTS = "INPUTS"
    REFERENCE = "REFERENCE"
    REFERENCE_LAYER = "REFERENCE_LAYER"
    LOAD_OUTPUTS = "LOAD_OUTPUTS"
    GRID = "GRID"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    OUTPUT_LAYERS = "OUTPUT_LAYERS"
    SHIFT = "SHIFT"
    COREGISTER = "COREGISTER"
    QA = "QA"
    QA_BAND = "QA_BAND"
    QA_RASTERS = "QA_RASTERS"
    SHIFTS = "SHIFTS"

    #: The columns of the SHIFTS table, one row per input.
    SHIFT_COLUMNS = (
        "input",
        "output",
        "reference",
        "dx_px",
        "dy_px",
        "shift_m",
        "reliable",
        "windows_used",
        "windows_total",
        "spread_px",
        "corrected_dx_px",
        "corrected_dy_px",
        "note",
    )

    RASTER_INPUTS = (INPUTS,)

    def createInstance(self):  # noqa: N802
        """Return a new instance (the modeler and batch runs need one per run)."""
        return ClipStackAlgorithm()

    def name(self):
        """Return the algorithm name, part of its id ``overlapclip:clipstack``."""
        return "clipstack"

    def displayName(self):  # noqa: N802
        """Return the name shown in the toolbox."""
        return self.tr("Clip raster stack to common area")

    def tags(self):
        """Return search tags."""
        return self.tr("overlap,intersection,common,extent,clip,align,grid,time series,stack").split(",")

    def shortHelpString(self):  # noqa: N802
        """Return the help shown beside the dialog."""
        return self.tr(
            "Clips two or more rasters (a time series, scenes of several sensors) to the area they all "
            "have in common and writes each into the output folder as NAME_common.tif, NAME being the input's "
            "file name.\n\n"
            "Grid:\n"
            "- Reference raster's grid (default): every output on the CRS, pixel size and pixel phase of "
            "the reference raster: the layer picked as reference layer, or else the input at the reference "
            "position (1 = first). The reference layer wins when both are given.\n"
            "- Each raster's own grid: nothing is resampled; each output is a pixel window of its source.\n\n"
            "A pixel belongs to the common area when its centre lies inside it. Where a source already "
            "lies on the output grid its values are copied unchanged. If the inputs have no common "
            "area, the message names the input that leaves it empty; nothing is written.\n\n"
            "The outputs are loaded into one group named after the output folder, each drawn with its input "
            "layer's style where that layer is in the project. On one grid, rasters drawn alike share one "
            "stretch: per band, from the lowest minimum to the highest maximum of their own stretches; the log "
            "gives it.\n\n"
            "Example: 40 Landsat and Sentinel-2 scenes of one place, reference 1 (the first scene's grid), "
            "'Where all rasters have valid data': every output covers the same ground on the same pixels."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the parameters; their keys are a contract for models and scripts."""
        inputs = QgsProcessingParameterMultipleLayers(self.INPUTS, self.tr("Input rasters"), SOURCE_RASTER)
        inputs.setMinimumNumberInputs(2)
        self.add(inputs, self.tr("Two or more rasters, for example the scenes of a time series."))
        reference = QgsProcessingParameterNumber(
            self.REFERENCE,
            self.tr("Reference raster (position in the input list, 1 = first)"),
            type=NUMBER_INTEGER,
            defaultValue=1,
            minValue=1,
        )
        self.add(
            reference,
            self.tr(
                "The input whose grid every output takes, counted from 1; for models and scripts. A reference "
                "layer, when given, wins."
            ),
        )
        reference_layer = QgsProcessingParameterRasterLayer(
            self.REFERENCE_LAYER, self.tr("Reference layer (one of the input rasters)"), optional=True
        )
        self.add(
            reference_layer,
            self.tr("The input whose grid every output takes, picked as a layer; it wins over the reference position."),
        )
        grid = QgsProcessingParameterEnum(
            self.GRID,
            self.tr("Output grid"),
            options=[self.tr("Reference raster's grid"), self.tr("Each raster's own grid")],
            defaultValue=0,
        )
        self.add(grid, self.tr("With the reference raster's grid every output shares one grid."))
        self.add_area_parameters()
        self.add_writing_parameters()
        shift = QgsProcessingParameterBoolean(
            self.SHIFT, self.tr("Estimate each raster's shift against the reference"), defaultValue=True
        )
        self.add(
            shift,
            self.tr(
                "Measures how far each raster's content lies from the reference raster's (phase correlation in "
                "windows over the common area, to a few hundredths of a pixel), or says why it cannot. With each "
                "raster's own grid the reference is the first input. On by default: it reads a few small windows while "
                "the outputs are written; turn it off where the content cannot match, as a DEM's against an image's."
            ),
        )
        coregister = QgsProcessingParameterBoolean(
            self.COREGISTER, self.tr("Remove the shifts before clipping (co-register)"), defaultValue=False
        )
        self.add(
            coregister,
            self.tr(
                "Moves each raster by its estimated shift before its output grid is planned, so that it is "
                "resampled once; a shift of whole pixels on the grid's lattice is still a copy. A raster whose "
                "shift is not reliable is not moved. Nearest neighbour moves whole pixels only: choose bilinear, "
                "cubic or Lanczos to remove a fraction too."
            ),
        )
        self.add(
            QgsProcessingParameterString(self.QA, self.tr("Clear-sky rule of every input"), optional=True),
            self.qa_rule_help(),
        )
        self.add(
            QgsProcessingParameterNumber(
                self.QA_BAND, self.tr("QA band"), type=NUMBER_INTEGER, defaultValue=1, minValue=1
            ),
            self.qa_band_help(),
            advanced=True,
        )
        qa_rasters = QgsProcessingParameterMultipleLayers(
            self.QA_RASTERS, self.tr("QA rasters (one per input, in the same order)"), SOURCE_RASTER, optional=True
        )
        self.add(
            qa_rasters,
            self.tr(
                "Separate QA rasters, one per input in the order of the inputs, each on its input's grid and covering "
                "it; empty: the QA band is a band of each input."
            ),
            advanced=True,
        )
        folder = QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, self.tr("Output folder"))
        self.add(
            folder,
            self.tr(
                "Where to write NAME_common.tif (NAME: the input's file name) for every input (created if missing)."
            ),
        )
        load = QgsProcessingParameterBoolean(
            self.LOAD_OUTPUTS, self.tr("Open the clipped rasters in the map"), defaultValue=True
        )
        self.add(load, self.tr("Off, the rasters are written but not loaded into the project."))
        shifts = QgsProcessingParameterFileDestination(
            self.SHIFTS,
            self.tr("Shift table"),
            fileFilter=self.tr("CSV files (*.csv)"),
            optional=True,
            createByDefault=False,
        )
        self.add(
            shifts,
            self.tr(
                "A CSV file with one row per input: its output, whether it is the reference, its shift in reference "
                "pixels and on the ground, whether that is reliable, the windows that agree, the move that "
                "co-registered it, and why there is no number. Given, the shifts are estimated even without the "
                "estimate option. Written only when the run succeeds."
            ),
        )
        self.addOutput(QgsProcessingOutputMultipleLayers(self.OUTPUT_LAYERS, self.tr("Clipped rasters")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Clip every input into the output folder, write the shift table if asked, and queue the outputs."""
        layers = self.raster_layers(parameters, self.INPUTS, context)
        if len(layers) < 2:
            raise QgsProcessingException(self.tr("At least two input rasters are needed, not {}.").format(len(layers)))
        reference = self.reference_position(parameters, context, layers)
        own_grids = self.parameterAsEnum(parameters, self.GRID, context) == 1
        folder = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        outputs = [os.path.join(folder, name) for name in output_names([layer.source() for layer in layers])]
        table = self.shift_table_path(parameters, context, layers, outputs)
        shift = (
            "correct"
            if self.parameterAsBoolean(parameters, self.COREGISTER, context)
            else "estimate"
            if table or self.parameterAsBoolean(parameters, self.SHIFT, context)
            else ""
        )
        created = not os.path.isdir(folder)
        os.makedirs(folder, exist_ok=True)
        labels = [f"{index} '{layer.name()}'" for index, layer in enumerate(layers, start=1)]
        staged = {}

        def before_commit(result):
            # The table is staged beside its path before any raster is moved into place: if it cannot be
            # written, no output path changes; it takes its name once the rasters are in place.
            if table:
                staged["table"] = self.staged_shift_table(table, layers, outputs, result)

        try:
            self.clip_layers(
                layers,
                labels,
                outputs,
                "own" if own_grids else reference - 1,
                parameters,
                context,
                feedback,
                before_commit=before_commit,
                shift=shift,
            )
            if "table" in staged:
                self.move_into_place(staged.pop("table"), table)
        except QgsProcessingException:
            if "table" in staged and os.path.isfile(staged["table"]):
                os.remove(staged["table"])
            if created and os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
            raise
        feedback.setProgress(100)
        if self.parameterAsBoolean(parameters, self.LOAD_OUTPUTS, context):
            group = self.tr("{} (common area)").format(os.path.basename(os.path.normpath(folder)))
            run = LoadedRun(share_stretch=not own_grids, group_name=group)
            for index, (path, layer) in enumerate(zip(outputs, layers), start=1):
                details = QgsProcessingContext.LayerDetails(
                    self.tr("{} ({}, common area)").format(layer.name(), index), context.project(), self.OUTPUT_LAYERS
                )
                details.forceName = True
                context.addLayerToLoadOnCompletion(path, details)
                run.attach(
                    context.layerToLoadOnCompletionDetails(path), str(index), "raster", project_layer_id(layer, context)
                )
        results = {self.OUTPUT_FOLDER: folder, self.OUTPUT_LAYERS: outputs}
        if table:
            results[self.SHIFTS] = table
        return results

    def shift_table_path(self, parameters, context, layers, outputs):
        """The SHIFTS file's path, "" when it is not asked for; refused when it is an input or an output."""
        if not self.output_requested(parameters, self.SHIFTS, context):
            return ""
        table = self.parameterAsFileOutput(parameters, self.SHIFTS, context)
        wanted = os.path.normcase(os.path.realpath(table))
        for layer, output in zip(layers, outputs):
            for raster in (same_file(layer.source()), os.path.realpath(output)):
                if os.path.normcase(raster) == wanted:
                    raise QgsProcessingException(
                        self.tr("The shift table '{}' would overwrite the raster '{}'; choose another file.").format(
                            table, raster
                        )
                    )
        return table

    def staged_shift_table(self, table, layers, outputs, result):
        """Write the shift table of ``result`` to a hidden file beside ``table``; return that file's path."""
        staging = None
        try:
            folder = os.path.dirname(os.path.abspath(table))
            os.makedirs(folder, exist_ok=True)
            handle, staging = tempfile.mkstemp(prefix=".overlapclip-shifts-", suffix=".csv", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                writer = csv.writer(stream)
                writer.writerow(self.SHIFT_COLUMNS)
                corrections = result.corrections or (None,) * len(outputs)
                for layer, output, estimate, moved in zip(layers, outputs, result.shifts, corrections):
                    writer.writerow([layer.name(), output, *self.shift_cells(estimate, moved)])
        except OSError as err:
            if staging is not None and os.path.isfile(staging):
                os.remove(staging)
            raise QgsProcessingException(self.table_error(table, err)) from err
        return staging

    def move_into_place(self, staging, table):
        """Move the staged shift table over its path."""
        try:
            os.replace(staging, table)
        except OSError as err:
            os.remove(staging)
            raise QgsProcessingException(self.table_error(table, err)) from err

    def table_error(self, table, err):
        """The sentence of a shift table that cannot be written."""
        return self.tr("Cannot write the shift table '{}': {}").format(table, err.strerror or err)

    def shift_cells(self, estimate, moved):
        """The table's cells after input and output for one raster: empty where there is no number."""

        def number(value, digits):
            return "" if value is None else f"{value:.{digits}f}"

        if estimate is None:
            return ["yes"] + [""] * (len(self.SHIFT_COLUMNS) - 3)
        note = "" if estimate.reliable else core_message(Note(estimate.reason_template, estimate.reason_fields))
        return [
            "no",
            number(estimate.dx_px, 4),
            number(estimate.dy_px, 4),
            number(estimate.shift_m, 3),
            "yes" if estimate.reliable else "no",
            estimate.windows_used,
            estimate.windows_total,
            number(estimate.spread_px, 4),
            number(moved[0] if moved else None, 4),
            number(moved[1] if moved else None, 4),
            note,
        ]

    def reference_position(self, parameters, context, layers):
        """The reference raster's position (1 = first): the reference layer's among the inputs, if one is
        given, else REFERENCE."""
        picked = self.parameterAsRasterLayer(parameters, self.REFERENCE_LAYER, context)
        if picked is not None:
            wanted = same_file(picked.source())
            for index, layer in enumerate(layers, start=1):
                if layer.id() == picked.id() or same_file(layer.source()) == wanted:
                    return index
            raise QgsProcessingException(
                self.tr("The reference layer '{}' is not one of the input rasters.").format(picked.name())
            )
        reference = self.parameterAsInt(parameters, self.REFERENCE, context)
        if not 1 <= reference <= len(layers):
            raise QgsProcessingException(
                self.tr("The reference raster is number {}, but there are {} inputs.").format(reference, len(layers))
            )
        return reference

    def qa_rules(self, parameters, context, layers):
        """The clear-sky rule of each input (QA and QA_BAND, from QA_RASTERS where given)."""
        companions = self.parameterAsLayerList(parameters, self.QA_RASTERS, context) or []
        if companions and len(companions) != len(layers):
            raise QgsProcessingException(
                self.tr(
                    "{} QA rasters are given for {} input rasters; give one for each input, in their order, or none."
                ).format(len(companions), len(layers))
            )
        text = self.parameterAsString(parameters, self.QA, context)
        band = self.parameterAsInt(parameters, self.QA_BAND, context)
        return [self.qa_rule(text, band, companions[index] if companions else None) for index in range(len(layers))]


def same_file(source):
    """A layer source as one file on disk names it, so that two spellings of one path compare equal."""
    path = source.split("|")[0]
    return os.path.realpath(path) if os.path.exists(path) else source
