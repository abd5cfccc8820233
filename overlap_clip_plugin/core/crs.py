"""Coordinate reference systems, parsed once.

A :class:`Crs` is the CRS of a raster or a grid: its WKT, parsed by OSR the first time it is met in a process
and shared after that (:func:`crs_from_wkt`). Two ``Crs`` are equal when OSR finds them the same CRS (the axis
order aside), and equal ones hash alike, so a CRS can key a dictionary or sit in a frozen grid. A raster
without a CRS has ``None``: rasters without one are taken to share one coordinate space.

Every coordinate transformation the core makes comes from :func:`transformation`,
which raises a clear error where PROJ has none.
"""

from __future__ import annotations

import functools
import math
import threading

from osgeo import osr

from overlap_clip_plugin.core.errors import CrsMismatchError, translatable
from overlap_clip_plugin.core.gdalenv import gdal_mode, quiet_gdal

#: A parsed CRS is shared by the pieces of a run, and OSR's objects are not for several threads at once.
OSR_LOCK = threading.Lock()


class Crs:
    """A parsed CRS: x is easting or longitude, y northing or latitude (traditional GIS order)."""

    __slots__ = ("_key", "central_meridian", "geographic", "is_geographic", "name", "reach", "srs", "wkt")

    def __init__(self, wkt: str) -> None:
        srs = osr.SpatialReference()
        with quiet_gdal():
            if srs.ImportFromWkt(wkt) != 0:
                raise CrsMismatchError("GDAL cannot read the coordinate reference system {wkt}.", wkt=wkt[:200])
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        self.wkt = wkt
        self.srs = srs
        self.is_geographic = bool(srs.IsGeographic())
        self.name = _name(srs)
        # Equal CRSs share these, whatever their authority codes or WKT spelling.
        self._key = (self.is_geographic, round(srs.GetSemiMajor(), 3))
        self.geographic = self if self.is_geographic else _geographic_of(srs)
        # Read once here: OSR's getters are not for several threads at once.
        self.central_meridian = _central_meridian(srs)
        #: A bound on the coordinates of any point of the globe: 1000 degrees, or a million kilometres in
        #: the CRS's own units (Mercator reaches 40 000 km at 89.99 degrees).
        self.reach = 1000.0 if self.is_geographic else 1e9 / (srs.GetLinearUnits() or 1.0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Crs):
            return NotImplemented
        return self is other or _same(self.wkt, other.wkt)

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # A piece on another process or machine parses the WKT once there.
        return crs_from_wkt, (self.wkt,)

    def __repr__(self) -> str:
        return f"Crs({self.name})"


def _central_meridian(srs: osr.SpatialReference) -> float:
    """The longitude a projected CRS is centred on (0 when its definition names none)."""
    for name in (osr.SRS_PP_CENTRAL_MERIDIAN, osr.SRS_PP_LONGITUDE_OF_CENTER, osr.SRS_PP_LONGITUDE_OF_ORIGIN):
        value = srs.GetNormProjParm(name, math.nan)
        if not math.isnan(value):
            return float(value)
    return 0.0


@functools.lru_cache(maxsize=256)
@gdal_mode()
def crs_from_wkt(wkt: str) -> Crs | None:
    """The parsed CRS of ``wkt`` (None for the empty string), the same object every time in a process; with
    the core's GDAL settings wherever it is called (a Dask worker unpickling a grid, outside any piece)."""
    return Crs(wkt) if wkt else None


@functools.lru_cache(maxsize=1024)
@gdal_mode()
def _same(wkt_a: str, wkt_b: str) -> bool:
    first, second = crs_from_wkt(wkt_a), crs_from_wkt(wkt_b)
    assert first is not None and second is not None
    with OSR_LOCK:
        return bool(first.srs.IsSame(second.srs, ["IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES"]))


def _name(srs: osr.SpatialReference) -> str:
    authority, code = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
    if authority and code:
        return f"{authority}:{code}"
    name = srs.GetName() or ""
    if name and name.lower() != "unknown":
        return str(name)
    return str(srs.ExportToProj4() or "").strip() or translatable("unnamed CRS")


def _geographic_of(srs: osr.SpatialReference) -> Crs | None:
    """The geographic CRS a projected CRS is based on; None for a CRS on no ellipsoid (a local one)."""
    if srs.IsLocal():
        return None
    geographic = srs.CloneGeogCS()
    return None if geographic is None else crs_from_wkt(str(geographic.ExportToWkt()))


def crs_name(crs: Crs | None) -> str:
    """A short name for a CRS: its authority code where it has one, else its name, else its PROJ string."""
    return translatable("no CRS") if crs is None else crs.name


def transformation(
    source: Crs, target: Crs, source_name: str = "", target_name: str = ""
) -> osr.CoordinateTransformation:
    """The transformation from ``source`` to ``target``, or a clear error naming the rasters when PROJ has
    none. A new object each call: OSR's transformations are not to be shared between threads."""
    with quiet_gdal(), OSR_LOCK:
        try:
            made = osr.CreateCoordinateTransformation(source.srs, target.srs)
        except (RuntimeError, TypeError):
            made = None
    if made is None:
        raise CrsMismatchError(
            "No coordinate transformation leads from {crs} of '{name}' to {other_crs} of '{other}'; "
            "reproject one of them first.",
            crs=source.name,
            name=source_name,
            other_crs=target.name,
            other=target_name,
        )
    return made
