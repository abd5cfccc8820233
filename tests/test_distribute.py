"""The core's executor seam: the pieces of a run through a thread pool and through a Dask LocalCluster
of two worker processes give the same files, byte for byte, as the run without one; a worker that dies,
a piece that fails and a cancel leave every output path as it was and nothing behind."""

import concurrent.futures
import os

import pytest
from commands import python_output
from files import digests, leftovers, listing
from rasters import A_TRANSFORM, assert_copied_from, assert_same_grid, grid_of, make_raster, sample_dates, sample_pair

from overlap_clip_plugin.core import CancelledError, RasterOpenError, WriteError, clip, clip_pair

distributed = pytest.importorskip(
    "distributed", reason="Dask's distributed is not installed in this Python (`make test` installs it in .venv)"
)


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of two worker processes (one thread each), as a small Dask cluster; a task whose
    worker dies is not tried again, so that a death is seen at once. Workers may run VRT pixel functions
    in Python (the tests kill a worker with one)."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"GDAL_VRT_ENABLE_PYTHON": "YES"},
        )
        with cluster, distributed.Client(cluster) as connected:
            yield connected


@pytest.fixture
def stack(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    return [*sample_pair(inputs), *sample_dates(inputs)]


CASES = [("extents", False), ("valid", True)]


@pytest.mark.parametrize(("area", "mask"), CASES)
def test_a_thread_pool_writes_the_same_files(stack, tmp_path, area, mask):
    alone = [str(tmp_path / f"alone_{index}.tif") for index in range(len(stack))]
    pooled = [str(tmp_path / f"pooled_{index}.tif") for index in range(len(stack))]
    clip(stack, alone, 0, area=area, mask_common=mask)
    fractions = []
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        clip(stack, pooled, 0, area=area, mask_common=mask, executor=pool, progress=fractions.append)
    assert digests(alone) == digests(pooled)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("area", "mask"), CASES)
def test_a_stack_on_a_local_cluster_is_bit_identical(client, stack, tmp_path, area, mask):
    alone = [str(tmp_path / f"alone_{index}.tif") for index in range(len(stack))]
    spread = [str(tmp_path / f"spread_{index}.tif") for index in range(len(stack))]
    clip(stack, alone, 0, area=area, mask_common=mask)
    clip(stack, spread, 0, area=area, mask_common=mask, executor=client.get_executor())
    assert digests(alone) == digests(spread)
    assert leftovers(tmp_path) == []


def test_a_batch_of_pairs_on_a_local_cluster_is_bit_identical(client, stack, tmp_path):
    pairs = [(a, b) for a in stack for b in stack if a < b]
    executor = client.get_executor()
    for index, (a, b) in enumerate(pairs):
        for grid in ("a", "b", "own"):
            alone = [str(tmp_path / f"{index}_{grid}_a.tif"), str(tmp_path / f"{index}_{grid}_b.tif")]
            spread = [str(tmp_path / f"{index}_{grid}_a2.tif"), str(tmp_path / f"{index}_{grid}_b2.tif")]
            plan = clip_pair(a, b, *alone, grid=grid, area="valid")
            clip_pair(a, b, *spread, grid=grid, area="valid", executor=executor)
            assert digests(alone) == digests(spread), (a, b, grid)
            # And the files are the clip: each on its planned grid, one grid for both on A's or B's, the
            # reference (each raster on its own grids) copied from its input value for value.
            for output, path in zip(plan.outputs, spread):
                assert grid_of(path) == (output.grid.transform, output.grid.width, output.grid.height)
            if grid == "own":
                assert_copied_from(spread[0], a)
                assert_copied_from(spread[1], b)
            else:
                assert_same_grid(*spread)
                assert_copied_from(spread["ab".index(grid)], (a, b)["ab".index(grid)])


def dying_raster(folder, source):
    """A VRT whose pixels, read anywhere but in this test's process, kill the process reading them."""
    path = folder / "dies.vrt"
    path.write_text(
        f"""<VRTDataset rasterXSize="200" rasterYSize="200">
  <SRS>EPSG:32633</SRS>
  <GeoTransform>500500, 10, 0, 4999500, 0, -10</GeoTransform>
  <VRTRasterBand dataType="Float64" band="1" subClass="VRTDerivedRasterBand">
    <PixelFunctionType>die_elsewhere</PixelFunctionType>
    <PixelFunctionLanguage>Python</PixelFunctionLanguage>
    <PixelFunctionCode><![CDATA[
import os
def die_elsewhere(in_ar, out_ar, *args, **kwargs):
    if os.getpid() != {os.getpid()}:
        os._exit(3)
    out_ar[:] = in_ar[0]
]]></PixelFunctionCode>
    <SimpleSource><SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>
"""
    )
    return str(path)


