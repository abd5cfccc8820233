"""What the Overlap Clip algorithms share: common parameters, reading them, planning, logging, writing."""

import contextlib
import os
from dataclasses import replace

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProperty,
    QgsProviderRegistry,
    QgsRasterLayer,
    QgsUnitTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QUrl, QVariant

from overlap_clip_plugin.core import (
    ExecutorError,
    OverlapClipError,
    Source,
    crs_name,
    make_executor,
    read_raster,
    run_clip,
)
from overlap_clip_plugin.core.plan import FOOTPRINT_METHOD, VALIDITY_ALPHA, VALIDITY_MASK, Note
from overlap_clip_plugin.core.qa import parse_rule
from overlap_clip_plugin.processing.compat import ADVANCED, NUMBER_INTEGER, OPTIONS_WIDGET

#: The help pages shipped inside the plugin, one per algorithm and language (NAME.LANGUAGE.html).
HELP_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "help")


def tr(text):
    """Translate ``text`` in the plugin's translation context."""
    return QCoreApplication.translate("OverlapClip", text)


def help_page(name):
    """The shipped help page of the algorithm ``name`` in the language of the plugin's active translation
    (English without one), as a file URL: the Help button works offline."""
    # The translation of this marker names the language of its help pages.
    language = tr("en")
    path = os.path.join(HELP_FOLDER, f"{name}.{language}.html")
    if not os.path.isfile(path):
        path = os.path.join(HELP_FOLDER, f"{name}.en.html")
    return QUrl.fromLocalFile(path).toString()


def gdal_source(uri):
    """The GDAL dataset name and open options of a gdal-provider layer source, as QGIS decodes it.

    ``scene.tif|option:GEOREF_SOURCES=INTERNAL`` is the file ``scene.tif`` opened with that option.
    """
    registry = QgsProviderRegistry.instance()
    parts = registry.decodeUri("gdal", uri)
    options = tuple(parts.pop("openOptions", None) or ())
    name = registry.encodeUri("gdal", parts) if options else uri
    return Source(name, options)


@contextlib.contextmanager
def executor_for(address, pieces):
    """Where a run's pieces go: the Dask cluster whose scheduler is at ``address``, or a pool of this
    machine's cores (no more threads than ``pieces``); the core makes either."""
    threads = None if address else max(1, min(os.cpu_count() or 1, pieces))
    try:
        with make_executor(scheduler=address or None, threads=threads) as executor:
            yield executor
    except ExecutorError as err:
        if isinstance(err.__cause__, ImportError):
            message = tr(
                "A Dask scheduler ({}) is given, but Dask's distributed package is not installed in QGIS's Python."
            ).format(address)
        else:
            message = tr("Cannot reach the Dask scheduler {}: {}").format(address, err.fields.get("reason", ""))
        raise QgsProcessingException(message) from err


def core_message(err):
    """The core's sentence for ``err``, translated where a translation exists.

    Words the core puts into a sentence (``no CRS``) are translated too; names and numbers stay as they are.
    """
    fields = {key: tr(value) if isinstance(value, str) else value for key, value in err.fields.items()}
    try:
        return tr(err.template).format(**fields)
    except (KeyError, IndexError, ValueError):
        return str(err)


