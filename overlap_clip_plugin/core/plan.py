"""Plan a clip: read the inputs, check everything, fix every output's grid. Writes nothing.

Two rasters or many take the same path: a pair is the case ``N = 2``.

The output grid is the reference raster's lattice over the common area (the pixel rule of
:mod:`overlap_clip_plugin.core.grid`). With ``area="valid"`` it then shrinks to the bounding box of the pixels
where every raster has valid data (:mod:`overlap_clip_plugin.core.validity`). A raster that already lies on
the output grid (same CRS, pixel size and pixel phase) is copied as a window of itself; any other is
resampled.

The plan holds every decision about each output: its grid (with its CRS), the window of its source it copies
or the warp that makes it, and what its write reads (:class:`~overlap_clip_plugin.core.raster.Read`). Later
passes read these decisions and never ask again.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from osgeo import gdal

from overlap_clip_plugin.core.area import common_area, thinner_than_a_pixel
from overlap_clip_plugin.core.crs import Crs, crs_name
from overlap_clip_plugin.core.errors import (
    NoValidDataError,
    NoValidNodataError,
    OutputFormatError,
    OutputPathError,
    UnsupportedOptionError,
    translatable,
)
from overlap_clip_plugin.core.executors import InlineExecutor, Progress, run_pieces
from overlap_clip_plugin.core.formats import MASK_BAND_DRIVERS, check_not_a_container, check_output_format, is_lossy
from overlap_clip_plugin.core.gdalenv import bounded_cache, gdal_mode, gdal_warnings
from overlap_clip_plugin.core.grid import Bounds, Grid, Window
from overlap_clip_plugin.core.qa import check_rule
from overlap_clip_plugin.core.raster import RasterInfo, Read, Source, read_raster
from overlap_clip_plugin.core.remote import LocalCopies, fetched_once, is_remote
from overlap_clip_plugin.core.scratch import scratch_folder
from overlap_clip_plugin.core.validity import MaskFile, pick_nodata, valid_summary
from overlap_clip_plugin.core.views import NEW_VALUES, source_view

#: Resampling methods, by their GDAL names, in the order the algorithm lists them.
RESAMPLING_METHODS = tuple("near bilinear cubic cubicspline lanczos average mode min max med q1 q3".split())

#: What the log says of a raster placed on the ground by a GDAL transformer (see core.georef).
PLACED_BY = {
    "rotated": translatable(
        "'{name}' has a rotated, sheared or south-up geotransform: GDAL's warper resamples it onto the north-up "
        "output grid."
    ),
    "gcp_polynomial": translatable(
        "'{name}' is placed by ground control points: GDAL's warper resamples it onto the output grid with the "
        "polynomial GCP transformer."
    ),
    "gcp_tps": translatable(
        "'{name}' is placed by ground control points: GDAL's warper resamples it onto the output grid with the "
        "thin-plate-spline GCP transformer."
    ),
    "rpc": translatable(
        "'{name}' is placed by rational polynomial coefficients (RPCs): GDAL's warper resamples it onto the output "
        "grid with the RPC transformer."
    ),
}

#: What the log says of an output whose format writes a grid or bands of its own.
OFF_THE_GRID = translatable(
    "GDAL's {driver} driver writes '{output}' on a grid and with bands of its own (as gdal_translate does): that "
    "output is not on the common grid."
)

#: What the log says of an output compressed lossily.
LOSSY = translatable(
    "'{output}' is compressed lossily ({driver} with its creation options): its pixel values are not the "
    "source's exactly."
)

#: How a masked output marks invalid pixels: a nodata value, its alpha band, or a mask band.
VALIDITY_NODATA, VALIDITY_ALPHA, VALIDITY_MASK = "nodata", "alpha", "mask"

#: What the common area is, by name: the rasters' extents, or where all of them have valid data.
AREAS = ("extents", "valid")

#: How valid-data footprints are computed, as the log says it.
FOOTPRINT_METHOD = translatable(
    "valid data read from GDAL's masks (nodata, alpha, per-dataset masks) at full resolution on the output grid, "
    "a strip of rows at a time"
)

#: A warning callback: receives one sentence (GDAL's own words for GDAL's warnings).
Warn = Callable[[str], None]


@dataclass(frozen=True)
class OutputPlan:
    """How one output is made.

    ``window`` is the block of the source copied as is, or ``None`` when the source is resampled onto ``grid``
    (which carries the output's CRS). ``area`` is the common area of the extents in the output's CRS.
    ``mask_with`` lists how the write reads the rasters whose common valid-data mask is applied (empty: no
    mask), writing ``nodata`` (one value per band) where any of them has no valid data.
    """

    source: RasterInfo
    path: str
    driver: str
    grid: Grid
    area: Bounds
    window: Window | None
    resampling: str = "near"
    mask_with: tuple[Read, ...] = ()
    nodata: tuple[float | None, ...] = ()
    validity: str = VALIDITY_NODATA
    #: GDAL creation options of the output, checked with its driver, and whether they change its values.
    options: tuple[str, ...] = ()
    lossy: bool = False
    common_mask: MaskFile | None = field(default=None, compare=False)
    #: The local copies of remote inputs this output is written from, kept while the plan lives.
    local_copies: LocalCopies | None = field(default=None, compare=False)

    @property
    def copied(self) -> bool:
        """True when the output is a window of its source, copied as is."""
        return self.window is not None

    @property
    def crs(self) -> Crs | None:
        """The output's CRS (its grid's)."""
        return self.grid.crs


@dataclass(frozen=True)
class Note:
    """A sentence for the user about the plan: an English template and its fields (translatable)."""

    template: str
    fields: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template.format(**self.fields)


@dataclass(frozen=True)
class ClipPlan:
    """Every output of one run, in input order, and how the common area was found."""

    outputs: tuple[OutputPlan, ...]
    rasters: tuple[RasterInfo, ...]
    area_mode: str = "extents"
    footprint_method: str = ""
    warnings: tuple[Note, ...] = ()
    #: The common valid mask on the first output's grid, when the run scanned it (see MaskFile).
    common_mask: MaskFile | None = field(default=None, compare=False)


@gdal_mode()
def driver_for_path(path: str) -> str:
    """The short name of the GDAL driver that writes rasters with ``path``'s extension.

    Raises
    ------
    OutputFormatError
        The path has no extension, or no installed driver writes it.
    """
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if not extension:
        raise OutputFormatError(
            "The output '{path}' has no file extension, so its format is unknown (use .tif, for example).", path=path
        )
    driver = _driver_for_extension(extension)
    if driver:
        return driver
    raise OutputFormatError(
        "No GDAL raster driver on this machine writes '.{extension}' files (output '{path}').",
        extension=extension,
        path=path,
    )


@functools.lru_cache(maxsize=64)
def _driver_for_extension(extension: str) -> str:
    """The first driver that writes rasters with ``extension``, or ''."""
    # Registration order puts the general-purpose driver first (GTiff before COG).
    for index in range(gdal.GetDriverCount()):
        driver = gdal.GetDriver(index)
        metadata = driver.GetMetadata() or {}
        if metadata.get("DCAP_RASTER") != "YES":
            continue
        if metadata.get("DCAP_CREATE") != "YES" and metadata.get("DCAP_CREATECOPY") != "YES":
            continue
        if extension in (metadata.get("DMD_EXTENSIONS") or "").lower().split():
            return str(driver.ShortName)
    return ""


def output_names(inputs: Sequence[str], suffix: str = "_common", extension: str = ".tif") -> list[str]:
    """File names for the outputs of ``inputs``: each input's file name stem with ``suffix``.

    Inputs with the same name (from different folders) get ``_2``, ``_3``, ... after the suffix, in input
    order, so that no output overwrites another (compared case-insensitively, as some file systems do).
    """
    names, taken = [], set()
    for path in inputs:
        stem = "".join("_" if char in '<>:"/\\|?*' else char for char in _stem(path))
        name, number = f"{stem}{suffix}{extension}", 1
        while name.lower() in taken:
            number += 1
            name = f"{stem}{suffix}_{number}{extension}"
        taken.add(name.lower())
        names.append(name)
    return names


#: A GDAL subdataset name with its file in quotes: ``NETCDF:"file.nc":temp``, ``HDF5:"f.h5"://group/var``,
#: ``HDF4_EOS:EOS_GRID:"f.hdf":grid:band``.
_SUBDATASET = re.compile(r'^\w+:(?:\w+:)*"(?P<file>[^"]+)":(?P<name>.+)$')


def _stem(path: str) -> str:
    """The name of an input, for its output: its file's stem, with a subdataset's own name after it; of a
    URL without its query (a presigned URL's signature)."""
    name, variable = path.split("|")[0], ""
    subdataset = _SUBDATASET.match(name)
    if subdataset:
        name = subdataset["file"]
        variable = next((part for part in reversed(re.split(r"[:/]", subdataset["name"])) if part), "")
    elif "://" in name or name.startswith("/vsi"):
        name = name.split("?")[0]
    stem = os.path.splitext(os.path.basename(name.rstrip("/\\")))[0] or "raster"
    return f"{stem}_{variable}" if variable else stem


def file_key(path: str) -> object:
    """What makes two paths one file: device and inode when it exists (hard links, case-insensitive file
    systems), else the normalised real path."""
    try:
        status = os.stat(path)
    except OSError:
        return os.path.normcase(os.path.realpath(path))
    return (status.st_dev, status.st_ino)


def check_output_paths(inputs: Sequence[RasterInfo], outputs: Sequence[str]) -> list[str]:
    """The driver of each output, after refusing outputs that would overwrite inputs or each other.

    Each path is looked at once (a set of file keys, not a comparison of every pair), and each
    folder is probed for writing once, so checking stays linear in the number of outputs.
    """
    input_keys = {file_key(raster.path): raster.path for raster in inputs if os.path.exists(raster.path)}
    output_keys: set[object] = set()
    writable: set[str] = set()
    drivers = []
    for output in outputs:
        key = file_key(output)
        if key in input_keys:
            raise OutputPathError(
                "The output '{output}' is the input '{path}'; choose another output path.",
                output=output,
                path=input_keys[key],
            )
        if key in output_keys:
            raise OutputPathError(
                "Two outputs have the same path '{output}'; give each output its own path.", output=output
            )
        output_keys.add(key)
        if os.path.isdir(output):
            raise OutputPathError("The output '{output}' is a folder; give a file name.", output=output)
        folder = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(folder):
            raise OutputPathError(
                "The folder '{folder}' of the output '{output}' does not exist.", folder=folder, output=output
            )
        if folder not in writable:
            _check_writable(folder, output)
            writable.add(folder)
        check_not_a_container(output)
        drivers.append(driver_for_path(output))
    return drivers


def _checked_options(
    rasters: Sequence[RasterInfo], outputs: Sequence[str], drivers: Sequence[str], creation_options: Sequence[str]
) -> tuple[list[tuple[str, ...]], list[Note]]:
    """Each output's creation options (a GeoPackage's raster table named after the output), refused when
    its driver would not take them or not store the bands as they are (see check_output_format); and a
    note for each output whose format moves it off its grid."""
    checked: dict[tuple, bool] = {}
    options, notes = [], []
    for raster, path, driver in zip(rasters, outputs, drivers):
        own = tuple(creation_options)
        if driver == "GPKG" and not any(option.upper().startswith("RASTER_TABLE=") for option in own):
            own += ("RASTER_TABLE=" + os.path.splitext(os.path.basename(path))[0],)
        key = (driver, own, raster.bands, raster.grid.transform, raster.crs)
        if key not in checked:
            checked[key] = check_output_format(driver, path, own, raster)
        if not checked[key]:
            notes.append(Note(OFF_THE_GRID, {"driver": driver, "output": path}))
        options.append(own)
    return options, notes


def _check_writable(folder: str, output: str) -> None:
    """Refuse a folder in which no file can be created (read-only, immutable, no permission)."""
    try:
        probe = scratch_folder(output, "probe")
    except OSError as err:
        raise OutputPathError(
            "Cannot write the output '{output}': the folder '{folder}' is not writable ({reason}).",
            output=output,
            folder=folder,
            reason=err.strerror,
        ) from err
    os.rmdir(probe)


def _common_grid(
    rasters: Sequence[RasterInfo],
    reference: int,
    area_mode: str,
    progress: Progress | None,
    executor: concurrent.futures.Executor,
) -> tuple[Grid, Bounds, MaskFile | None]:
    """The output grid on ``rasters[reference]``'s lattice, the common extent in its CRS, and (valid-data
    area) the common mask the scan kept."""
    ref = rasters[reference]
    area = common_area(rasters, reference)
    window = ref.grid.window_for(area)
    if window.is_empty:
        raise thinner_than_a_pixel(area, ref)
    grid = ref.grid.subgrid(window)
    if area_mode != "valid":
        return grid, area, None
    summary = valid_summary([Read.on(r, grid) for r in rasters], grid, progress, keep=True, executor=executor)
    if summary.count == 0:
        for raster, count in zip(rasters, summary.counts):
            if count == 0:
                raise NoValidDataError(
                    "'{name}' has no valid data (all nodata or masked) inside the common extent {area} in {crs}.",
                    name=raster.name,
                    area=area,
                    crs=crs_name(ref.crs),
                )
        raise NoValidDataError(
            "The valid data of the rasters do not meet: no pixel of the common extent {area} in {crs} is "
            "valid in all of {names}.",
            area=area,
            crs=crs_name(ref.crs),
            names=", ".join(repr(r.name) for r in rasters),
        )
    grid = grid.subgrid(summary.window)
    return grid, area, summary.mask


def _shares_common_grid(raster: RasterInfo, other: OutputPlan) -> bool:
    """Whether ``raster``'s own output grid is ``other``'s grid: they share a CRS and a pixel lattice (pixel
    size and phase) and that grid lies inside ``raster`` (not so for a 0..360 raster against a -180..180
    one, where the common area lies at other longitudes in each)."""
    return raster.grid.window_of(other.grid) is not None


def _check_mask_common(rasters: Sequence[RasterInfo], drivers: Sequence[str], own_grids: bool) -> None:
    if "VRT" in drivers:
        raise UnsupportedOptionError(
            "A masked output must hold its own pixels, but a .vrt output only refers to its source; "
            "choose another format (.tif, for example) or do not mask."
        )
    if own_grids:
        first = rasters[0]
        for raster in rasters[1:]:
            if raster.grid.offset_on(first.grid) is None:
                raise UnsupportedOptionError(
                    "A common nodata mask on each raster's own grid needs grids that coincide, but '{name}' and "
                    "'{first}' are on different grids (CRS, pixel size or pixel phase); put both on one raster's "
                    "grid instead.",
                    name=raster.name,
                    first=first.name,
                )


@gdal_mode()
@bounded_cache()
def plan_clip(
    inputs: Sequence[str | Source],
    outputs: Sequence[str],
    reference: int | None = 0,
    area: str = "extents",
    mask_common: bool = False,
    resampling: str = "near",
    progress: Progress | None = None,
    warn: Warn | None = None,
    gcp_method: str = "polynomial",
    rpc_dem: str | None = None,
    executor: concurrent.futures.Executor | None = None,
    creation_options: Sequence[str] = (),
) -> ClipPlan:
    """Check the inputs and outputs and fix every output's grid; nothing is written.

    Parameters
    ----------
    inputs
        Two or more rasters: paths (any GDAL dataset name), or :class:`Source`
        objects where a raster needs GDAL open options.
    outputs
        One output path per input; the extension chooses the format.
    reference
        Index of the input whose grid (CRS, pixel size, pixel phase) every output takes; ``None`` keeps each
        raster on its own grid, never resampling.
    area
        "extents" (the rasters' extents) or "valid" (where every raster has valid data).
    mask_common
        Write nodata in every output wherever any raster has no valid data.
        Bands without a nodata value get one their pixels never take.
    resampling
        GDAL resampling method for rasters not on the output grid.
    progress
        Called with the fraction of the valid-data scan done (``area="valid"``
        and ``mask_common`` read the rasters); return False to stop.
    warn
        Called with each warning GDAL gives meanwhile; without it they become Python warnings
        (``GdalWarning``). The plan's own notes to the user are in :attr:`ClipPlan.warnings`.
    gcp_method, rpc_dem
        For rasters placed by ground control points, GDAL's "polynomial" or
        "tps" (thin-plate spline) transformer; for rasters placed by RPCs, an
        optional DEM (heights above the ellipsoid) for the RPC transformer.
    executor
        A ``concurrent.futures.Executor`` (a thread pool, a Dask client's ``get_executor()``) through which
        each input's metadata is read and the valid data are scanned strip by strip; None does it all on this
        thread. The plan is the same either way.
    creation_options
        GDAL creation options for every output, checked with each driver.

    Returns
    -------
    ClipPlan
        One :class:`OutputPlan` per input. With a reference, all outputs have
        the same CRS and grid (geotransform and size), bit for bit.

    Raises
    ------
    OverlapClipError
        Any subclass, for bad inputs, outputs or options and for rasters without a common area.
    """
    if len(inputs) < 2:
        raise ValueError("At least two input rasters are needed.")
    if len(outputs) != len(inputs):
        raise ValueError(f"{len(inputs)} inputs need {len(inputs)} outputs, not {len(outputs)}.")
    if reference is not None and not 0 <= reference < len(inputs):
        raise ValueError(f"The reference index {reference} is not one of the {len(inputs)} inputs.")
    if area not in AREAS:
        raise ValueError(f"Unknown common area {area!r}; use 'extents' or 'valid'.")
    if resampling not in RESAMPLING_METHODS:
        raise ValueError(f"Unknown resampling method '{resampling}'; use one of {', '.join(RESAMPLING_METHODS)}.")
    if gcp_method not in ("polynomial", "tps"):
        raise ValueError(f"Unknown GCP method '{gcp_method}'; use 'polynomial' or 'tps'.")
    executor = executor or InlineExecutor()
    with gdal_warnings(warn):
        originals = tuple(run_pieces(executor, read_raster, [(source, gcp_method, rpc_dem) for source in inputs]))
        for raster in originals:
            if raster.qa is not None:
                check_rule(raster.qa, raster)
        drivers = check_output_paths(originals, outputs)
        if mask_common:
            _check_mask_common(originals, drivers, reference is None)
        options, notes = _checked_options(originals, outputs, drivers, creation_options)
        planned = functools.partial(
            _planned,
            originals=originals,
            outputs=outputs,
            drivers=drivers,
            options=options,
            notes=notes,
            reference=reference,
            resampling=resampling,
            progress=progress,
            executor=executor,
        )
        if (area == "valid" or mask_common) and "VRT" not in drivers and any(is_remote(r.path) for r in originals):
            # Read twice (the scan, then the writing), the part of a remote input that the plan of the extents
            # reads is fetched once; a VRT output keeps pointing at the input itself.
            rasters, copies = fetched_once(planned(originals, "extents", False).outputs, progress)
            try:
                return planned(rasters, area, mask_common, copies=copies)
            except BaseException:
                if copies is not None:
                    copies.remove()
                raise
        return planned(originals, area, mask_common)


#: What the log says of a clear-sky rule that neither the valid-data area nor the common mask reads.
RULE_UNUSED = translatable(
    "'{name}' has a clear-sky rule, but the common area is the rasters' extents and no nodata is set where any "
    "raster has none: the outputs are as they would be without it."
)


def _planned(
    rasters: tuple[RasterInfo, ...],
    area: str,
    mask_common: bool,
    *,
    originals: tuple[RasterInfo, ...],
    outputs: Sequence[str],
    drivers: list[str],
    options: list[tuple[str, ...]],
    notes: list[Note],
    reference: int | None,
    resampling: str,
    progress: Progress | None,
    executor: concurrent.futures.Executor,
    copies: LocalCopies | None = None,
) -> ClipPlan:
    plans = []
    common_mask = None
    if reference is not None:
        grid, extent, common_mask = _common_grid(rasters, reference, area, progress, executor)
        for raster, path, driver in zip(rasters, outputs, drivers):
            plans.append(OutputPlan(raster, path, driver, grid, extent, raster.window_onto(grid), resampling))
    else:
        for index, (raster, path, driver) in enumerate(zip(rasters, outputs, drivers)):
            shared = next((plan for plan in plans if _shares_common_grid(raster, plan)), None)
            if shared is not None:
                # On one lattice, its own grid over the common (valid) area is the same pixels: no second scan.
                grid = raster.grid.subgrid(raster.grid.window_for(shared.grid.bounds))
                extent = shared.area
            else:
                grid, extent, kept = _common_grid(rasters, index, area, progress, executor)
                common_mask = common_mask or kept
            plans.append(OutputPlan(raster, path, driver, grid, extent, raster.window_onto(grid), resampling))
    if mask_common and common_mask is None:
        # One scan of every raster's mask, kept for every masked output (their grids share one lattice).
        grid = plans[0].grid
        reads = [Read.on(raster, grid) for raster in rasters]
        common_mask = valid_summary(reads, grid, progress, keep=True, executor=executor).mask
    warnings = [Note(PLACED_BY[raster.georeference], {"name": raster.name}) for raster in rasters if raster.warped]
    warnings += notes
    for index, plan in enumerate(plans):
        if not plan.copied and plan.resampling in NEW_VALUES and any(band.paletted for band in plan.source.bands):
            # Interpolated palette indices would be colours that never existed.
            plans[index] = replace(plan, resampling="near")
            warnings.append(
                Note(
                    translatable(
                        "'{name}' holds palette indices, which {method} resampling would mix into indices that mean "
                        "nothing: it is resampled by nearest neighbour instead."
                    ),
                    {"name": plan.source.name, "method": plan.resampling},
                )
            )
    plans = [
        replace(plan, options=own, lossy=is_lossy(plan.driver, own, plan.source)) for plan, own in zip(plans, options)
    ]
    warnings += [Note(LOSSY, {"output": plan.path, "driver": plan.driver}) for plan in plans if plan.lossy]
    if area != "valid" and not mask_common:
        warnings += [Note(RULE_UNUSED, {"name": raster.name}) for raster in rasters if raster.qa is not None]
    if mask_common:
        plans = [replace(_masked(plan, rasters, progress), common_mask=common_mask) for plan in plans]
    plans = [_keeping_own_mask(plan) for plan in plans]
    method = FOOTPRINT_METHOD if area == "valid" or mask_common else ""
    if all(raster.crs is None for raster in rasters):
        warnings.append(
            Note(
                translatable(
                    "None of the rasters has a coordinate reference system: they are taken to share one coordinate "
                    "space, as their geotransforms say."
                )
            )
        )
    if len({os.path.realpath(raster.path) for raster in originals}) < len(originals):
        warnings.append(
            Note(translatable("The same raster is given more than once: its outputs are copies of one another."))
        )
    plans = [replace(plan, local_copies=copies) for plan in plans]
    return ClipPlan(tuple(plans), originals, area, method, tuple(warnings), common_mask)


def _masked(plan: OutputPlan, rasters: Sequence[RasterInfo], progress: Progress | None) -> OutputPlan:
    """``plan`` with the common mask of ``rasters``, kept in the form its source marks validity.

    An alpha band stays the alpha band; a per-dataset mask stays a mask band; nodata values stay
    nodata values. A source that marks nothing gets one nodata value its pixels never take, or a
    mask band when they take every value (a Byte band using all 256, say).
    """
    flags = plan.source.bands[0].mask_flags
    none = (None,) * len(plan.source.bands)
    reads = tuple(Read.on(raster, plan.grid) for raster in rasters)
    if plan.lossy:
        # Lossy compression moves values onto and off any value that marks nodata: the mask keeps validity.
        if plan.driver not in MASK_BAND_DRIVERS:
            raise UnsupportedOptionError(
                "Every output must keep the same valid pixels, but '{output}' ({driver}) is compressed lossily, "
                "which changes the values that mark them, and the format has no mask band to keep them in; write "
                "it losslessly, or as a GeoTIFF (COMPRESS=JPEG keeps a lossless mask beside it).",
                output=plan.path,
                driver=plan.driver,
            )
        return replace(plan, mask_with=reads, nodata=none, validity=VALIDITY_MASK)
    if flags & gdal.GMF_ALPHA:
        return replace(plan, mask_with=reads, nodata=none, validity=VALIDITY_ALPHA)
    if flags & gdal.GMF_PER_DATASET:
        return replace(plan, mask_with=reads, nodata=none, validity=VALIDITY_MASK)
    view = source_view(plan.source, plan.grid, plan.window, plan.resampling)
    try:
        nodata = pick_nodata(view, plan.source.name, progress, plan.source.bands[0].signed_byte)
    except NoValidNodataError:
        return replace(plan, mask_with=reads, nodata=none, validity=VALIDITY_MASK)
    return replace(plan, mask_with=reads, nodata=nodata)


def _keeping_own_mask(plan: OutputPlan) -> OutputPlan:
    """A resampled source whose validity is a per-dataset mask keeps it on the output grid (a warp alone
    would turn its masked pixels into valid zeros); so does a warped raster without nodata, whose
    footprint is not its output's box."""
    flags = plan.source.bands[0].mask_flags
    if plan.copied or plan.mask_with or plan.driver == "VRT" or flags & gdal.GMF_ALPHA:
        return plan
    outside_unmarked = plan.source.warped and plan.source.bands[0].nodata is None
    if flags & gdal.GMF_PER_DATASET or outside_unmarked:
        # Its own mask only: a clear-sky rule masks outputs through MASK_COMMON alone.
        own = (Read.on(replace(plan.source, qa=None), plan.grid),)
        return replace(plan, mask_with=own, nodata=(None,) * len(plan.source.bands), validity=VALIDITY_MASK)
    return plan
