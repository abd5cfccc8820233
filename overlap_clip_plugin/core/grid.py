"""Pixel grids, pixel windows and the pixel rule.

A :class:`Grid` is a north-up raster lattice: a GDAL geotransform ``(x0, dx, 0, y0, 0, dy)`` with ``dx > 0``
and ``dy < 0`` and a size in pixels. Pixel ``(col, row)`` covers ``[x0 + col*dx, x0 + (col+1)*dx]`` by ``[y0 +
(row+1)*dy, y0 + row*dy]``; its centre is half a pixel further in.

The pixel rule
--------------
A pixel of a grid belongs to an area when its **centre** lies inside the
area's bounding box, the box being closed on its west and north edges and
open on its east and south edges: ``xmin <= cx < xmax`` and
``ymin < cy <= ymax``. In pixel coordinates, with ``c = (x - x0) / dx``:
start indexes are ``ceil(c_min - 1/2)`` and stop indexes (exclusive) are
``ceil(c_max - 1/2)``. Before rounding, a pixel coordinate within
:data:`PIXEL_TOLERANCE` of a whole or half number is snapped to it, so that
floating-point noise on an edge that falls on a pixel boundary or centre
cannot move a window by one pixel.

When the area's edges fall on pixel boundaries (two rasters on one lattice), the rule selects exactly the
pixels inside the area. When they do not, each edge moves to the nearest pixel boundary, and the output covers
the area to within half a pixel on each side.

A grid carries its coordinate reference system (:class:`~overlap_clip_plugin.core.crs.Crs`,
or None), so that one method answers whether two grids share a lattice
(:meth:`Grid.offset_on`) and which window of a source an output is
(:meth:`Grid.window_of`). The arithmetic imports nothing of GDAL; only the
pixel hull of a polygon (:meth:`Grid.centres_hull`) asks OGR.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overlap_clip_plugin.core.errors import UnsupportedGeoreferenceError

if TYPE_CHECKING:
    from overlap_clip_plugin.core.crs import Crs

#: Pixel coordinates closer than this to a whole or half number are snapped.
PIXEL_TOLERANCE = 1e-6

#: Two grids share a lattice when their pixel sizes agree and their origins
#: are a whole number of pixels apart, both to within this many pixels
#: (accumulated over the larger grid for the pixel sizes).
ALIGN_TOLERANCE = 1e-4

GeoTransform = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class Bounds:
    """An axis-aligned box in map units: ``xmin <= x <= xmax``, ``ymin <= y <= ymax``."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @property
    def width(self) -> float:
        """The box's width in map units."""
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        """The box's height in map units."""
        return self.ymax - self.ymin

    @property
    def is_empty(self) -> bool:
        """True when the box has no area (touching edges or corners count as empty)."""
        return not (self.xmax > self.xmin and self.ymax > self.ymin)

    def intersection(self, other: Bounds) -> Bounds:
        """The common box of two boxes, possibly empty (see :attr:`is_empty`)."""
        return Bounds(
            max(self.xmin, other.xmin),
            max(self.ymin, other.ymin),
            min(self.xmax, other.xmax),
            min(self.ymax, other.ymax),
        )

    def __str__(self) -> str:
        return f"[{self.xmin:.10g}, {self.ymin:.10g} : {self.xmax:.10g}, {self.ymax:.10g}]"


@dataclass(frozen=True)
class Window:
    """A block of pixels: offsets and size in whole pixels."""

    col_off: int
    row_off: int
    width: int
    height: int

    @property
    def is_empty(self) -> bool:
        """True when the window holds no pixel."""
        return self.width <= 0 or self.height <= 0

    def __str__(self) -> str:
        return f"{self.width} x {self.height} pixels from column {self.col_off}, row {self.row_off}"


def _snap(value: float) -> float:
    """``value`` snapped to the nearest half-integer when within PIXEL_TOLERANCE."""
    nearest = round(value * 2.0) / 2.0
    return nearest if abs(value - nearest) <= PIXEL_TOLERANCE else value


def _first_centre_at_or_after(coord: float) -> int:
    """Index of the first pixel whose centre is at or after pixel coordinate ``coord``."""
    return math.ceil(_snap(coord) - 0.5)


