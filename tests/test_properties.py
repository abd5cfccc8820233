"""Property-based tests on real files: random pairs of grids, end to end through the core."""

import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from osgeo import gdal
from rasters import assert_copied_from, assert_same_grid, grid_of, make_raster

from overlap_clip_plugin.core import NoOverlapError, clip_pair

TYPES = ["Byte", "UInt16", "Int16", "UInt32", "Int32", "Float32", "Float64"]
# Pixel centres this close (in pixels) to an edge of the common area may fall either side.
EDGE = 1e-6


@st.composite
def grid_pairs(draw):
    """Two north-up grids in one CRS: on one lattice, a fraction of a pixel apart, or of other resolutions."""
    dx = draw(st.sampled_from([0.25, 1.0, 10.0, 20.0, 30.0, 0.0001]))
    dy = dx * draw(st.sampled_from([1.0, 1.0, 0.5, 2.0]))  # sometimes non-square
    x0 = draw(st.integers(-500, 500)) * dx + draw(st.sampled_from([0.0, 0.37]))
    y0 = draw(st.integers(-500, 500)) * dy + draw(st.sampled_from([0.0, 0.61]))
    kind = draw(st.sampled_from(["lattice", "fraction", "resolution"]))
    if kind == "lattice":
        bdx, bdy = dx, dy
        col, row = draw(st.integers(-30, 30)), draw(st.integers(-30, 30))
    else:
        if kind == "resolution":
            bdx = dx * draw(st.sampled_from([0.5, 1.5, 2.0, 3.0]))
            bdy = dy * draw(st.sampled_from([0.5, 1.5, 2.0, 3.0]))
        else:
            bdx, bdy = dx, dy
        col = draw(st.integers(-30, 30)) + draw(st.floats(0.01, 0.99))
        row = draw(st.integers(-30, 30)) + draw(st.floats(0.01, 0.99))
    a = ((x0, dx, 0.0, y0, 0.0, -dy), draw(st.integers(2, 40)), draw(st.integers(2, 40)))
    b = ((x0 + col * dx, bdx, 0.0, y0 - row * dy, 0.0, -bdy), draw(st.integers(2, 40)), draw(st.integers(2, 40)))
    return kind, a, b, draw(st.sampled_from(TYPES))


def bounds(transform, width, height):
    x0, dx, _, y0, _, dy = transform
    return x0, y0 + height * dy, x0 + width * dx, y0


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(grid_pairs())
def test_random_pairs_share_a_grid_copy_bit_exact_and_obey_the_pixel_rule(pair):
    kind, (ta, wa, ha), (tb, wb, hb), type_name = pair
    dtype = gdal.GetDataTypeByName(type_name)
    with tempfile.TemporaryDirectory() as folder:
        a = make_raster(os.path.join(folder, "a.tif"), ta, wa, ha, dtype=dtype, bands=2)
        b = make_raster(os.path.join(folder, "b.tif"), tb, wb, hb, dtype=dtype)
        ba, bb = bounds(ta, wa, ha), bounds(tb, wb, hb)
        common = (max(ba[0], bb[0]), max(ba[1], bb[1]), min(ba[2], bb[2]), min(ba[3], bb[3]))
        for grid, (transform, width, height) in (("a", (ta, wa, ha)), ("b", (tb, wb, hb))):
            out_a, out_b = os.path.join(folder, f"{grid}_a.tif"), os.path.join(folder, f"{grid}_b.tif")
            strict = pixel_rule(transform, width, height, common, -EDGE)
            loose = pixel_rule(transform, width, height, common, EDGE)
            try:
                plan = clip_pair(a, b, out_a, out_b, grid=grid)
            except NoOverlapError:
                assert strict is None, "refused although pixel centres lie in the common area"
                continue
            assert loose is not None, "clipped although no pixel centre lies in the common area"
            assert_same_grid(out_a, out_b)
            (x0, dx, _, y0, _, dy), cols, rows = grid_of(out_a)
            col = round((x0 - transform[0]) / transform[1])
            row = round((y0 - transform[3]) / transform[5])
            assert np.isclose(x0, transform[0] + col * transform[1], rtol=0, atol=1e-9 * abs(dx) + 1e-9)
            assert np.isclose(y0, transform[3] + row * transform[5], rtol=0, atol=1e-9 * abs(dy) + 1e-9)
            # The output window lies within the loose reading of the rule and holds the strict one.
            for start, count, low, high in ((col, cols, loose[0], loose[2]), (row, rows, loose[1], loose[3])):
                assert low <= start and start + count <= high
            if strict is not None:
                for start, count, low, high in ((col, cols, strict[0], strict[2]), (row, rows, strict[1], strict[3])):
                    assert start <= low and high <= start + count
            # The reference is always copied; on one lattice, both are.
            reference = plan.outputs["ab".index(grid)]
            assert reference.copied
            assert_copied_from(reference.path, reference.source.path)
            if kind == "lattice":
                assert all(output.copied for output in plan.outputs)
                other = plan.outputs[1 - "ab".index(grid)]
                assert_copied_from(other.path, other.source.path)


def pixel_rule(transform, width, height, common, slack):
    """The pixel rule, written again from its definition: centres in [xmin, xmax) x (ymin, ymax].

    Edges move outwards by ``slack`` pixels (inwards when negative). Returns the
    half-open index ranges (col_start, row_start, col_stop, row_stop), or None
    when no centre is inside.
    """
    x0, dx, _, y0, _, dy = transform
    xmin, ymin, xmax, ymax = common
    if not (xmax > xmin and ymax > ymin):
        return None
    tx, ty = slack * dx, slack * -dy
    centres_x = x0 + (np.arange(width) + 0.5) * dx
    centres_y = y0 + (np.arange(height) + 0.5) * dy
    cols = np.flatnonzero((centres_x >= xmin - tx) & (centres_x < xmax + tx))
    rows = np.flatnonzero((centres_y > ymin - ty) & (centres_y <= ymax + ty))
    if len(cols) == 0 or len(rows) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1] + 1), int(rows[-1] + 1)
