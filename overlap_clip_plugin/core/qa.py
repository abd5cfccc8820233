"""Clear-sky validity from QA bands: which pixels of a raster show the ground, not cloud, shadow or snow.

A :class:`QaRule` reads one band of quality flags, either a band of the raster itself or a band of a companion
QA raster (a Landsat ``QA_PIXEL`` file beside its reflectance bands, a Sentinel-2 ``SCL`` file), and says of each
value whether the pixel is clear. A rule is one of two kinds:

- **bits to reject**: a pixel is clear when none of these bits is set in its QA value (bit 0 is the least
  significant bit; Landsat's ``QA_PIXEL`` flags are bits);
- **classes to keep**: a pixel is clear when its QA value is one of these classes (Sentinel-2's ``SCL`` is a
  classification).

A companion QA raster must lie on the lattice of its input (one CRS, one pixel size, pixel edges that line up)
and cover all of it: the QA value of a pixel is then the value of the companion's pixel at the same place, found
by :meth:`Grid.window_of`, never resampled. A QA pixel with no value (the QA band's own nodata or mask) is not
clear, and neither is a pixel outside the QA raster.

A raster whose grid was moved by a corrected shift keeps its QA pixels: the flags belong to the pixels of the
file, so the companion is matched against the file's own geotransform.

Use: :func:`parse_rule` turns what a user types into a rule, :func:`check_rule` refuses a rule its raster cannot
serve before anything is written, and :func:`clear_on_window` gives the clear pixels of a block of the raster's
pixels, to AND into the common valid mask. A raster resampled onto the output grid has its QA values resampled
with it by nearest neighbour (:func:`qa_on_grid`): a QA value is a set of flags or a class, which any other
method would mix into a value that means nothing; the pixel is then clear where the QA pixel it takes is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from osgeo import gdal

from overlap_clip_plugin.core.crs import crs_from_wkt, crs_name
from overlap_clip_plugin.core.errors import QaRuleError, UnsupportedGeoreferenceError, WriteError
from overlap_clip_plugin.core.gdalenv import gdal_mode, quiet_gdal
from overlap_clip_plugin.core.grid import Grid, Window
from overlap_clip_plugin.core.raster import RasterInfo, open_raster, read_raster
from overlap_clip_plugin.core.views import on_grid

#: The highest bit a rule may reject: QA values are read as integers of at most 64 bits.
LAST_BIT = 63


def _numbers(values: Iterable[int]) -> tuple[int, ...]:
    """``values`` as sorted, distinct Python integers."""
    return tuple(sorted({int(value) for value in values}))


@dataclass(frozen=True)
class QaRule:
    """Which pixels are clear, from band ``band`` (1-based) of a QA raster: of the raster itself when ``path`` is
    None, else of the companion QA raster at ``path``.

    Exactly one of ``reject_bits`` (clear: none of these bits set) and ``keep_classes`` (clear: the value is one
    of these) is given; both are kept sorted and without repeats, so that equal rules compare equal.
    """

    reject_bits: tuple[int, ...] = ()
    keep_classes: tuple[int, ...] = ()
    band: int = 1
    path: str | None = None

    def __post_init__(self) -> None:
        # Frozen: the normal forms are set once, here.
        object.__setattr__(self, "reject_bits", _numbers(self.reject_bits))
        object.__setattr__(self, "keep_classes", _numbers(self.keep_classes))
        if self.reject_bits and self.keep_classes:
            raise QaRuleError("A QA rule rejects bits or keeps classes, not both.")
        if not self.reject_bits and not self.keep_classes:
            raise QaRuleError("A QA rule needs the bits to reject or the classes to keep; it has neither.")
        for bit in self.reject_bits:
            if not 0 <= bit <= LAST_BIT:
                raise QaRuleError(
                    "A QA rule cannot reject bit {bit}: bits run from 0 to {last}.", bit=bit, last=LAST_BIT
                )
        if self.band < 1:
            raise QaRuleError("QA bands are numbered from 1, so there is no QA band {band}.", band=self.band)

    def __str__(self) -> str:
        """The rule as :func:`parse_rule` reads it (its band and path aside)."""
        if self.reject_bits:
            return "bits:" + ",".join(str(bit) for bit in self.reject_bits)
        return "classes:" + ",".join(str(value) for value in self.keep_classes)


def landsat_c2_qa_pixel(band: int = 1, path: str | None = None) -> QaRule:
    """The clear pixels of a Landsat Collection 2 ``QA_PIXEL`` band (Landsat 4-9, Level-1 and Level-2).

    The bit table ("Pixel Quality Assessment (QA_PIXEL) Bit Index") of the USGS Landsat 8-9 Collection 2 Level-2
    Science Product Guide; the Landsat 4-7 guide has the same bits 0-5, with bit 2 (cirrus) unused::

        bit 0   fill                       rejected
        bit 1   dilated cloud              rejected
        bit 2   cirrus (high confidence)   rejected
        bit 3   cloud                      rejected
        bit 4   cloud shadow               rejected
        bit 5   snow                       rejected
        bit 6   clear                      (set when bits 1 and 3 are not: it ignores shadow and snow)
        bit 7   water                      kept: water is ground to compare
        bits 8-15  confidences of cloud, cloud shadow, snow/ice and cirrus (2 bits each)

    The confidence pairs are not used: bits 2-5 are the flags of high confidence, and the low and medium
    confidences mark most clear pixels of a scene. The guide itself was not at hand; checked against Google's
    Earth Engine catalogue entry for ``LANDSAT/LC08/C02/T1_L2`` (github.com/google/earthengine-catalog,
    ``catalog/LANDSAT/templates/LC08_C02_L2.libsonnet``, band ``QA_PIXEL``: bits 0-5 as above, 6 clear, 7 water,
    8-15 the four confidences) and its cloud-masking example ``Landsat8SurfaceReflectance.js``
    (github.com/google/earthengine-api, bits 0-4 masked the same way).

    Parameters
    ----------
    band
        The ``QA_PIXEL`` band: 1 in USGS's own ``*_QA_PIXEL.TIF`` files.
    path
        The ``QA_PIXEL`` file beside the raster; None when it is a band of the raster itself.
    """
    return QaRule(reject_bits=(0, 1, 2, 3, 4, 5), band=band, path=path)


def sentinel2_scl(band: int = 1, path: str | None = None) -> QaRule:
    """The clear pixels of a Sentinel-2 Level-2A scene classification (``SCL``) band, made by Sen2Cor.

    The scene classification classes of ESA's Sentinel-2 Level-2A product specification (Sen2Cor)::

        0   no data                    rejected
        1   saturated or defective     rejected
        2   dark area pixels           kept
        3   cloud shadows              rejected
        4   vegetation                 kept
        5   not vegetated (bare soil)  kept
        6   water                      kept
        7   unclassified               kept
        8   cloud, medium probability  rejected
        9   cloud, high probability    rejected
        10  thin cirrus                rejected
        11  snow or ice                rejected

    Dark area pixels (2) are kept: Sen2Cor puts cloud shadows in class 3, and class 2 holds dark ground (terrain
    shadow, dark soil, burnt areas, asphalt): clear sky, and burnt ground is a change users look for.
    Unclassified (7) is kept: pixels that none of Sen2Cor's tests claimed, which Google's catalogue still names
    "Clouds Low Probability / Unclassified"; a low cloud probability is not a cloud, and the medium and high
    ones (8, 9) are rejected. A stricter mask is the custom rule ``classes:4,5,6``.

    The specification itself was not at hand; checked against the Open Data Cube product definition of ``s2_l2a``
    (github.com/opendatacube/datacube-dataset-config, ``products/s2_l2a.odc-product.yaml``, ``SCL``
    flags_definition: the twelve classes 0-11 as above) and Google's Earth Engine catalogue entry for
    ``COPERNICUS/S2_SR`` (github.com/google/earthengine-catalog, ``catalog/COPERNICUS/templates/S2_SR.libsonnet``,
    band ``SCL``: classes 1-11, 7 as "Clouds Low Probability / Unclassified").

    Parameters
    ----------
    band
        The ``SCL`` band: 1 in the ``*_SCL_20m.jp2`` file of a SAFE product.
    path
        The ``SCL`` file beside the raster; None when it is a band of the raster itself.
    """
    return QaRule(keep_classes=(2, 4, 5, 6, 7), band=band, path=path)


#: The presets by the names a user types.
PRESETS: dict[str, Callable[..., QaRule]] = {
    "landsat-c2-qa-pixel": landsat_c2_qa_pixel,
    "sentinel-2-scl": sentinel2_scl,
}


def parse_rule(text: str, band: int = 1, path: str | None = None) -> QaRule:
    """The rule a user typed: a preset name (see :data:`PRESETS`), ``bits:`` and the bits to reject, or
    ``classes:`` and the classes to keep, whole numbers separated by commas (``bits:0,1,3``,
    ``classes:4,5,6``); case and spaces do not matter. ``band`` and ``path`` say where the QA values are.

    Raises
    ------
    QaRuleError
        The text is none of these, a number is not a whole number, or a bit is out of range.
    """
    compact = "".join(text.split())
    if compact.lower() in PRESETS:
        return PRESETS[compact.lower()](band=band, path=path)
    kind, colon, listed = compact.partition(":")
    kind = kind.lower()
    if not colon or kind not in ("bits", "classes"):
        raise QaRuleError(
            "The QA rule '{text}' is not understood; give a preset ({presets}), or 'bits:' and the bits to "
            "reject, or 'classes:' and the classes to keep, as in 'bits:0,1,3' or 'classes:4,5,6'.",
            text=text,
            presets=", ".join(f"'{name}'" for name in PRESETS),
        )
    if not listed:
        raise QaRuleError(
            "The QA rule '{text}' lists no number after its colon, as in 'bits:0,1,3' or 'classes:4,5,6'.",
            text=text,
        )
    numbers = []
    for item in listed.split(","):
        try:
            numbers.append(int(item, 10))
        except ValueError:
            raise QaRuleError(
                "The QA rule '{text}' has '{item}' where a whole number is expected; separate whole numbers "
                "with commas, as in 'bits:0,1,3'.",
                text=text,
                item=item,
            ) from None
    if kind == "bits":
        return QaRule(reject_bits=tuple(numbers), band=band, path=path)
    return QaRule(keep_classes=tuple(numbers), band=band, path=path)


def clear(rule: QaRule, values: np.ndarray) -> np.ndarray:
    """Boolean array of the shape of ``values`` (QA values of any integer type): True where ``rule`` finds the
    pixel clear. A rule of classes also takes floating-point values."""
    values = np.asarray(values)
    if rule.keep_classes:
        return np.isin(values, rule.keep_classes)
    if values.dtype.kind not in "iu":
        raise ValueError(f"Bits of {values.dtype} values cannot be tested; QA values must be integers.")
    size = values.dtype.itemsize
    # The bits of signed values too, sign bit included: seen as unsigned integers of the same size.
    unsigned = values.astype(values.dtype.newbyteorder("="), copy=False).view(f"u{size}")
    mask = sum(1 << bit for bit in rule.reject_bits if bit < 8 * size)
    return np.bitwise_and(unsigned, np.array(mask, dtype=unsigned.dtype)) == 0


def _grid_of(dataset: gdal.Dataset) -> Grid | None:
    """The north-up grid of ``dataset``'s own pixels (None for one without, placed by GCPs or rotated)."""
    transform = dataset.GetGeoTransform(can_return_null=True)
    if transform is None:
        return None
    try:
        crs = crs_from_wkt(dataset.GetProjection() or "")
        return Grid(tuple(transform), dataset.RasterXSize, dataset.RasterYSize, crs)
    except UnsupportedGeoreferenceError:
        return None


