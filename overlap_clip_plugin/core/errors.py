"""Errors raised by the core.

Every error is raised before the first byte of output is written, except :class:`CancelledError` and
:class:`WriteError`, after which the partial output is removed. Messages are one sentence a user can act on.
"""


class OverlapClipError(Exception):
    """Base class of every error the core raises on purpose.

    ``template`` is the English sentence with ``{named}`` fields and ``fields`` their values; ``str()`` gives
    the filled-in sentence. A user interface may translate the template before filling it in.
    """

    def __init__(self, template: str, **fields: object) -> None:
        self.template = template
        self.fields = fields
        super().__init__(template.format(**fields))

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # A piece run on another process or machine sends its error back whole: template and fields.
        return _rebuild, (type(self), self.template, self.fields)


def _rebuild(cls: type, template: str, fields: dict) -> OverlapClipError:
    return cls(template, **fields)


def translatable(text: str) -> str:
    """Mark a user-facing sentence the core returns (not raises) for translation; returns it unchanged."""
    return text


class RasterOpenError(OverlapClipError):
    """A path that GDAL cannot open as a raster."""


class InputChangedError(RasterOpenError):
    """An input that changed on disk between the plan and the commit (another job wrote it, say)."""


class UnsupportedGeoreferenceError(OverlapClipError, ValueError):
    """A raster without a geotransform, or with a rotated or south-up one."""


class CrsMismatchError(OverlapClipError, ValueError):
    """One raster has a coordinate reference system and the other has none."""


class NoOverlapError(OverlapClipError, ValueError):
    """The rasters have no common area, or it holds no whole output pixel."""


class FootprintError(OverlapClipError, ValueError):
    """GDAL's geometry engine cannot intersect the rasters' footprints."""


class SplitAreaError(OverlapClipError, ValueError):
    """The common area is one area on the ground that the edge of the output CRS cuts in two."""


class NoValidDataError(NoOverlapError):
    """A raster has no valid pixel in the common area, or the valid data of the rasters do not meet."""


class NoValidNodataError(OverlapClipError, ValueError):
    """A band without nodata uses every value that could be chosen to mark nodata."""


class UnsupportedOptionError(OverlapClipError, ValueError):
    """Options that cannot work together, or with these rasters."""


class QaRuleError(OverlapClipError, ValueError):
    """A clear-sky rule that cannot be read, or that its raster or companion QA raster cannot serve: a band it
    lacks, a data type without those bits, a QA raster on another grid or not covering its input."""


class OutputPathError(OverlapClipError, ValueError):
    """An output path that would overwrite an input or the other output."""


class OutputFormatError(OverlapClipError, ValueError):
    """An output extension no GDAL driver on this machine can write."""


class WriteError(OverlapClipError):
    """GDAL failed while writing an output."""


class CancelledError(OverlapClipError):
    """The caller cancelled the run through the progress callback."""


class ExecutorError(OverlapClipError):
    """The executor a run asked for cannot be made: Dask missing, a cluster that cannot be reached."""


class ChangeInputError(OverlapClipError, ValueError):
    """Two rasters the change map cannot compare: not on one grid, without a band to compare or with different
    band counts, or with too small a common valid area to fit the clusters or a threshold."""
