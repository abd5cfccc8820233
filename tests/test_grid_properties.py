"""Invariants of boxes, windows and grids (core.grid), for any boxes and north-up grids: plain arithmetic,
no files. Each property runs on at most 100 examples, derandomized, so that a run is reproducible.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from overlap_clip_plugin.core.grid import ALIGN_TOLERANCE, PIXEL_TOLERANCE, Bounds, Grid, Window

reproducible = settings(max_examples=100, derandomize=True, deadline=None)

# Coordinates anywhere (to the millimetre, so that two that differ have a point between them), and on a
# coarse lattice so that edges often coincide (touching boxes, shared corners).
coordinate = st.one_of(
    st.floats(-1e6, 1e6).map(lambda value: round(value, 3)), st.integers(-40, 40).map(lambda n: n / 2)
)
pixel_size = st.one_of(st.sampled_from([0.0001, 0.25, 1.0, 10.0, 20.0, 30.0]), st.floats(0.01, 1000.0))


@st.composite
def boxes(draw):
    """A box, possibly of no width or height."""
    xmin, xmax = sorted([draw(coordinate), draw(coordinate)])
    ymin, ymax = sorted([draw(coordinate), draw(coordinate)])
    return Bounds(xmin, ymin, xmax, ymax)


@st.composite
def grids(draw, pixel_size=pixel_size):
    """A north-up grid, square pixels or not."""
    dx, dy = draw(pixel_size), draw(pixel_size)
    transform = (draw(coordinate), dx, 0.0, draw(coordinate), 0.0, -dy)
    return Grid(transform, draw(st.integers(1, 500)), draw(st.integers(1, 500)))


@st.composite
def areas_on(draw, grid):
    """A box over ``grid``: inside it, across its edges or beside it, its edges anywhere in a pixel."""
    b = grid.bounds
    fx = sorted(draw(st.floats(-0.2, 1.2)) for _ in range(2))
    fy = sorted(draw(st.floats(-0.2, 1.2)) for _ in range(2))
    return Bounds(
        b.xmin + fx[0] * b.width, b.ymin + fy[0] * b.height, b.xmin + fx[1] * b.width, b.ymin + fy[1] * b.height
    )


@st.composite
def windows_in(draw, grid):
    """A non-empty block of ``grid``'s pixels."""
    col, row = draw(st.integers(0, grid.width - 1)), draw(st.integers(0, grid.height - 1))
    return Window(col, row, draw(st.integers(1, grid.width - col)), draw(st.integers(1, grid.height - row)))


def slack(grid, pixels):
    """``pixels`` of ``grid`` in map units along x and y, plus the rounding of coordinates this large."""
    b = grid.bounds
    rounding = 1e-12 * max(abs(b.xmin), abs(b.xmax), abs(b.ymin), abs(b.ymax))
    return pixels * grid.dx + rounding, pixels * -grid.dy + rounding


@reproducible
@given(boxes(), boxes())
def test_intersection_is_commutative_and_inside_both(a, b):
    common = a.intersection(b)
    assert common == b.intersection(a)
    assert a.intersection(a) == a
    if not common.is_empty:
        for box in (a, b):
            assert box.xmin <= common.xmin < common.xmax <= box.xmax
            assert box.ymin <= common.ymin < common.ymax <= box.ymax


@reproducible
@given(boxes(), boxes())
def test_intersection_is_empty_exactly_when_the_boxes_share_no_area(a, b):
    common = a.intersection(b)
    # No point lies inside both: one box is flat, or they are apart along an axis (touching counts as apart).
    flat = any(box.xmax <= box.xmin or box.ymax <= box.ymin for box in (a, b))
    apart = flat or a.xmax <= b.xmin or b.xmax <= a.xmin or a.ymax <= b.ymin or b.ymax <= a.ymin
    assert common.is_empty == apart
    if not apart:
        # The centre of the common box lies strictly inside both boxes.
        x, y = (common.xmin + common.xmax) / 2, (common.ymin + common.ymax) / 2
        for box in (a, b):
            assert box.xmin < x < box.xmax and box.ymin < y < box.ymax