def _pixel_grid(raster: RasterInfo) -> Grid | None:
    """The grid of ``raster``'s file pixels, as its QA flags see them: its own grid, or for a raster moved by a
    corrected shift the grid of its file; None for a raster placed by a transformer (GCPs, RPCs, rotation)."""
    if raster.warped:
        return None
    if not raster.moved:
        return raster.grid
    return _grid_of(open_raster(raster.path, raster.open_options))


def _not_on_grid(raster: RasterInfo, own: Grid | None, qa: RasterInfo, theirs: Grid | None) -> QaRuleError:
    """The refusal of a companion QA raster ``qa`` off the lattice of ``raster`` (their pixel grids, where known)."""
    own, theirs = own or raster.grid, theirs or qa.grid
    return QaRuleError(
        "The QA raster '{qa}' is not on the grid of '{name}': its pixels are {qa_dx:g} x {qa_dy:g} from "
        "({qa_x:.10g}, {qa_y:.10g}) in {qa_crs}, those of '{name}' {dx:g} x {dy:g} from ({x:.10g}, {y:.10g}) in "
        "{crs}; resample the QA raster onto the grid of its input first (nearest neighbour).",
        qa=qa.name,
        name=raster.name,
        qa_dx=theirs.dx,
        qa_dy=-theirs.dy,
        qa_x=theirs.x0,
        qa_y=theirs.y0,
        qa_crs=crs_name(theirs.crs),
        dx=own.dx,
        dy=-own.dy,
        x=own.x0,
        y=own.y0,
        crs=crs_name(own.crs),
    )


