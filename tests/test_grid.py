"""The pixel rule and lattice arithmetic, without GDAL or QGIS."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasters import A_TRANSFORM

from overlap_clip_plugin.core.errors import UnsupportedGeoreferenceError
from overlap_clip_plugin.core.grid import Bounds, Grid, Window

GRID = Grid(A_TRANSFORM, 100, 80)


@pytest.mark.parametrize(
    ("area", "expected"),
    [
        # Edges on pixel boundaries: exactly the pixels inside.
        (Bounds(500300.0, 4999300.0, 500700.0, 4999900.0), Window(30, 10, 40, 60)),
        # West and north edges on pixel centres: those pixels belong (closed edges).
        (Bounds(500305.0, 4999300.0, 500700.0, 4999895.0), Window(30, 10, 40, 60)),
        # East and south edges on pixel centres: those pixels do not (open edges).
        (Bounds(500300.0, 4999305.0, 500705.0, 4999900.0), Window(30, 10, 40, 59)),
        # Edges a third of a pixel in: the edge pixels' centres are still inside.
        (Bounds(500303.3, 4999303.3, 500696.7, 4999896.7), Window(30, 10, 40, 60)),
        # Edges six tenths of a pixel in: the edge pixels' centres are outside.
        (Bounds(500306.0, 4999306.0, 500694.0, 4999894.0), Window(31, 11, 38, 58)),
        # Floating-point noise on a boundary does not move the window.
        (Bounds(500300.0 + 1e-9, 4999300.0 - 1e-9, 500700.0 - 1e-9, 4999900.0 + 1e-9), Window(30, 10, 40, 60)),
        # An area larger than the grid is limited to it.
        (Bounds(0.0, 0.0, 1e7, 1e7), Window(0, 0, 100, 80)),
        # Thinner than a pixel and between two centres: empty.
        (Bounds(500300.0, 4999300.0, 500304.0, 4999900.0), Window(30, 10, 0, 60)),
    ],
)
def test_window_for_follows_the_pixel_rule(area, expected):
    assert GRID.window_for(area) == expected


def test_subgrid_and_bounds():
    sub = GRID.subgrid(Window(30, 10, 40, 60))
    assert sub == Grid((500300.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), 40, 60)
    assert sub.bounds == Bounds(500300.0, 4999300.0, 500700.0, 4999900.0)


@pytest.mark.parametrize(
    ("transform", "expected"),
    [
        ((500300.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), (30, 10)),
        ((499000.0, 10.0, 0.0, 5001000.0, 0.0, -10.0), (-100, -100)),
        ((500300.0 + 1e-7, 10.0, 0.0, 4999900.0, 0.0, -10.0), (30, 10)),
        ((500303.3, 10.0, 0.0, 4999900.0, 0.0, -10.0), None),
        ((500300.0, 20.0, 0.0, 4999900.0, 0.0, -20.0), None),
        ((500300.0, 10.0 + 1e-4, 0.0, 4999900.0, 0.0, -10.0), None),
        # A drift of 1e-5 pixel over the grid is floating-point noise, not another lattice.
        ((500300.0, 10.0 + 1e-6, 0.0, 4999900.0, 0.0, -10.0), (30, 10)),
    ],
)
def test_offset_on_detects_a_shared_lattice(transform, expected):
    assert Grid(transform, 50, 50).offset_on(GRID) == expected


@pytest.mark.parametrize(
    "transform",
    [
        (0.0, 10.0, 1.0, 0.0, 0.0, -10.0),
        (0.0, 10.0, 0.0, 0.0, 0.5, -10.0),
        (0.0, 10.0, 0.0, 0.0, 0.0, 10.0),
        (0.0, -10.0, 0.0, 0.0, 0.0, -10.0),
    ],
)
def test_rotated_and_south_up_grids_are_refused(transform):
    with pytest.raises(UnsupportedGeoreferenceError, match="north-up"):
        Grid(transform, 10, 10)


def test_touching_boxes_have_an_empty_intersection():
    a = Bounds(0.0, 0.0, 10.0, 10.0)
    assert a.intersection(Bounds(10.0, 0.0, 20.0, 10.0)).is_empty
    assert a.intersection(Bounds(10.0, 10.0, 20.0, 20.0)).is_empty
    assert not a.intersection(Bounds(9.0, 9.0, 20.0, 20.0)).is_empty


coordinate = st.floats(-1e6, 1e6, allow_nan=False)
pixel = st.floats(0.01, 1000.0, allow_nan=False)


@given(
    x0=coordinate,
    y0=coordinate,
    dx=pixel,
    dy=pixel,
    width=st.integers(1, 500),
    height=st.integers(1, 500),
    fractions=st.tuples(*[st.floats(-0.2, 1.2, allow_nan=False)] * 4),
)
def test_window_holds_exactly_the_pixels_whose_centres_are_inside(x0, y0, dx, dy, width, height, fractions):
    grid = Grid((x0, dx, 0.0, y0, 0.0, -dy), width, height)
    b = grid.bounds
    fx1, fx2, fy1, fy2 = fractions
    xs = sorted([b.xmin + fx1 * b.width, b.xmin + fx2 * b.width])
    ys = sorted([b.ymin + fy1 * b.height, b.ymin + fy2 * b.height])
    area = Bounds(xs[0], ys[0], xs[1], ys[1])
    window = grid.window_for(area)
    tolerance = 1e-5  # pixel centres this close to an edge may fall either side

    def inside_x(col):
        cx = x0 + (col + 0.5) * dx
        return area.xmin - tolerance * dx <= cx <= area.xmax + tolerance * dx

    def outside_x(col):
        cx = x0 + (col + 0.5) * dx
        return cx < area.xmin + tolerance * dx or cx >= area.xmax - tolerance * dx

    def inside_y(row):
        cy = y0 - (row + 0.5) * dy
        return area.ymin - tolerance * dy <= cy <= area.ymax + tolerance * dy

    def outside_y(row):
        cy = y0 - (row + 0.5) * dy
        return cy <= area.ymin + tolerance * dy or cy > area.ymax - tolerance * dy

    assert 0 <= window.col_off and window.col_off + window.width <= width
    assert 0 <= window.row_off and window.row_off + window.height <= height
    for col in range(width):
        if window.col_off <= col < window.col_off + window.width:
            assert inside_x(col)
        else:
            assert outside_x(col)
    for row in range(height):
        if window.row_off <= row < window.row_off + window.height:
            assert inside_y(row)
        else:
            assert outside_y(row)
    if not window.is_empty:
        # The window's own grid is that block of this one: its origin is the window's first pixel.
        sub = grid.subgrid(window)
        assert sub.offset_on(grid) == (window.col_off, window.row_off)
        assert (sub.width, sub.height) == (window.width, window.height)
