"""The algorithm ``overlapclip:clipstack``: a stack of rasters (a time series) clipped to their common area."""

import os

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
)

from overlap_clip_plugin.core import output_names
from overlap_clip_plugin.processing.base import ClipAlgorithmBase
from overlap_clip_plugin.processing.compat import NUMBER_INTEGER, SOURCE_RASTER


class ClipStackAlgorithm(ClipAlgorithmBase):
    """Clip two or more rasters to the area they all share, on one grid or each on its own."""

    INPUTS = "INPUTS"
    REFERENCE = "REFERENCE"
    GRID = "GRID"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    OUTPUT_LAYERS = "OUTPUT_LAYERS"

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
            "the reference raster (its position in the input list, 1 = first).\n"
            "- Each raster's own grid: nothing is resampled; each output is a pixel window of its source.\n\n"
            "A pixel belongs to the common area when its centre lies inside it. Where a source already "
            "lies on the output grid its values are copied unchanged. If the inputs have no common "
            "area, the message names the input that leaves it empty; nothing is written.\n\n"
            "Example: 40 Landsat and Sentinel-2 scenes of one place, reference 1 (the first scene's grid), "
            "'Where all rasters have valid data': every output covers the same ground on the same pixels."
        )

    def initAlgorithm(self, config=None):  # noqa: N802
        """Declare the parameters; their keys are a contract for models and scripts."""
        inputs = QgsProcessingParameterMultipleLayers(self.INPUTS, self.tr("Input rasters"), SOURCE_RASTER)
        inputs.setMinimumNumberInputs(2)
        inputs.setHelp(self.tr("Two or more rasters, for example the scenes of a time series."))
        self.addParameter(inputs)
        reference = QgsProcessingParameterNumber(
            self.REFERENCE,
            self.tr("Reference raster (position in the input list, 1 = first)"),
            type=NUMBER_INTEGER,
            defaultValue=1,
            minValue=1,
        )
        reference.setHelp(self.tr("The input whose grid every output takes, counted from 1."))
        self.addParameter(reference)
        grid = QgsProcessingParameterEnum(
            self.GRID,
            self.tr("Output grid"),
            options=[self.tr("Reference raster's grid"), self.tr("Each raster's own grid")],
            defaultValue=0,
        )
        grid.setHelp(self.tr("With the reference raster's grid every output shares one grid."))
        self.addParameter(grid)
        self.add_area_parameters()
        self.add_writing_parameters()
        folder = QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, self.tr("Output folder"))
        folder.setHelp(
            self.tr(
                "Where to write NAME_common.tif (NAME: the input's file name) for every input (created if missing)."
            )
        )
        self.addParameter(folder)
        self.addOutput(QgsProcessingOutputMultipleLayers(self.OUTPUT_LAYERS, self.tr("Clipped rasters")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        """Clip every input into the output folder and queue the outputs for loading."""
        layers = [
            self.checked_layer(layer, self.INPUTS, parameters)
            for layer in self.parameterAsLayerList(parameters, self.INPUTS, context)
        ]
        if len(layers) < 2:
            raise QgsProcessingException(self.tr("At least two input rasters are needed, not {}.").format(len(layers)))
        reference = self.parameterAsInt(parameters, self.REFERENCE, context)
        if not 1 <= reference <= len(layers):
            raise QgsProcessingException(
                self.tr("The reference raster is number {}, but there are {} inputs.").format(reference, len(layers))
            )
        own_grids = self.parameterAsEnum(parameters, self.GRID, context) == 1
        folder = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)
        created = not os.path.isdir(folder)
        os.makedirs(folder, exist_ok=True)
        outputs = [os.path.join(folder, name) for name in output_names([layer.source() for layer in layers])]
        labels = [f"{index} '{layer.name()}'" for index, layer in enumerate(layers, start=1)]
        try:
            self.clip_layers(
                layers, labels, outputs, None if own_grids else reference - 1, parameters, context, feedback
            )
        except QgsProcessingException:
            if created and not os.listdir(folder):
                os.rmdir(folder)
            raise
        feedback.setProgress(100)
        for path, layer in zip(outputs, layers):
            details = QgsProcessingContext.LayerDetails(
                self.tr("{} (common area)").format(layer.name()), context.project(), self.OUTPUT_LAYERS
            )
            context.addLayerToLoadOnCompletion(path, details)
        return {self.OUTPUT_FOLDER: folder, self.OUTPUT_LAYERS: outputs}