@gdal_mode()
def check_rule(rule: QaRule, raster: RasterInfo) -> None:
    """Refuse, before anything is written, a rule that the QA raster of ``raster`` cannot serve.

    Raises
    ------
    RasterOpenError
        The companion QA raster cannot be opened.
    QaRuleError
        The QA raster lacks the rule's band; a rule of bits names a bit its band's data type does not have, or
        reads a band of floating-point values; the companion QA raster is not on the lattice of ``raster``
        (another CRS, pixel size or pixel phase) or does not cover all of it.
    """
    qa = raster if rule.path is None else read_raster(rule.path)
    if rule.band > len(qa.bands):
        raise QaRuleError(
            "'{name}' has {count} bands, so no QA band {band}.", name=qa.name, count=len(qa.bands), band=rule.band
        )
    data_type = qa.bands[rule.band - 1].data_type
    if rule.reject_bits:
        # GDAL's names are NumPy's, but for Byte; complex types (CInt16, CFloat32, ...) have no bits either.
        dtype = np.dtype("uint8" if data_type == "Byte" else "complex64" if data_type[0] == "C" else data_type.lower())
        if dtype.kind not in "iu":
            raise QaRuleError(
                "Band {band} of '{name}' holds {data_type} values, which have no bits to test; give its QA rule "
                "as classes to keep ('classes:').",
                band=rule.band,
                name=qa.name,
                data_type=data_type,
            )
        last = 8 * dtype.itemsize - 1
        if rule.reject_bits[-1] > last:
            raise QaRuleError(
                "The QA rule rejects bit {bit}, but band {band} of '{name}' is {data_type}, with bits 0 to {last}.",
                bit=rule.reject_bits[-1],
                band=rule.band,
                name=qa.name,
                data_type=data_type,
                last=last,
            )
    if rule.path is None:
        return
    own, theirs = _pixel_grid(raster), _pixel_grid(qa)
    if own is None or theirs is None:
        # Placed by a transformer: only a QA raster placed alike, pixel for pixel, shares its pixels.
        if not (own is None and theirs is None and qa.grid == raster.grid and qa.stamp[:2] == raster.stamp[:2]):
            raise _not_on_grid(raster, own, qa, theirs)
        return
    if theirs.window_of(own, inside=False) is None:
        raise _not_on_grid(raster, own, qa, theirs)
    if theirs.window_of(own) is None:
        raise QaRuleError(
            "The QA raster '{qa}' covers {qa_bounds} but '{name}' covers {bounds} in {crs}; a QA raster must "
            "cover all of its input.",
            qa=qa.name,
            qa_bounds=theirs.bounds,
            name=raster.name,
            bounds=own.bounds,
            crs=crs_name(raster.crs),
        )


