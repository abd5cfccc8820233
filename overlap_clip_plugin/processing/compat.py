"""The QGIS names that moved between 3.22 and 4.x, chosen once by ``Qgis.versionInt()``.

Every enum value is reached through its enum's name, as PyQt6 (QGIS 4) requires; where QGIS moved an
enum into ``Qgis`` (3.30, 3.36) or took ``QMetaType`` for field types (3.38), the new home is used from
that version on, so newer QGIS never sees a deprecated name.
"""

from qgis.core import (
    Qgis,
    QgsContrastEnhancement,
    QgsFeatureSink,
    QgsField,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterNumber,
    QgsRasterMinMaxOrigin,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QMetaType, QVariant

QGIS_VERSION = Qgis.versionInt()

if QGIS_VERSION >= 33600:
    SOURCE_RASTER = Qgis.ProcessingSourceType.Raster
    SOURCE_POLYGON = Qgis.ProcessingSourceType.VectorPolygon
    SOURCE_POINT = Qgis.ProcessingSourceType.VectorPoint
    NUMBER_INTEGER = Qgis.ProcessingNumberParameterType.Integer
    NUMBER_DOUBLE = Qgis.ProcessingNumberParameterType.Double
    ADVANCED = Qgis.ProcessingParameterFlag.Advanced
    OPTIONAL = Qgis.ProcessingParameterFlag.Optional
else:
    SOURCE_RASTER = QgsProcessing.SourceType.TypeRaster
    SOURCE_POLYGON = QgsProcessing.SourceType.TypeVectorPolygon
    SOURCE_POINT = QgsProcessing.SourceType.TypeVectorPoint
    NUMBER_INTEGER = QgsProcessingParameterNumber.Type.Integer
    NUMBER_DOUBLE = QgsProcessingParameterNumber.Type.Double
    ADVANCED = QgsProcessingParameterDefinition.Flag.FlagAdvanced
    OPTIONAL = QgsProcessingParameterDefinition.Flag.FlagOptional

if QGIS_VERSION >= 33000:
    MULTIPOLYGON = Qgis.WkbType.MultiPolygon
    POINT = Qgis.WkbType.Point
else:
    MULTIPOLYGON = QgsWkbTypes.Type.MultiPolygon
    POINT = QgsWkbTypes.Type.Point

FAST_INSERT = QgsFeatureSink.Flag.FastInsert

if QGIS_VERSION >= 33000:
    RASTER_LAYER = Qgis.LayerType.Raster
else:
    from qgis.core import QgsMapLayerType

    RASTER_LAYER = QgsMapLayerType.RasterLayer

#: Min/max limits a user set (QGIS computes nothing anew), as the raster symbology names them.
if QGIS_VERSION >= 34200:
    MANUAL_LIMITS = Qgis.RasterRangeLimit.NotSet
else:
    MANUAL_LIMITS = QgsRasterMinMaxOrigin.Limits.None_

NO_ENHANCEMENT = QgsContrastEnhancement.ContrastEnhancementAlgorithm.NoEnhancement

#: The GDAL creation-options editor of QGIS's own GDAL algorithms, named as each QGIS names it.
if QGIS_VERSION >= 34000:
    OPTIONS_WIDGET = {"widget_wrapper": {"widget_type": "rasteroptions"}}
else:
    OPTIONS_WIDGET = {
        "widget_wrapper": {"class": "processing.algs.gdal.ui.RasterOptionsWidget.RasterOptionsWidgetWrapper"}
    }


def double_field(name):
    """A field of real numbers named ``name``."""
    if QGIS_VERSION >= 33800:
        return QgsField(name, QMetaType.Type.Double)
    return QgsField(name, QVariant.Type.Double)  # noqa: QGS402 - QGIS < 3.38 takes no QMetaType


def integer_field(name):
    """A field of integers named ``name``."""
    if QGIS_VERSION >= 33800:
        return QgsField(name, QMetaType.Type.Int)
    return QgsField(name, QVariant.Type.Int)  # noqa: QGS402 - QGIS < 3.38 takes no QMetaType


def string_field(name):
    """A field of text named ``name``."""
    if QGIS_VERSION >= 33800:
        return QgsField(name, QMetaType.Type.QString)
    return QgsField(name, QVariant.Type.String)  # noqa: QGS402 - QGIS < 3.38 takes no QMetaType


def gray_band(renderer):
    """The band a single-band grey renderer draws (``grayBand()`` is deprecated from QGIS 3.38 on)."""
    if QGIS_VERSION >= 33800:
        return renderer.inputBand()
    return renderer.grayBand()