def test_a_worker_that_dies_mid_run_leaves_every_output_path_as_it_was(client, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 200, 200)
    dies = dying_raster(tmp_path, a)
    out = tmp_path / "out"
    out.mkdir()
    (out / "a_common.tif").write_bytes(b"last year's output")
    before = listing(out)
    with pytest.raises(WriteError, match="KilledWorker.*nothing was written"):
        clip([a, dies], [str(out / "a_common.tif"), str(out / "dies_common.tif")], 0, executor=client.get_executor())
    assert listing(out) == before
    assert (out / "a_common.tif").read_bytes() == b"last year's output"
    assert leftovers(out) == []


def test_an_error_in_a_worker_keeps_its_sentence(client, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 20, 20)
    with pytest.raises(RasterOpenError) as raised:
        clip(
            [a, str(tmp_path / "missing.tif")],
            [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")],
            0,
            executor=client.get_executor(),
        )
    # The error came back whole from the worker: its template and fields, for a translation.
    assert raised.value.template and "missing.tif" in str(raised.value)
    assert raised.value.fields
    assert listing(tmp_path) == ["a.tif"]


def test_cancel_stops_the_pieces_not_yet_started_and_leaves_nothing(tmp_path):
    a, b = sample_dates(tmp_path)
    outputs = [str(tmp_path / f"out_{index}.tif") for index in range(12)]
    asked, said = [], []

    def stop_at_once(fraction):
        # Asked once before anything is written (go on), then at the first look at the writing (stop).
        asked.append(fraction)
        return len(asked) < 2

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        with pytest.raises(CancelledError, match="nothing was written"):
            clip([a, b] * 6, outputs, 0, executor=pool, progress=stop_at_once, warn=said.append)
    assert listing(tmp_path) == ["date_2020.tif", "date_2024.tif"]
    # Asked once in the writing, the run stopped: no further piece was waited for.
    assert len(asked) == 2 and asked[1] < 1.0


def test_the_core_and_the_plugin_import_dask_only_when_asked(tmp_path):
    script = (
        "import sys\n"
        "from rasters import sample_pair\n"
        "from overlap_clip_plugin.core import clip\n"
        "import overlap_clip_plugin\n"
        f"a, b = sample_pair('{tmp_path}')\n"
        f"clip([a, b], ['{tmp_path}/x.tif', '{tmp_path}/y.tif'])\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('dask', 'distributed')))\n"
    )
    assert python_output(script).split() == ["[]"]


def test_processing_run_through_a_dask_scheduler_is_bit_identical(provider, client, tmp_path):
    import processing

    a, b = sample_dates(tmp_path)
    alone = {"OUTPUT_A": str(tmp_path / "a1.tif"), "OUTPUT_B": str(tmp_path / "b1.tif")}
    spread = {"OUTPUT_A": str(tmp_path / "a2.tif"), "OUTPUT_B": str(tmp_path / "b2.tif")}
    common = {"INPUT_A": a, "INPUT_B": b, "AREA": 1, "MASK_COMMON": True}
    processing.run("overlapclip:clippair", dict(common, **alone))
    processing.run("overlapclip:clippair", dict(common, DASK_SCHEDULER=client.scheduler.address, **spread))
    assert digests(alone.values()) == digests(spread.values())
    stack = {"INPUTS": [a, b, a], "AREA": 1}
    one = processing.run("overlapclip:clipstack", dict(stack, OUTPUT_FOLDER=str(tmp_path / "one")))
    many = processing.run(
        "overlapclip:clipstack",
        dict(stack, OUTPUT_FOLDER=str(tmp_path / "many"), DASK_SCHEDULER=client.scheduler.address),
    )
    assert digests(one["OUTPUT_LAYERS"]) == digests(many["OUTPUT_LAYERS"])


def test_an_unreachable_scheduler_is_one_sentence_and_writes_nothing(provider, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    a, b = sample_dates(tmp_path)
    with pytest.raises(QgsProcessingException, match="Cannot reach the Dask scheduler tcp://127.0.0.1:9"):
        processing.run(
            "overlapclip:clippair",
            {
                "INPUT_A": a,
                "INPUT_B": b,
                "OUTPUT_A": str(tmp_path / "x.tif"),
                "OUTPUT_B": str(tmp_path / "y.tif"),
                "DASK_SCHEDULER": "tcp://127.0.0.1:9",
            },
        )
    assert listing(tmp_path) == ["date_2020.tif", "date_2024.tif"]