def _companion_window(raster: RasterInfo, qa: gdal.Dataset, qa_name: str, window: Window) -> Window:
    """The block of the companion QA raster ``qa`` whose pixels are ``window`` of ``raster``'s pixels."""
    own, theirs = _pixel_grid(raster), _grid_of(qa)
    if own is None or theirs is None:
        return window  # both placed alike, pixel for pixel (check_rule saw to it)
    # A window reaching outside the raster is a grid all the same: only the lattice matters.
    block = theirs.window_of(own.subgrid(window), inside=False)
    if block is None:
        raise QaRuleError(
            "The QA raster '{qa}' is no longer on the grid of '{name}'; it changed since the rule was checked.",
            qa=qa_name,
            name=raster.name,
        )
    return block


@gdal_mode()
def clear_on_window(rule: QaRule, raster: RasterInfo, window: Window) -> np.ndarray:
    """Boolean array (window.height x window.width): True where the pixels ``window`` of ``raster`` (a block of
    its pixels, which may reach outside it) are clear by ``rule``.

    The QA values are read from the same block of the raster's QA band, or from the matching block of the
    companion QA raster (see :func:`check_rule`, which must have passed). Pixels outside the QA raster, and QA
    pixels that the QA band's own mask (its nodata) marks invalid, are not clear.
    """
    if window.is_empty:
        return np.zeros((max(window.height, 0), max(window.width, 0)), dtype=bool)
    if rule.path is None:
        dataset = open_raster(raster.path, raster.open_options)
        block = window
    else:
        dataset = open_raster(rule.path)
        block = _companion_window(raster, dataset, os.path.basename(rule.path), window)
    band = dataset.GetRasterBand(rule.band)
    result = np.zeros((window.height, window.width), dtype=bool)
    col0, row0 = max(block.col_off, 0), max(block.row_off, 0)
    col1 = min(block.col_off + block.width, dataset.RasterXSize)
    row1 = min(block.row_off + block.height, dataset.RasterYSize)
    if col0 >= col1 or row0 >= row1:
        return result
    masked = not band.GetMaskFlags() & gdal.GMF_ALL_VALID
    values = band.ReadAsArray(col0, row0, col1 - col0, row1 - row0)
    valid = band.GetMaskBand().ReadAsArray(col0, row0, col1 - col0, row1 - row0) if masked else True
    if values is None or valid is None:
        raise WriteError(
            "Cannot read QA band {band} of '{name}': {reason}",
            band=rule.band,
            name=os.path.basename(rule.path or raster.path),
            reason=gdal.GetLastErrorMsg(),
        )
    inside = clear(rule, values) & (valid != 0)
    result[row0 - block.row_off : row1 - block.row_off, col0 - block.col_off : col1 - block.col_off] = inside
    return result


