"""Nothing lost, nothing half-written; many runs at once."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback
from rasters import assert_copied_from, assert_same_grid, grid_of, make_raster, read_array

from overlap_clip_plugin.core import CancelledError, WriteError, clip_pair

A_TRANSFORM = (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)


@pytest.fixture
def big_pair(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 2000, 2000, dtype=gdal.GDT_Float32)
    b = make_raster(tmp_path / "b.tif", (500003.3, 10.0, 0.0, 4999996.7, 0.0, -10.0), 2000, 2000)
    return a, b


def existing_outputs(folder):
    """Two files already at the output paths, as a user's earlier results."""
    paths = [folder / "out_a.tif", folder / "out_b.tif"]
    for path in paths:
        path.write_bytes(b"an earlier result " + path.name.encode())
        (folder / (path.name + ".aux.xml")).write_text("<PAMDataset/>")
    return [str(path) for path in paths]


@pytest.mark.parametrize("cancel_at", [0.25, 0.75], ids=["in the first output", "in the second output"])
def test_cancel_leaves_existing_outputs_untouched_and_no_temporary_file(tmp_path, big_pair, cancel_at):
    out_a, out_b = existing_outputs(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    written_during = []

    def progress(fraction):
        written_during.append(sorted(os.listdir(tmp_path)))
        return fraction < cancel_at

    with pytest.raises(CancelledError, match="nothing was written"):
        clip_pair(*big_pair, out_a, out_b, progress=progress)
    after = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    assert after == before
    # While writing, the work went to hidden temporary files, not to the outputs.
    assert any(any(".partial-" in name for name in names) for names in written_during)


def test_a_write_failure_leaves_existing_outputs_untouched(tmp_path, big_pair):
    out_a, out_b = existing_outputs(tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    with pytest.raises(WriteError, match="GDAL failed while writing"):
        # A block width GDAL refuses.
        clip_pair(*big_pair, out_a, out_b, creation_options=["TILED=YES", "BLOCKXSIZE=7"])
    after = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    assert after == before


def test_success_replaces_existing_outputs_and_their_stale_statistics(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    out_a, out_b = existing_outputs(tmp_path)
    clip_pair(a, b, out_a, out_b)
    assert_copied_from(out_a, a)
    assert_copied_from(out_b, b)
    assert sorted(os.listdir(tmp_path)) == ["a.tif", "b.tif", "out_a.tif", "out_b.tif"]


def test_multi_file_formats_are_renamed_whole(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    clip_pair(a, b, str(tmp_path / "out_a.bil"), str(tmp_path / "out_b.bil"))
    names = sorted(os.listdir(tmp_path))
    assert not any(".partial-" in name for name in names)
    assert {"out_a.bil", "out_a.hdr", "out_b.bil", "out_b.hdr"} <= set(names)
    assert gdal.Open(str(tmp_path / "out_a.bil")).GetDriver().ShortName == "EHdr"
    assert_copied_from(tmp_path / "out_a.bil", a)


def test_inputs_are_never_modified(tmp_path, big_pair):
    stamps = {path: (os.stat(path).st_mtime_ns, open(path, "rb").read()) for path in big_pair}
    clip_pair(*big_pair, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), area=1, mask_common=True)
    for path, (mtime, data) in stamps.items():
        assert os.stat(path).st_mtime_ns == mtime
        assert open(path, "rb").read() == data
        assert not os.path.exists(path + ".aux.xml")


def test_eight_runs_at_once_from_threads(provider, tmp_path):
    """As QGIS's batch processing runs them: each its own algorithm instance, context and feedback."""
    jobs = []
    for index in range(8):
        folder = tmp_path / f"job{index}"
        folder.mkdir()
        # Each job its own geometry: B shifted by a different whole or fractional number of pixels.
        shift = 10.0 * (index + 1) + (3.3 if index % 2 else 0.0)
        a = make_raster(folder / "a.tif", A_TRANSFORM, 300, 200, bands=2, nodata=-1)
        b = make_raster(folder / "b.tif", (500000.0 + shift, 10.0, 0.0, 5000000.0 - shift, 0.0, -10.0), 300, 200)
        jobs.append((index, folder, a, b, shift))
    barrier = threading.Barrier(8)

    def run(job):
        index, folder, a, b, _ = job
        algorithm = QgsApplication.processingRegistry().createAlgorithmById("overlapclip:clippair")
        context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
        params = {
            "INPUT_A": a,
            "INPUT_B": b,
            "GRID": index % 2,
            "OUTPUT_A": str(folder / "out_a.tif"),
            "OUTPUT_B": str(folder / "out_b.tif"),
        }
        barrier.wait()
        return algorithm.run(params, context, feedback)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, jobs))

    for (index, folder, a, b, shift), (result, ok) in zip(jobs, results):
        assert ok, index
        assert result["OUTPUT_A"] == str(folder / "out_a.tif")
        assert_same_grid(folder / "out_a.tif", folder / "out_b.tif")
        whole = round(shift // 10.0)
        (x0, _, _, y0, _, _), width, height = grid_of(folder / "out_a.tif")
        if index % 2 == 0:  # A's grid: B on A's lattice, both copied
            assert (x0, width, height) == (500000.0 + 10.0 * whole, 300 - whole, 200 - whole)
            assert_copied_from(folder / "out_a.tif", a)
            assert_copied_from(folder / "out_b.tif", b)
        else:  # B's grid: B copied, A resampled onto it (nearest: B's pixel (r, c) centre lies in A's pixel)
            assert_copied_from(folder / "out_b.tif", b)
            expected = read_array(a)[:, whole : whole + height, whole : whole + width]
            np.testing.assert_array_equal(read_array(folder / "out_a.tif"), expected)
