"""The one road of a run (core.run, core.executors): one progress rule on every executor, the overlap as a
step of the run, and nothing written when the caller's own step fails."""

import concurrent.futures
import contextlib
import gc
import time

import numpy as np
import pytest
from files import digests, listing
from osgeo import gdal
from rasters import A_TRANSFORM, make_raster, read_array

from overlap_clip_plugin.core import (
    CancelledError,
    InlineExecutor,
    UnsupportedGeoreferenceError,
    clip,
    overlap_summary,
    plan_clip,
    run_clip,
)
from overlap_clip_plugin.core.executors import pieces, workers

#: B, a third of a pixel off A's lattice and large enough for several of GDAL's blocks: copied A, warped B.
B_TRANSFORM = (500603.3, 10.0, 0.0, 4999496.7, 0.0, -10.0)


@pytest.fixture
def pair(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    a = make_raster(inputs / "a.tif", A_TRANSFORM, 1200, 1000, nodata=-1)
    b = make_raster(inputs / "b.tif", B_TRANSFORM, 1200, 1000, nodata=-1)
    return a, b


@contextlib.contextmanager
def executor_named(kind):
    if kind == "pool":
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            yield pool
    else:
        yield None if kind == "none" else InlineExecutor()


EXECUTORS = ["none", "inline", "pool"]
AREAS = [("extents", False), ("valid", True)]


@pytest.mark.parametrize("kind", EXECUTORS)
@pytest.mark.parametrize(("area", "mask"), AREAS)
@pytest.mark.parametrize("answer", [None, True])
def test_a_progress_that_answers_none_or_true_goes_on_alike_on_every_executor(tmp_path, pair, kind, area, mask, answer):
    """GDAL's Python rule: only False cancels. A callback that returns None (``seen.append``) must not stop a
    run, sequential or pooled, and every executor writes the same bytes."""
    reference = [str(tmp_path / "ref_a.tif"), str(tmp_path / "ref_b.tif")]
    clip(list(pair), reference, area=area, mask_common=mask)
    seen = []

    def progress(fraction):
        seen.append(fraction)
        return answer

    outputs = [str(tmp_path / "a.tif"), str(tmp_path / "b.tif")]
    with executor_named(kind) as executor:
        clip(list(pair), outputs, area=area, mask_common=mask, progress=progress, executor=executor)
    assert digests(outputs) == digests(reference)
    assert seen == sorted(seen), "progress never runs backwards"
    assert seen[-1] == 1.0
    assert all(0.0 <= fraction <= 1.0 for fraction in seen)


@pytest.mark.parametrize("kind", EXECUTORS)
@pytest.mark.parametrize(("area", "mask"), AREAS)
@pytest.mark.parametrize("stop_at", [0.0, 0.1, 0.6])
def test_a_progress_that_answers_false_cancels_on_every_executor_and_writes_nothing(
    tmp_path, pair, kind, area, mask, stop_at
):
    """False cancels at once, in the scan (before 0.2 with the valid-data area) or in the writing, on
    every executor; no output and no staging folder is left."""
    (tmp_path / "out").mkdir()
    outputs = [str(tmp_path / "out" / "a.tif"), str(tmp_path / "out" / "b.tif")]

    def progress(fraction):
        return False if fraction >= stop_at else None

    with executor_named(kind) as executor, pytest.raises(CancelledError, match="Cancelled"):
        clip(list(pair), outputs, area=area, mask_common=mask, progress=progress, executor=executor)
    assert listing(tmp_path / "out") == []
    assert listing(tmp_path / "in") == ["a.tif", "b.tif"]


def test_pieces_on_this_thread_ask_the_progress_between_pieces_and_stop_at_false():
    """An InlineExecutor runs one piece at a time: a False after the second piece means no third."""
    ran = []

    def piece(number):
        ran.append(number)
        return number * 10

    answers = iter([None, True, False])
    with pytest.raises(CancelledError, match="stopped here"):
        list(pieces(InlineExecutor(), piece, [(n,) for n in range(5)], lambda f: next(answers), "stopped here"))
    assert ran == [0, 1, 2]
    assert list(pieces(InlineExecutor(), piece, [(n,) for n in range(3)], lambda f: None)) == [0, 10, 20]


def test_pieces_ahead_of_a_slow_caller_are_bounded():
    """Workers faster than the caller that takes their results: with ``ahead``, no more than that many pieces
    start beyond the results taken (without it, every piece starts at once), and the results stay in order."""
    started = []

    def piece(number):
        started.append(number)
        return number

    for ahead, most in ((3, 3), (None, 20)):
        started.clear()
        beyond = []
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            taken = []
            for result in pieces(pool, piece, [(n,) for n in range(20)], ahead=ahead):
                time.sleep(0.02)  # the caller writes slowly; the pool has long finished what it was given
                beyond.append(len(started) - len(taken))
                taken.append(result)
        assert taken == list(range(20))
        assert max(beyond) == most


def test_workers_counts_what_runs_at_once():
    assert workers(InlineExecutor()) == 1
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        assert workers(pool) == 3


def test_the_overlap_is_a_step_of_the_run_and_matches_the_plans_own(tmp_path, pair):
    outputs = [str(tmp_path / "a.tif"), str(tmp_path / "b.tif")]
    result = run_clip(list(pair), outputs, "b", area="valid", overlap="polygon")
    again = overlap_summary(plan_clip(list(pair), [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")], 1, "valid"))
    assert result.overlap == again
    assert result.overlap.width == result.plan.outputs[0].grid.width
    assert result.overlap.polygon_wkt.startswith(("POLYGON", "MULTIPOLYGON"))
    numbers = run_clip(list(pair), [str(tmp_path / "c.tif"), str(tmp_path / "d.tif")], "b", overlap="numbers")
    assert numbers.overlap.area_m2 == pytest.approx(result.overlap.area_m2, rel=0.01)


def test_a_failing_step_of_the_caller_before_the_commit_leaves_every_output_path_as_it_was(tmp_path, pair):
    (tmp_path / "out").mkdir()
    outputs = [str(tmp_path / "out" / "a.tif"), str(tmp_path / "out" / "b.tif")]
    (tmp_path / "out" / "a.tif").write_bytes(b"an earlier result")
    seen = []

    def fails(result):
        seen.append(result)
        raise RuntimeError("the caller's polygon could not be written")

    with pytest.raises(RuntimeError, match="polygon"):
        run_clip(list(pair), outputs, overlap="numbers", before_commit=fails)
    assert seen[0].overlap is not None and seen[0].plan.outputs[1].path == outputs[1]
    assert listing(tmp_path / "out") == ["a.tif"]
    assert (tmp_path / "out" / "a.tif").read_bytes() == b"an earlier result"


@pytest.mark.parametrize("grid", ["a", 0, "b", 1, "own"])
def test_the_grid_is_taken_by_name_or_by_index(tmp_path, pair, grid):
    outputs = [str(tmp_path / "a.tif"), str(tmp_path / "b.tif")]
    plan = clip(list(pair), outputs, grid)
    copied = {"a": [True, False], 0: [True, False], "b": [False, True], 1: [False, True], "own": [True, True]}
    assert [output.copied for output in plan.outputs] == copied[grid]
    if grid != "own":
        reference = plan.outputs["ab".index(grid) if isinstance(grid, str) else grid]
        window = reference.window
        source = read_array(reference.source.path)
        np.testing.assert_array_equal(
            read_array(reference.path),
            source[:, window.row_off : window.row_off + window.height, window.col_off : window.col_off + window.width],
        )


@pytest.mark.parametrize(("keyword", "value"), [("grid", "c"), ("grid", True), ("area", 1), ("overlap", "yes")])
def test_names_the_core_does_not_know_are_refused_before_anything_is_read(tmp_path, keyword, value):
    with pytest.raises(ValueError, match="Unknown"):
        run_clip(
            [str(tmp_path / "missing_a.tif"), str(tmp_path / "missing_b.tif")], ["x.tif", "y.tif"], **{keyword: value}
        )


@pytest.mark.parametrize("executor", [None, "pool"])
def test_a_failed_piece_leaves_no_gdal_dataset_to_the_cyclic_collector(tmp_path, executor):
    """A piece's error must not tie its frames (and the datasets in them) into a reference cycle: the cyclic
    collector may free them after QGIS has closed every dataset on exit, and closing one again crashes."""
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    bare = str(tmp_path / "bare.tif")
    gdal.GetDriverByName("GTiff").Create(bare, 10, 10, 1, gdal.GDT_Byte)
    outputs = [str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")]
    gc.collect()
    gc.disable()
    try:
        with contextlib.ExitStack() as stack:
            pool = stack.enter_context(concurrent.futures.ThreadPoolExecutor(2)) if executor else None
            with pytest.raises(UnsupportedGeoreferenceError):
                run_clip([a, bare], outputs, executor=pool)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [thing for thing in gc.garbage if isinstance(thing, gdal.Dataset)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