def _qa_band(rule: QaRule, raster: RasterInfo) -> gdal.Dataset:
    """The QA band of ``rule`` as a one-band VRT placed like ``raster`` as it is read (moved, or by its
    transformer), pixel for pixel with the raster's own pixels."""
    if rule.path is None:
        return gdal.Translate("", raster.open(), format="VRT", bandList=[rule.band])
    dataset = open_raster(rule.path)
    if raster.warped:
        # Placed alike, pixel for pixel (check_rule saw to it): the raster's transformer options place it too.
        return gdal.Translate("", dataset, format="VRT", bandList=[rule.band])
    whole = Window(0, 0, raster.grid.width, raster.grid.height)
    block = _companion_window(raster, dataset, os.path.basename(rule.path), whole)
    view = gdal.Translate(
        "",
        dataset,
        format="VRT",
        bandList=[rule.band],
        srcWin=[block.col_off, block.row_off, whole.width, whole.height],
    )
    # The flags belong to the raster's pixels: where the raster is moved, they move with it.
    view.SetGeoTransform(raster.grid.transform)
    view.SetProjection(raster.crs.wkt if raster.crs is not None else "")
    return view


@gdal_mode()
def qa_on_grid(rule: QaRule, raster: RasterInfo, grid: Grid) -> gdal.Dataset:
    """The QA values of ``raster`` resampled onto ``grid`` by nearest neighbour, as a lazy VRT of two bands: the
    values, and an alpha band (0 where no QA pixel with a value lands: outside the raster, the QA band's nodata).
    Read it with :func:`clear_on_view`; :func:`check_rule` must have passed."""
    with quiet_gdal():
        band = _qa_band(rule, raster)
    if band is None:
        raise WriteError(
            "Cannot read QA band {band} of '{name}': {reason}",
            band=rule.band,
            name=os.path.basename(rule.path or raster.path),
            reason=gdal.GetLastErrorMsg(),
        )
    return on_grid(band, raster.path, grid, None, "near", raster.warp_options, alpha=True)


def clear_on_view(rule: QaRule, view: gdal.Dataset, row_off: int, rows: int) -> np.ndarray:
    """Boolean array (rows x width of ``view``): True where rows ``row_off ..`` of ``view`` (from
    :func:`qa_on_grid`) are clear by ``rule``."""
    values = view.GetRasterBand(1).ReadAsArray(0, row_off, view.RasterXSize, rows)
    landed = view.GetRasterBand(2).ReadAsArray(0, row_off, view.RasterXSize, rows)
    if values is None or landed is None:
        raise WriteError("Cannot read a QA band: {reason}", reason=gdal.GetLastErrorMsg())
    return clear(rule, values) & (landed != 0)