@dataclass(frozen=True)
class Grid:
    """A north-up pixel lattice of ``width`` x ``height`` pixels in the CRS ``crs`` (None: no CRS)."""

    transform: GeoTransform
    width: int
    height: int
    crs: Crs | None = None

    def __post_init__(self) -> None:
        _, dx, rx, _, ry, dy = self.transform
        if rx != 0.0 or ry != 0.0:
            raise UnsupportedGeoreferenceError(
                "The geotransform {transform} is rotated or sheared; warp the raster to a north-up grid "
                "first (for example with gdalwarp).",
                transform=self.transform,
            )
        if not (dx > 0.0 and dy < 0.0):
            raise UnsupportedGeoreferenceError(
                "The geotransform {transform} is not north-up (pixel width must be positive and pixel height "
                "negative); warp the raster to a north-up grid first (for example with gdalwarp).",
                transform=self.transform,
            )
        if self.width <= 0 or self.height <= 0:
            raise UnsupportedGeoreferenceError(
                "A grid of {width} x {height} pixels is empty.", width=self.width, height=self.height
            )

    @property
    def x0(self) -> float:
        """The x of the grid's west edge."""
        return self.transform[0]

    @property
    def y0(self) -> float:
        """The y of the grid's north edge."""
        return self.transform[3]

    @property
    def dx(self) -> float:
        """The pixel width (positive)."""
        return self.transform[1]

    @property
    def dy(self) -> float:
        """The pixel height (negative: rows run south)."""
        return self.transform[5]

    @property
    def bounds(self) -> Bounds:
        """The box the grid's pixels cover."""
        return Bounds(
            self.x0,
            self.y0 + self.height * self.dy,
            self.x0 + self.width * self.dx,
            self.y0,
        )

    def window_for(self, area: Bounds) -> Window:
        """The pixels of this grid that belong to ``area`` by the pixel rule.

        The window is limited to the grid; it may be empty when the area holds no pixel centre.
        """
        col_start = _first_centre_at_or_after((area.xmin - self.x0) / self.dx)
        col_stop = _first_centre_at_or_after((area.xmax - self.x0) / self.dx)
        # Rows count downwards from y0, so the north edge gives the first row.
        row_start = _first_centre_at_or_after((area.ymax - self.y0) / self.dy)
        row_stop = _first_centre_at_or_after((area.ymin - self.y0) / self.dy)
        col_start, col_stop = min(max(col_start, 0), self.width), min(col_stop, self.width)
        row_start, row_stop = min(max(row_start, 0), self.height), min(row_stop, self.height)
        return Window(col_start, row_start, max(col_stop - col_start, 0), max(row_stop - row_start, 0))

    def subgrid(self, window: Window) -> Grid:
        """The grid of the pixels in ``window``, on this lattice."""
        return Grid(
            (
                self.x0 + window.col_off * self.dx,
                self.dx,
                0.0,
                self.y0 + window.row_off * self.dy,
                0.0,
                self.dy,
            ),
            window.width,
            window.height,
            self.crs,
        )

    def offset_on(self, other: Grid) -> tuple[int, int] | None:
        """Whole-pixel offset of this grid's origin on ``other``'s lattice.

        Returns ``(col, row)`` such that this grid's origin is pixel ``(col, row)`` of ``other``, when both
        grids share one CRS and one lattice (equal pixel sizes, origins a whole number of pixels apart, within
        :data:`ALIGN_TOLERANCE` of a pixel); ``None`` otherwise. This is the one place where the core asks
        whether two grids line up.
        """
        if self.crs != other.crs:
            return None
        span = max(self.width, self.height, other.width, other.height)
        if abs(self.dx - other.dx) * span > ALIGN_TOLERANCE * other.dx:
            return None
        if abs(self.dy - other.dy) * span > ALIGN_TOLERANCE * -other.dy:
            return None
        col = (self.x0 - other.x0) / other.dx
        row = (self.y0 - other.y0) / other.dy
        if abs(col - round(col)) > ALIGN_TOLERANCE or abs(row - round(row)) > ALIGN_TOLERANCE:
            return None
        return round(col), round(row)

    def window_of(self, target: Grid, inside: bool = True) -> Window | None:
        """The block of this grid's pixels that ``target`` is, when ``target`` lies on this grid's lattice
        in its CRS; None otherwise, and (with ``inside``) when part of ``target`` lies outside this grid."""
        offset = self.offset_on(target)
        if offset is None:
            return None
        # The target's pixel (0, 0) is this grid's pixel (-col, -row).
        window = Window(-offset[0], -offset[1], target.width, target.height)
        if inside and not (
            window.col_off >= 0
            and window.row_off >= 0
            and window.col_off + window.width <= self.width
            and window.row_off + window.height <= self.height
        ):
            return None
        return window

    def centres_hull(self, area: Bounds, polygon: Any) -> Bounds | None:
        """``area`` (the bounding box of the OGR ``polygon``) shrunk to the rows and columns of this grid
        that hold a pixel centre inside ``polygon``, as the warper sees it: a curved footprint's box reaches
        past its centres at its corners, by several pixels near a pole. None when it holds no centre."""
        from overlap_clip_plugin.core.geometry import holds_centre_on_line, holds_point

        window = self.window_for(area)
        if window.is_empty:
            return None
        col0, row0 = window.col_off, window.row_off
        col1, row1 = col0 + window.width, row0 + window.height

        def x(col: float) -> float:
            return self.x0 + (col + 0.5) * self.dx

        def y(row: float) -> float:
            return self.y0 + (row + 0.5) * self.dy

        def column(col: int) -> bool:
            if row1 - row0 == 1:
                return holds_point(polygon, x(col), y(row0))
            return holds_centre_on_line(polygon, (x(col), y(row0)), (x(col), y(row1 - 1)), 1, self.y0, self.dy)

        def row(index: int) -> bool:
            if col1 - col0 == 1:
                return holds_point(polygon, x(col0), y(index))
            return holds_centre_on_line(polygon, (x(col0), y(index)), (x(col1 - 1), y(index)), 0, self.x0, self.dx)

        while col0 < col1 and not column(col0):
            col0 += 1
        while col1 > col0 and not column(col1 - 1):
            col1 -= 1
        while row0 < row1 and not row(row0):
            row0 += 1
        while row1 > row0 and not row(row1 - 1):
            row1 -= 1
        if col0 >= col1 or row0 >= row1:
            return None
        return self.subgrid(Window(col0, row0, col1 - col0, row1 - row0)).bounds
