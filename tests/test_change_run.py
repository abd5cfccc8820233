"""The change map as a pass of the one run (``run_clip`` with a ``ChangeRequest``): two dates on different grids
are clipped onto A's grid and mapped, and the clipped pair and the map are committed together or not at all;
the same bytes on a thread pool and on a Dask LocalCluster."""

from __future__ import annotations

import numpy as np
import pytest
from files import contents, digests, leftovers
from osgeo import gdal
from rasters import make_raster, read_array
from shift_data import SHIFT_TRANSFORM
from test_change import planted, rates, write_dates

from overlap_clip_plugin.core import validity
from overlap_clip_plugin.core.change import (
    CHANGE,
    NODATA,
    PCA_KMEANS,
    ChangeRequest,
    ChangeSettings,
    change_map,
)
from overlap_clip_plugin.core.errors import CancelledError, ChangeInputError
from overlap_clip_plugin.core.executors import make_executor
from overlap_clip_plugin.core.run import run_clip

#: B starts this many columns east and rows south of A (whole pixels: its pixels are copied, not resampled).
EAST, SOUTH = 30, 20


def apart_dates(folder):
    """The planted dates in ``folder``, B on its own grid 30 columns east and 20 rows south of A; and the truth
    on A's grid."""
    before, after, truth = planted()
    first, _ = write_dates(folder, before, after, names=("before.tif", "after_on_a.tif"))
    x0, dx, _, y0, _, dy = SHIFT_TRANSFORM
    moved = (x0 + EAST * dx, dx, 0.0, y0 + SOUTH * dy, 0.0, dy)
    cropped = after[:, SOUTH:, EAST:]
    second, _ = write_dates(folder, cropped, cropped, names=("after.tif", "after_again.tif"), transform=moved)
    return first, second, truth


@pytest.fixture(scope="module")
def apart(tmp_path_factory):
    return apart_dates(tmp_path_factory.mktemp("apart"))


def run_change(first, second, folder, settings=None, **options):
    paths = [str(folder / name) for name in ("a.tif", "b.tif", "map.tif", "magnitude.tif")]
    result = run_clip(
        [first, second],
        paths[:2],
        "a",
        area="valid",
        change=ChangeRequest(paths[2], settings or ChangeSettings(), paths[3]),
        **options,
    )
    return result, paths


def test_the_run_clips_b_onto_a_s_grid_and_maps_the_pair_it_wrote(apart, tmp_path):
    first, second, truth = apart
    result, (a, b, map_path, magnitude) = run_change(first, second, tmp_path)
    labels = read_array(map_path)[0]
    # The common area: A's rows from 20 and columns from 30, on A's grid; the map lies on the clipped pair's grid.
    assert labels.shape == (truth.shape[0] - SOUTH, truth.shape[1] - EAST)
    for path in (b, map_path, magnitude):
        assert gdal.Open(path).GetGeoTransform() == gdal.Open(a).GetGeoTransform()
    detected, false_alarms = rates(labels, truth[SOUTH:, EAST:])
    assert detected >= 0.95 and false_alarms <= 0.02
    assert result.change.path == map_path and result.change.magnitude_path == magnitude
    assert result.change.changed == int((labels == CHANGE).sum())
    assert result.change.valid == int((labels != NODATA).sum())
    assert result.change.bands == (1, 2) and result.change.method == PCA_KMEANS
    # The map the run made is the one the committed clipped pair gives on its own.
    again = tmp_path / "again"
    again.mkdir()
    change_map(a, b, str(again / "map.tif"), magnitude=str(again / "magnitude.tif"))
    assert np.array_equal(read_array(again / "map.tif")[0], labels)
    assert np.array_equal(read_array(again / "magnitude.tif"), read_array(magnitude), equal_nan=True)
    assert leftovers(tmp_path) == []


def _existing(folder):
    """Files already at every output path, to be kept as they are."""
    for name in ("a.tif", "b.tif", "map.tif", "magnitude.tif"):
        make_raster(folder / name, SHIFT_TRANSFORM, 8, 8, data=np.full((8, 8), 7, dtype=np.uint8))
    return contents(folder)


def test_a_map_that_fails_after_the_clip_leaves_every_output_path_as_it_was(apart, tmp_path):
    first, second, _ = apart
    before = _existing(tmp_path)
    with pytest.raises(ChangeInputError, match="too small to fit the clusters: it holds [0-9]+ whole blocks"):
        run_change(first, second, tmp_path, ChangeSettings(min_samples=10**9))
    assert contents(tmp_path) == before


@pytest.mark.parametrize("stop_at", [0.3, 0.9], ids=["while-clipping", "while-mapping"])
def test_a_cancel_in_either_pass_leaves_every_output_path_as_it_was(apart, tmp_path, monkeypatch, stop_at):
    first, second, _ = apart
    monkeypatch.setattr(validity, "STRIP_PIXELS", 40 * 512 * 4)
    before = _existing(tmp_path)
    asked = []

    def progress(fraction):
        asked.append(fraction)
        return fraction < stop_at

    with pytest.raises(CancelledError):
        run_change(first, second, tmp_path, progress=progress)
    assert contents(tmp_path) == before
    assert asked[-1] >= stop_at and max(asked) < 1.0


def test_a_change_map_needs_two_rasters_on_one_grid(apart, tmp_path):
    first, second, _ = apart
    request = ChangeRequest(str(tmp_path / "map.tif"))
    with pytest.raises(ValueError, match="two rasters on one grid"):
        run_clip([first, second], [str(tmp_path / "a.tif"), str(tmp_path / "b.tif")], "own", change=request)
    with pytest.raises(ValueError, match="two rasters on one grid"):
        run_clip([first, second, first], [str(tmp_path / f"{k}.tif") for k in "abc"], "a", change=request)
    assert contents(tmp_path) == {}


def test_a_dask_local_cluster_writes_the_same_bytes_as_a_thread_pool(apart, tmp_path, monkeypatch):
    pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed in this Python (`make test` installs it in .venv)"
    )
    first, second, _ = apart
    monkeypatch.setattr(validity, "STRIP_PIXELS", 40 * 512 * 4)
    written = []
    for name, kind in (("threads", {"threads": 2}), ("dask", {"local_workers": 2})):
        folder = tmp_path / name
        folder.mkdir()
        with make_executor(**kind) as executor:
            _, paths = run_change(first, second, folder, executor=executor)
        written.append(digests(paths))
    assert written[1] == written[0]