@reproducible
@given(grids())
def test_the_window_of_a_grids_own_bounds_is_the_whole_grid(grid):
    assert grid.window_for(grid.bounds) == Window(0, 0, grid.width, grid.height)


@reproducible
@given(st.data(), grids())
def test_the_window_for_an_area_covers_it_to_within_half_a_pixel(data, grid):
    area = data.draw(areas_on(grid))
    window = grid.window_for(area)
    if window.is_empty:
        return
    covered = grid.subgrid(window).bounds
    inside = area.intersection(grid.bounds)
    sx, sy = slack(grid, 0.5 + 2 * PIXEL_TOLERANCE)
    # Each edge moves to the nearest pixel boundary: never more than half a pixel, in or out.
    assert abs(covered.xmin - inside.xmin) <= sx and abs(covered.xmax - inside.xmax) <= sx
    assert abs(covered.ymin - inside.ymin) <= sy and abs(covered.ymax - inside.ymax) <= sy
    # So the output lies within the area grown by half a pixel on each side.
    assert area.xmin - sx <= covered.xmin and covered.xmax <= area.xmax + sx
    assert area.ymin - sy <= covered.ymin and covered.ymax <= area.ymax + sy


@reproducible
@given(st.data(), grids(pixel_size=st.floats(0.01, 1000.0)), st.lists(st.floats(-1e-7, 1e-7), min_size=4, max_size=4))
def test_edges_on_pixel_boundaries_and_centres_follow_the_rule_through_floating_point_noise(data, grid, noise):
    # Edges in pixel units, on whole and half pixels (pixel boundaries and centres), a hair's breadth off.
    c0, c1 = sorted(data.draw(st.integers(-2, 2 * grid.width + 2)) / 2 for _ in range(2))
    r0, r1 = sorted(data.draw(st.integers(-2, 2 * grid.height + 2)) / 2 for _ in range(2))
    x0, dx, _, y0, _, dy = grid.transform
    area = Bounds(
        x0 + (c0 + noise[0]) * dx, y0 + (r1 + noise[1]) * dy, x0 + (c1 + noise[2]) * dx, y0 + (r0 + noise[3]) * dy
    )
    # The rule from its definition: centres in [xmin, xmax) by (ymin, ymax], rows counted from the north.
    cols = [col for col in range(grid.width) if c0 <= col + 0.5 < c1]
    rows = [row for row in range(grid.height) if r0 <= row + 0.5 < r1]
    window = grid.window_for(area)
    if cols and rows:
        assert window == Window(cols[0], rows[0], len(cols), len(rows))
    else:
        assert window.is_empty


@reproducible
@given(st.data(), grids())
def test_a_larger_area_never_has_a_smaller_window(data, grid):
    inner, other = data.draw(areas_on(grid)), data.draw(areas_on(grid))
    # The smallest box holding both.
    outer = Bounds(
        min(inner.xmin, other.xmin),
        min(inner.ymin, other.ymin),
        max(inner.xmax, other.xmax),
        max(inner.ymax, other.ymax),
    )
    small, large = grid.window_for(inner), grid.window_for(outer)
    if small.is_empty:
        return
    assert large.col_off <= small.col_off and small.col_off + small.width <= large.col_off + large.width
    assert large.row_off <= small.row_off and small.row_off + small.height <= large.row_off + large.height


@reproducible
@given(st.data(), grids())
def test_the_window_for_a_subgrids_bounds_is_that_window(data, grid):
    window = data.draw(windows_in(grid))
    sub = grid.subgrid(window)
    assert (sub.dx, sub.dy, sub.width, sub.height) == (grid.dx, grid.dy, window.width, window.height)
    assert grid.window_for(sub.bounds) == window


@reproducible
@given(grids(), st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(1, 500), st.integers(1, 500))
def test_a_subgrid_lies_on_its_grids_lattice_at_the_windows_offsets(grid, col, row, width, height):
    # Any block on the lattice, also beyond the grid's edges.
    sub = grid.subgrid(Window(col, row, width, height))
    assert sub.offset_on(grid) == (col, row)
    assert grid.offset_on(sub) == (-col, -row)