class ClipAlgorithmBase(QgsProcessingAlgorithm):
    """Base of the clip algorithms: shared parameters and the plan-log-write run."""

    AREA = "AREA"
    MASK_COMMON = "MASK_COMMON"
    RESAMPLING = "RESAMPLING"
    OPTIONS = "OPTIONS"
    GCP_TRANSFORMER = "GCP_TRANSFORMER"
    RPC_DEM = "RPC_DEM"
    DASK_SCHEDULER = "DASK_SCHEDULER"

    #: The core's names of the dialog's choices, in the order the dialog lists them.
    GCP_METHODS = ("polynomial", "tps")
    AREAS = ("extents", "valid")
    #: A pair's clear-sky parameters: the rule, the QA band and the QA raster of A, then of B.
    QA_A, QA_BAND_A, QA_RASTER_A = "QA_A", "QA_BAND_A", "QA_RASTER_A"
    QA_B, QA_BAND_B, QA_RASTER_B = "QA_B", "QA_BAND_B", "QA_RASTER_B"
    PAIR_QA = ((QA_A, QA_BAND_A, QA_RASTER_A, "A"), (QA_B, QA_BAND_B, QA_RASTER_B, "B"))

    def tr(self, text):
        """Translate ``text`` in the plugin's translation context."""
        return tr(text)

    def helpUrl(self):  # noqa: N802
        """Return the help page shipped with the plugin, in the language of the interface."""
        return help_page(self.name())

    def group(self):
        """Return the toolbox group."""
        return self.tr("Raster")

    def groupId(self):  # noqa: N802
        """Return the toolbox group id."""
        return "raster"

    #: Keys of the raster inputs, for clearer messages on inputs QGIS cannot load.
    RASTER_INPUTS: tuple = ()

    def checkParameterValues(self, parameters, context):  # noqa: N802
        """Check the parameters; for a raster QGIS cannot load, say why in the core's words.

        QGIS 3.22 takes a GDAL dataset name that is no file (``/vsicurl/https://...``, ``/vsis3/...``)
        for a missing file: a raster input GDAL reads is accepted here, and loaded by :meth:`raster_layers`.
        """
        ok, message = super().checkParameterValues(parameters, context)
        if ok:
            return ok, message
        for definition in self.parameterDefinitions():
            key, value = definition.name(), parameters.get(definition.name())
            names = [v for v in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(v, str) and v]
            if key in self.RASTER_INPUTS and names:
                for name in names:
                    try:
                        read_raster(gdal_source(name))
                    except OverlapClipError as err:
                        return False, core_message(err)
            elif not definition.checkValueIsAcceptable(value, context):
                return False, self.tr("Incorrect parameter value for {}").format(definition.description())
        return True, ""

    def raster_layers(self, parameters, key, context):
        """The raster layer of input ``key`` (a list for a multiple-layer input) as QGIS loads it, or else,
        for a GDAL dataset name QGIS 3.22 does not load itself (``/vsicurl/...``), a gdal layer of its own."""
        value = parameters.get(key)
        if not isinstance(self.parameterDefinition(key), QgsProcessingParameterMultipleLayers):
            layer = self.parameterAsRasterLayer(parameters, key, context)
            if layer is None and isinstance(value, str):
                layer = self.gdal_layer(value, context)
            return self.checked_layer(layer, key, parameters)
        loaded = self.parameterAsLayerList(parameters, key, context)
        values = list(value) if isinstance(value, (list, tuple)) else str(value or "").split(";")
        if len(loaded) < len(values):
            loaded = [
                self.parameterAsRasterLayer({key: item}, key, context)
                or (self.gdal_layer(item, context) if isinstance(item, str) else None)
                for item in values
            ]
        return [self.checked_layer(layer, key, parameters) for layer in loaded]

    def gdal_layer(self, name, context):
        """A raster layer of the gdal provider for the dataset ``name``, kept by ``context``; None if invalid."""
        title = os.path.splitext(os.path.basename(gdal_source(name).path.rstrip("/")))[0] or name
        layer = QgsRasterLayer(name, title, "gdal")
        if not layer.isValid():
            return None
        context.temporaryLayerStore().addMapLayer(layer)
        return layer

    def output_requested(self, parameters, key, context):
        """Whether the optional output ``key`` is wanted: left out, ``None`` and ``''`` all skip it.

        The batch dialog leaves an empty cell as ``''``, the dialog's "Skip output" gives ``None``,
        qgis_process's ``--KEY=`` a null QVariant.
        """
        value = parameters.get(key)
        if isinstance(value, QVariant):
            value = None if value.isNull() else value.value()
        if isinstance(value, QgsProcessingOutputLayerDefinition):
            value = value.sink
        if isinstance(value, QgsProperty):
            value, _ = value.valueAsString(context.expressionContext(), "")
        return value is not None and str(value).strip() != ""

    def add(self, parameter, help_text, advanced=False):
        """Declare ``parameter`` with its help line, among the advanced parameters when ``advanced``."""
        parameter.setHelp(help_text)
        if advanced:
            parameter.setFlags(parameter.flags() | ADVANCED)
        self.addParameter(parameter)

    def add_area_parameters(self):
        """Declare AREA and MASK_COMMON."""
        area = QgsProcessingParameterEnum(
            self.AREA,
            self.tr("Common area"),
            options=[self.tr("Raster extents"), self.tr("Where all rasters have valid data")],
            defaultValue=0,
        )
        self.add(
            area,
            self.tr(
                "Raster extents: the intersection of the extents. Where all rasters have valid data: the bounding "
                "box of the pixels where every raster has valid data (not nodata, not masked) in every band."
            ),
        )
        mask = QgsProcessingParameterBoolean(
            self.MASK_COMMON, self.tr("Set nodata where any raster has no valid data"), defaultValue=False
        )
        self.add(
            mask,
            self.tr(
                "All outputs then have the same valid pixels. A band without a nodata value gets one "
                "that its data never take."
            ),
        )

    def qa_rule_help(self):
        """The help of a clear-sky rule parameter."""
        return self.tr(
            "Which pixels count as valid beyond nodata, from a QA band. Empty: all of them. A preset: "
            "landsat-c2-qa-pixel (Landsat Collection 2 QA_PIXEL: fill, dilated cloud, cirrus, cloud, cloud shadow and "
            "snow are not valid) or sentinel-2-scl (Sentinel-2 L2A SCL: classes 2, 4, 5, 6 and 7 are valid). Or a "
            "rule of your own: bits:0,1,3 (bits to reject) or classes:4,5,6 (classes to keep). The common valid area "
            "('Where all rasters have valid data') and the nodata set where any raster has none then leave out "
            "clouds, their shadows and snow, and so does the shift estimate; with raster extents and no nodata set, "
            "the outputs are as without the rule."
        )

    def qa_band_help(self):
        """The help of a QA band parameter."""
        return self.tr(
            "The band that holds the QA values: a band of the raster itself, or of its QA raster when one is given."
        )

    def qa_raster_help(self):
        """The help of a companion QA raster parameter."""
        return self.tr(
            "A separate QA raster (a Landsat *_QA_PIXEL.TIF, a Sentinel-2 SCL resampled to the raster's pixels) on "
            "the raster's grid and covering it; empty: the QA band is a band of the raster itself."
        )

    def qa_rule(self, text, band, layer):
        """The clear-sky rule typed as ``text`` (None when empty), read from ``band`` of ``layer`` (a companion
        QA raster, or None for a band of the raster itself)."""
        if not (text or "").strip():
            if layer is not None:
                raise QgsProcessingException(
                    self.tr("The QA raster '{}' is given without a QA rule; give the rule its values follow.").format(
                        layer.name()
                    )
                )
            return None
        try:
            return parse_rule(text, band, gdal_source(layer.source()).path if layer is not None else None)
        except OverlapClipError as err:
            raise QgsProcessingException(core_message(err)) from err

    def add_pair_qa_parameters(self):
        """The clear-sky rules of a pair's A and B: QA_A, QA_BAND_A (advanced), QA_RASTER_A (advanced), B's alike."""
        for rule, band, raster, label in self.PAIR_QA:
            self.add(
                QgsProcessingParameterString(rule, self.tr("Clear-sky rule of {}").format(label), optional=True),
                self.qa_rule_help(),
            )
            self.add(
                QgsProcessingParameterNumber(
                    band, self.tr("QA band of {}").format(label), type=NUMBER_INTEGER, defaultValue=1, minValue=1
                ),
                self.qa_band_help(),
                advanced=True,
            )
            self.add(
                QgsProcessingParameterRasterLayer(raster, self.tr("QA raster of {}").format(label), optional=True),
                self.qa_raster_help(),
                advanced=True,
            )

    def qa_rules(self, parameters, context, layers):
        """The clear-sky rule of each of ``layers``: a pair's from the parameters of
        :meth:`add_pair_qa_parameters` where the algorithm declares them, else None for each."""
        if self.parameterDefinition(self.PAIR_QA[0][0]) is None:
            return [None] * len(layers)
        return [
            self.qa_rule(
                self.parameterAsString(parameters, rule, context),
                self.parameterAsInt(parameters, band, context),
                self.parameterAsRasterLayer(parameters, raster, context),
            )
            for rule, band, raster, _ in self.PAIR_QA
        ]

    def sources(self, layers, parameters, context):
        """The GDAL source of each of ``layers``, with its clear-sky rule."""
        rules = self.qa_rules(parameters, context, layers)
        return [replace(gdal_source(layer.source()), qa=rule) for layer, rule in zip(layers, rules)]

    def size_on_the_ground(self, grid):
        """``grid``'s size in pixels and in the units of its CRS, as the log says it."""
        crs = QgsCoordinateReferenceSystem.fromWkt(grid.crs.wkt) if grid.crs else QgsCoordinateReferenceSystem()
        unit = QgsUnitTypes.toAbbreviatedString(crs.mapUnits()) if crs.isValid() else self.tr("map units")
        width, height = grid.width * abs(grid.dx), grid.height * abs(grid.dy)
        return self.tr("{} x {} pixels ({:.6g} {} x {:.6g} {})").format(
            grid.width, grid.height, width, unit, height, unit
        )

    def resampling_methods(self):
        """The resampling methods in the order the dialog lists them: the core's name, the dialog's label."""
        return [
            ("near", self.tr("Nearest neighbour")),
            ("bilinear", self.tr("Bilinear")),
            ("cubic", self.tr("Cubic")),
            ("cubicspline", self.tr("Cubic spline")),
            ("lanczos", self.tr("Lanczos windowed sinc")),
            ("average", self.tr("Average")),
            ("mode", self.tr("Mode")),
            ("min", self.tr("Minimum")),
            ("max", self.tr("Maximum")),
            ("med", self.tr("Median")),
            ("q1", self.tr("First quartile")),
            ("q3", self.tr("Third quartile")),
        ]

    def add_writing_parameters(self):
        """Declare RESAMPLING and OPTIONS (advanced)."""
        names = [label for _, label in self.resampling_methods()]
        resampling = QgsProcessingParameterEnum(
            self.RESAMPLING, self.tr("Resampling method"), options=names, defaultValue=0
        )
        self.add(
            resampling, self.tr("Used only for a raster that does not already lie on the output grid."), advanced=True
        )
        options = QgsProcessingParameterString(
            self.OPTIONS, self.tr("Creation options"), defaultValue="", optional=True
        )
        options.setMetadata(OPTIONS_WIDGET)
        self.add(options, self.tr("GDAL creation options for every output, as KEY=VALUE|KEY2=VALUE2."), advanced=True)
        gcp = QgsProcessingParameterEnum(
            self.GCP_TRANSFORMER,
            self.tr("Transformer for rasters placed by ground control points"),
            options=[self.tr("Polynomial"), self.tr("Thin plate spline")],
            defaultValue=0,
        )
        self.add(
            gcp,
            self.tr(
                "How GDAL's warper places a raster georeferenced only by GCPs: a polynomial fitted to them "
                "(its order chosen from their number), or a thin plate spline through every one."
            ),
            advanced=True,
        )
        dem = QgsProcessingParameterRasterLayer(
            self.RPC_DEM, self.tr("Elevation model for rasters placed by RPCs"), optional=True
        )
        self.add(
            dem,
            self.tr(
                "Heights for GDAL's RPC transformer, for a raster georeferenced by rational polynomial "
                "coefficients (RPCs); without it the RPCs are used at height 0."
            ),
            advanced=True,
        )
        scheduler = QgsProcessingParameterString(
            self.DASK_SCHEDULER, self.tr("Dask scheduler address"), defaultValue="", optional=True
        )
        self.add(
            scheduler,
            self.tr(
                "Empty: the run uses every core of this machine. An address (tcp://host:8786) sends the reading, "
                "the valid-data scan and the writing of each output to that Dask cluster; its workers need GDAL and "
                "this plugin, and must see the inputs and the output folders. Needs Dask's distributed package in "
                "QGIS's Python."
            ),
            advanced=True,
        )

    def executor(self, parameters, context, pieces):
        """Where a run's pieces go (a context manager): the Dask cluster at DASK_SCHEDULER, or a pool of
        this machine's cores (no more threads than ``pieces``)."""
        return executor_for((self.parameterAsString(parameters, self.DASK_SCHEDULER, context) or "").strip(), pieces)

    def checked_layer(self, layer, key, parameters):
        """``layer`` if GDAL can read it, else a processing error naming it."""
        if layer is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, key))
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                self.tr("The layer '{}' is not a file GDAL can read (provider '{}').").format(
                    layer.name(), layer.providerType()
                )
            )
        return layer

    def clip_layers(
        self,
        layers,
        labels,
        outputs,
        grid,
        parameters,
        context,
        feedback,
        overlap="",
        whole=True,
        before_commit=None,
        shift="",
        area=None,
        mask_common=None,
        change=None,
        pieces=None,
    ):
        """Clip ``layers`` (called ``labels`` in the log) into ``outputs`` on ``grid`` (the core's name or a
        reference index): the core's one run, with this algorithm's parameters as names, its plan logged
        before anything is written, and its shifts before the commit. ``overlap``, ``whole``, ``shift``,
        ``change`` and ``before_commit`` are the run's (see
        :func:`overlap_clip_plugin.core.run.run_clip`); ``area`` and ``mask_common``, when given, are the run's
        instead of AREA and MASK_COMMON (an algorithm that needs the common valid area masked); ``pieces``, the
        most pieces the run has at once (a thread each; the layers' count by default). Returns the
        run's result; core errors become processing errors with the core's message."""
        options_text = self.parameterAsString(parameters, self.OPTIONS, context) or ""
        dem_layer = self.parameterAsRasterLayer(parameters, self.RPC_DEM, context)

        def progress(fraction):
            feedback.setProgress(95.0 * fraction)
            return not feedback.isCanceled()

        def warn(message):
            feedback.pushWarning(self.tr("GDAL: {}").format(message))

        def committing(result):
            self.log_shifts(result, labels, feedback)
            if before_commit is not None:
                before_commit(result)

        try:
            with self.executor(parameters, context, pieces or len(layers)) as executor:
                return run_clip(
                    self.sources(layers, parameters, context),
                    outputs,
                    grid,
                    area or self.AREAS[self.parameterAsEnum(parameters, self.AREA, context)],
                    self.parameterAsBoolean(parameters, self.MASK_COMMON, context)
                    if mask_common is None
                    else mask_common,
                    self.resampling_methods()[self.parameterAsEnum(parameters, self.RESAMPLING, context)][0],
                    [item.strip() for item in options_text.split("|") if item.strip()],
                    progress,
                    warn,
                    executor,
                    self.GCP_METHODS[self.parameterAsEnum(parameters, self.GCP_TRANSFORMER, context)],
                    gdal_source(dem_layer.source()).path if dem_layer is not None else None,
                    overlap,
                    whole,
                    shift,
                    change,
                    on_plan=lambda plan: self.log_plan(plan, labels, feedback),
                    before_commit=committing,
                )
        except OverlapClipError as err:
            raise QgsProcessingException(core_message(err)) from err

    def log_shifts(self, result, labels, feedback):
        """Say each raster's shift against the reference, the move that corrected it, or why there is none."""
        reference = next((label for label, shift in zip(labels, result.shifts) if shift is None), labels[0])
        corrections = result.corrections or (None,) * len(result.shifts)
        for label, shift, moved in zip(labels, result.shifts, corrections):
            if shift is None:
                continue
            if not shift.reliable:
                reason = core_message(Note(shift.reason_template, shift.reason_fields))
                feedback.pushWarning(
                    self.tr("Shift of {} against {} not estimated: {}").format(label, reference, reason)
                )
                continue
            distance = f"{shift.shift_m:.3g} m" if shift.shift_m is not None else f"{shift.shift:.3g}"
            feedback.pushInfo(
                self.tr(
                    "Shift of {} against {}: {:+.2f}, {:+.2f} pixels ({}); {} of {} windows agree within {:.2f} pixels."
                ).format(
                    label,
                    reference,
                    shift.dx_px,
                    shift.dy_px,
                    distance,
                    shift.windows_used,
                    shift.windows_total,
                    shift.spread_px or 0.0,
                )
            )
            if moved is not None:
                feedback.pushInfo(
                    self.tr("{} was moved by {:+.2f}, {:+.2f} pixels before its grid was planned.").format(
                        label, -moved[0], -moved[1]
                    )
                )

    def log_plan(self, plan, labels, feedback):
        """Say how the common area was found, its extent, and how each output is made."""
        for note in plan.warnings:
            feedback.pushWarning(core_message(note))
        if plan.footprint_method:
            feedback.pushInfo(self.tr("Footprints: {}.").format(self.tr(FOOTPRINT_METHOD)))
        logged_areas = set()
        methods = dict(self.resampling_methods())
        for label, output in zip(labels, plan.outputs):
            size = self.size_on_the_ground(output.grid)
            area = self.tr("Common extent in {}: {}").format(self.tr(crs_name(output.crs)), str(output.area))
            if area not in logged_areas:
                feedback.pushInfo(area)
                logged_areas.add(area)
            if output.copied:
                window = self.tr("{width} x {height} pixels from column {col}, row {row} of the source").format(
                    width=output.window.width,
                    height=output.window.height,
                    col=output.window.col_off,
                    row=output.window.row_off,
                )
                feedback.pushInfo(self.tr("Output {}: {}, copied without resampling ({}).").format(label, size, window))
            else:
                feedback.pushInfo(
                    self.tr("Output {}: {}, resampled onto the output grid ({}).").format(
                        label, size, methods[output.resampling]
                    )
                )
            if output.mask_with:
                feedback.pushInfo(self.mask_sentence(label, output))

    def mask_sentence(self, label, output):
        """How output ``label`` marks the pixels where any raster has no valid data."""
        if output.validity == VALIDITY_ALPHA:
            return self.tr("Output {}: transparent in its alpha band where any raster has no valid data.").format(label)
        if output.validity == VALIDITY_MASK:
            return self.tr("Output {}: masked in its mask band where any raster has no valid data.").format(label)
        values = ", ".join(str(value) for value in output.nodata)
        return self.tr("Output {}: nodata ({}) where any raster has no valid data.").format(label, values)
