"""Nothing lost, nothing half-written; many runs at once."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from commands import clippair
from files import contents, leftovers, listing
from osgeo import gdal
from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback
from rasters import A_TRANSFORM, assert_copied_from, assert_same_grid, grid_of, make_raster, read_array

from overlap_clip_plugin.core import (
    CancelledError,
    InputChangedError,
    OutputPathError,
    UnsupportedOptionError,
    WriteError,
    clip_pair,
    run_clip,
)


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
    before = contents(tmp_path)
    hidden_during = []

    def progress(fraction):
        hidden_during.append(leftovers(tmp_path))
        return fraction < cancel_at

    with pytest.raises(CancelledError, match="nothing was written"):
        clip_pair(*big_pair, out_a, out_b, progress=progress)
    after = contents(tmp_path)
    assert after == before
    # While writing, the work went to hidden temporary files, not to the outputs.
    assert any(hidden_during)


def test_a_write_failure_leaves_existing_outputs_untouched(tmp_path):
    """GDAL fails while writing the second output: JPEG holds at most 65500 pixels a side."""
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 70000, 2, dtype=gdal.GDT_Byte)
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 70000, 2, dtype=gdal.GDT_Byte)
    out_a, _ = existing_outputs(tmp_path)
    out_b = str(tmp_path / "out_b.jpg")
    (tmp_path / "out_b.jpg").write_bytes(b"an earlier result out_b.jpg")
    before = contents(tmp_path)
    with pytest.raises(WriteError, match="GDAL failed while writing '.*out_b.jpg'"):
        clip_pair(a, b, out_a, out_b)
    after = contents(tmp_path)
    assert after == before


def test_creation_options_gdal_refuses_are_refused_before_anything_is_written(tmp_path, big_pair):
    out_a, out_b = existing_outputs(tmp_path)
    before = contents(tmp_path)
    written_during = []

    def progress(fraction):
        written_during.append(fraction)
        return True

    # A block width GDAL refuses, and a misspelt option GDAL would otherwise ignore.
    for options, reason in ((["TILED=YES", "BLOCKXSIZE=7"], "BLOCKXSIZE"), (["COMPRES=DEFLATE"], "COMPRES")):
        with pytest.raises(UnsupportedOptionError, match=f"GDAL's GTiff driver refuses .*{reason}"):
            clip_pair(*big_pair, out_a, out_b, creation_options=options, progress=progress)
    after = contents(tmp_path)
    assert after == before and written_during == []


def test_success_replaces_existing_outputs_and_their_stale_statistics(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    out_a, out_b = existing_outputs(tmp_path)
    clip_pair(a, b, out_a, out_b)
    assert_copied_from(out_a, a)
    assert_copied_from(out_b, b)
    assert listing(tmp_path) == ["a.tif", "b.tif", "out_a.tif", "out_b.tif"]


def test_multi_file_formats_are_renamed_whole(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    clip_pair(a, b, str(tmp_path / "out_a.bil"), str(tmp_path / "out_b.bil"))
    names = listing(tmp_path)
    assert leftovers(tmp_path) == []
    assert {"out_a.bil", "out_a.hdr", "out_b.bil", "out_b.hdr"} <= set(names)
    assert gdal.Open(str(tmp_path / "out_a.bil")).GetDriver().ShortName == "EHdr"
    assert_copied_from(tmp_path / "out_a.bil", a)


def test_inputs_are_never_modified(tmp_path, big_pair):
    stamps = {path: (os.stat(path).st_mtime_ns, open(path, "rb").read()) for path in big_pair}
    clip_pair(*big_pair, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), area="valid", mask_common=True)
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


def test_stale_side_files_of_a_replaced_output_are_removed(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    out_a, out_b = existing_outputs(tmp_path)
    for suffix in (".msk", ".ovr"):
        (tmp_path / ("out_a.tif" + suffix)).write_bytes(b"old side file")
    clip_pair(a, b, out_a, out_b)
    assert listing(tmp_path) == ["a.tif", "b.tif", "out_a.tif", "out_b.tif"]
    ds = gdal.Open(out_a)
    assert ds.GetRasterBand(1).GetMaskFlags() == gdal.GMF_ALL_VALID
    assert ds.GetRasterBand(1).GetOverviewCount() == 0


def test_an_output_that_would_replace_a_file_of_an_input_is_refused(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    # B is ENVI (b.dat with b.hdr); an EHdr output b.bil would write its own b.hdr.
    b = make_raster(tmp_path / "b.dat", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80, driver="ENVI")
    header = (tmp_path / "b.hdr").read_bytes()
    before = listing(tmp_path)
    with pytest.raises(OutputPathError, match=r"would replace '.*b\.hdr', a file of the input '.*b\.dat'"):
        clip_pair(a, b, str(tmp_path / "a_out.tif"), str(tmp_path / "b.bil"))
    assert (tmp_path / "b.hdr").read_bytes() == header
    assert listing(tmp_path) == before
    assert_copied_from(b, b)


def test_an_output_path_that_is_a_folder_is_refused(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    (tmp_path / "out_b.tif").mkdir()
    with pytest.raises(OutputPathError, match="is a folder"):
        clip_pair(a, b, str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif"))
    assert listing(tmp_path) == ["a.tif", "b.tif", "out_b.tif"]


@pytest.mark.parametrize("extension", [".ers", ".gpkg"])
def test_formats_that_name_their_content_after_the_file(tmp_path, extension):
    # ERS keeps its data in a file without extension; GeoPackage names its raster table.
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Byte)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80, dtype=gdal.GDT_Byte)
    out_a, out_b = str(tmp_path / f"out_a{extension}"), str(tmp_path / f"out_b{extension}")
    clip_pair(a, b, out_a, out_b)
    assert leftovers(tmp_path) == []
    assert_copied_from(out_a, a)
    if extension == ".gpkg":
        assert gdal.Open(out_a).GetMetadataItem("IDENTIFIER") == "out_a"


def test_statistics_of_the_whole_source_are_not_carried_over(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    ds = gdal.Open(a)
    ds.GetRasterBand(1).ComputeStatistics(False)  # stored in a.tif.aux.xml, as QGIS does
    ds = None
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"))
    ds = gdal.Open(str(tmp_path / "x.tif"))
    band_metadata = ds.GetRasterBand(1).GetMetadata()
    assert not [key for key in band_metadata if key.startswith("STATISTICS_")]
    os.remove(a + ".aux.xml")


def test_mask_common_with_bands_of_different_nodata(tmp_path):
    # Band 1 declares nodata 0, band 2 none and uses 0: the output needs one value for both.
    data = np.stack([np.full((80, 100), 9), np.arange(8000).reshape(80, 100) % 7])
    data[0, :, :10] = 0
    a = make_raster(tmp_path / "a.img", A_TRANSFORM, 100, 80, bands=2, dtype=gdal.GDT_Byte, data=data, driver="HFA")
    ds = gdal.Open(a, gdal.GA_Update)
    ds.GetRasterBand(1).SetNoDataValue(0)
    ds = None
    b_data = np.full((80, 100), 3)
    b_data[40:] = -1
    b = make_raster(tmp_path / "b.tif", A_TRANSFORM, 100, 80, nodata=-1, data=b_data)
    plan = clip_pair(a, b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"), mask_common=True)
    nodata = plan.outputs[0].nodata
    assert len(set(nodata)) == 1 and nodata[0] not in range(0, 7)
    ds = gdal.Open(str(tmp_path / "x.tif"))
    expected_valid = np.zeros((80, 100), dtype=bool)
    expected_valid[:40, 10:] = True
    for index in (1, 2):
        band = ds.GetRasterBand(index)
        assert band.GetNoDataValue() == nodata[0]
        np.testing.assert_array_equal(band.ReadAsArray() != nodata[0], expected_valid)
    np.testing.assert_array_equal(ds.GetRasterBand(2).ReadAsArray()[expected_valid], data[1][expected_valid])


def test_cancel_during_the_valid_data_scan(tmp_path, big_pair):
    from overlap_clip_plugin.core import plan_clip

    with pytest.raises(CancelledError, match="finding where the rasters have valid data"):
        plan_clip(
            list(big_pair), [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")], area="valid", progress=lambda f: False
        )


def test_write_output_writes_one_planned_output_through_the_same_safe_path(tmp_path):
    from overlap_clip_plugin.core import plan_clip, write_output

    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500600.0, 10.0, 0.0, 4999500.0, 0.0, -10.0), 100, 80)
    out_a, out_b = existing_outputs(tmp_path)
    plan = plan_clip([a, b], [out_a, out_b])
    write_output(plan.outputs[0])
    assert_copied_from(out_a, a)
    # Only that output was written; the other path keeps its earlier content.
    assert (tmp_path / "out_b.tif").read_bytes() == b"an earlier result out_b.tif"
    assert leftovers(tmp_path) == []


def test_a_failed_move_into_place_leaves_every_output_path_as_it_was(tmp_path, monkeypatch):
    """The second output cannot be moved into place (on Windows: the old file is open in QGIS)."""
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500203.0, 10.0, 0.0, 4999797.0, 0.0, -10.0), 100, 80)
    out_a, out_b = existing_outputs(tmp_path)
    before = contents(tmp_path)
    real_replace = os.replace

    def replace(source, target):
        if os.path.basename(target) == "out_b.tif" and ".overlapclip-" in str(source) and "replaced" not in str(source):
            raise PermissionError(13, "The process cannot access the file", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(WriteError, match="every output path is as it was"):
        clip_pair(a, b, out_a, out_b)
    monkeypatch.undo()
    after = contents(tmp_path)
    assert after == before  # out_a too, though its move had succeeded; no staging folder left


def test_a_format_whose_header_names_its_data_file_comes_out_as_gdal_translate_writes_it(tmp_path):
    """PDS4: the .xml label names the .img it describes; it must name the final file, not a temporary one."""
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500200.0, 10.0, 0.0, 4999800.0, 0.0, -10.0), 100, 80)
    out = tmp_path / "out"
    out.mkdir()
    said = []
    clip_pair(a, b, str(out / "a_common.tif"), str(out / "b_common.xml"), warn=said.append)
    # GDAL's own warnings about the label reach the caller.
    assert any("could not be substituted" in line for line in said), said
    reference = tmp_path / "reference"
    reference.mkdir()
    gdal.Translate(str(reference / "b_common.xml"), b, srcWin=[0, 0, 80, 60], format="PDS4")
    assert listing(out) == ["a_common.tif", "b_common.img", "b_common.xml"]
    assert listing(reference) == ["b_common.img", "b_common.xml"]
    assert "<file_name>b_common.img</file_name>" in (out / "b_common.xml").read_text(encoding="utf-8")
    np.testing.assert_array_equal(read_array(out / "b_common.xml"), read_array(reference / "b_common.xml"))
    np.testing.assert_array_equal(read_array(out / "b_common.xml")[0], read_array(b)[0][:60, :80])


def test_an_overlap_polygon_that_cannot_be_written_leaves_no_raster_behind(provider, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500203.0, 10.0, 0.0, 4999797.0, 0.0, -10.0), 100, 80)
    out_a, out_b = existing_outputs(tmp_path)
    before = contents(tmp_path, aux=False)
    parameters = {
        "INPUT_A": a,
        "INPUT_B": b,
        "OUTPUT_A": out_a,
        "OUTPUT_B": out_b,
        "OVERLAP": str(tmp_path / "no such folder" / "overlap.gpkg"),
    }
    with pytest.raises(QgsProcessingException):
        processing.run("overlapclip:clippair", parameters)
    after = contents(tmp_path, aux=False)
    assert after == before


def test_the_same_through_qgis_process(profile, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500203.0, 10.0, 0.0, 4999797.0, 0.0, -10.0), 100, 80)
    out_a, out_b = existing_outputs(tmp_path)
    before = contents(tmp_path, aux=False)
    run = clippair(
        profile, INPUT_A=a, INPUT_B=b, OUTPUT_A=out_a, OUTPUT_B=out_b, OVERLAP=tmp_path / "missing" / "o.gpkg"
    )
    assert run.returncode != 0
    after = contents(tmp_path, aux=False)
    assert after == before


def test_cancel_while_a_nodata_value_is_chosen_and_while_the_overlap_is_traced(tmp_path):
    from overlap_clip_plugin.core import overlap_summary, plan_clip

    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 2000, 2000)  # no nodata: one must be chosen
    b = make_raster(tmp_path / "b.tif", (500003.0, 10.0, 0.0, 4999997.0, 0.0, -10.0), 2000, 2000, nodata=-1)
    outputs = [str(tmp_path / "x.tif"), str(tmp_path / "y.tif")]
    asked = []
    scanned = []

    def stop(fraction):
        asked.append(fraction)
        return False

    def stop_after_the_mask_scan(fraction):
        # The plan first scans the masks (up to 1.0), then chooses a nodata value: stop there.
        if scanned:
            asked.append(fraction)
            return False
        if fraction >= 1.0:
            scanned.append(fraction)
        return True

    with pytest.raises(
        CancelledError, match="Cancelled while choosing a nodata value for 'a.tif'; nothing was written"
    ):
        plan_clip([a, b], outputs, mask_common=True, progress=stop_after_the_mask_scan)
    assert len(asked) == 1  # stopped at the first strip
    plan = plan_clip([a, b], outputs, area="valid")
    asked.clear()
    with pytest.raises(CancelledError, match="Cancelled while tracing the overlap; nothing was written"):
        overlap_summary(plan, stop)
    assert len(asked) == 1
    assert listing(tmp_path) == ["a.tif", "b.tif"]


def rewrite(path, shift):
    """Write the raster at ``path`` again, as another job would: its pixels ``shift`` columns along."""
    values = read_array(path)[0]
    make_raster(path, A_TRANSFORM, values.shape[1], values.shape[0], data=np.roll(values, shift, axis=1))


@pytest.mark.parametrize("when", ["after the plan", "while writing"])
def test_an_input_written_again_during_the_run_fails_it_and_nothing_is_written(tmp_path, when):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500300.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), 100, 80)
    outputs = [str(tmp_path / "out_a.tif"), str(tmp_path / "out_b.tif")]
    before = contents(tmp_path)
    rewritten = []

    def halfway(fraction):
        if fraction >= 0.5 and not rewritten:
            rewrite(a, 50)
            rewritten.append(fraction)

    hooks = {"on_plan": lambda plan: rewrite(a, 50)} if when == "after the plan" else {"progress": halfway}
    with pytest.raises(InputChangedError) as raised:
        run_clip([a, b], outputs, **hooks)
    assert str(raised.value) == (
        f"The input '{a}' changed while the run read it (its files or its grid are not what the plan saw); nothing "
        "was written. Run again once whatever writes it has finished."
    )
    after = contents(tmp_path)
    assert {name for name in after if name != "a.tif"} == {name for name in before if name != "a.tif"}
    assert leftovers(tmp_path) == []