@reproducible
@given(
    grids(),
    st.integers(-1000, 1000),
    st.floats(2 * ALIGN_TOLERANCE, 1 - 2 * ALIGN_TOLERANCE),
    st.sampled_from(["x", "y", "both"]),
)
def test_a_grid_shifted_by_a_fraction_of_a_pixel_is_on_another_lattice(grid, whole, fraction, axis):
    x0, dx, _, y0, _, dy = grid.transform
    shift_x = (whole + fraction) * dx if axis in ("x", "both") else whole * dx
    shift_y = (whole + fraction) * dy if axis in ("y", "both") else whole * dy
    shifted = Grid((x0 + shift_x, dx, 0.0, y0 + shift_y, 0.0, dy), grid.width, grid.height)
    assert shifted.offset_on(grid) is None
    assert grid.offset_on(shifted) is None


@reproducible
@given(grids(), st.integers(-1000, 1000), st.integers(-1000, 1000), st.floats(-0.5, 0.5))
def test_a_shift_within_the_align_tolerance_keeps_the_lattice(grid, col, row, noise):
    x0, dx, _, y0, _, dy = grid.transform
    wobble = noise * ALIGN_TOLERANCE
    shifted = Grid((x0 + (col + wobble) * dx, dx, 0.0, y0 + (row - wobble) * dy, 0.0, dy), grid.width, grid.height)
    assert shifted.offset_on(grid) == (col, row)


@reproducible
@given(grids(), st.sampled_from([1e-3, -1e-3, 0.5, 2.0]))
def test_another_pixel_size_is_another_lattice(grid, change):
    x0, dx, _, y0, _, dy = grid.transform
    other = Grid((x0, dx * (1 + change), 0.0, y0, 0.0, dy), grid.width, grid.height)
    assert other.offset_on(grid) is None


def _utm(zone_code, spelling):
    """UTM zone ``zone_code`` (an EPSG code) as a parsed CRS, from its EPSG definition or from its PROJ
    string (another WKT of the same CRS)."""
    from osgeo import osr

    from overlap_clip_plugin.core.crs import crs_from_wkt

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(zone_code)
    if spelling == "proj":
        srs = osr.SpatialReference()
        srs.ImportFromProj4(f"+proj=utm +zone={zone_code % 100} +datum=WGS84 +units=m +no_defs")
    return crs_from_wkt(srs.ExportToWkt())


@reproducible
@given(grids(), st.data())
def test_a_grid_carries_its_crs_and_only_one_crs_shares_a_lattice(grid, data):
    """The lattice question is asked of grids with their CRSs: the same transform in another CRS is
    never on the lattice; the same CRS spelt otherwise (an EPSG WKT, a PROJ string's WKT) is."""
    window = data.draw(windows_in(grid))
    epsg = Grid(grid.transform, grid.width, grid.height, _utm(32633, "epsg"))
    spelt = Grid(grid.transform, grid.width, grid.height, _utm(32633, "proj"))
    other = Grid(grid.transform, grid.width, grid.height, _utm(32634, "epsg"))
    assert spelt.crs is not epsg.crs and spelt.crs == epsg.crs and hash(spelt.crs) == hash(epsg.crs)
    part = epsg.subgrid(window)
    assert part.crs is epsg.crs
    assert part.offset_on(spelt) == (window.col_off, window.row_off)
    assert spelt.window_of(part) == window
    assert part.offset_on(other) is None and other.window_of(part) is None
    assert part.offset_on(grid) is None, "a grid without a CRS is not on a lattice in a CRS"


@reproducible
@given(grids(), st.data())
def test_the_window_of_a_target_is_inside_the_source_unless_asked_otherwise(grid, data):
    window = data.draw(windows_in(grid))
    target = grid.subgrid(window)
    assert grid.window_of(target) == window
    # The target moved one pixel past the grid's west edge: on the lattice, but not inside.
    beyond = Grid((grid.x0 - grid.dx, grid.dx, 0.0, target.y0, 0.0, grid.dy), target.width, target.height)
    assert grid.window_of(beyond) is None
    assert grid.window_of(beyond, inside=False) == Window(-1, window.row_off, target.width, target.height)
