"""Clear-sky validity as users give it (issue 22): clippair's QA_A/QA_B (a band of the raster, a companion QA
raster), clipstack's QA, QA_BAND and QA_RASTERS through qgis_process, and the batch command's --qa; bad rules
are refused before anything is written."""

import json

import numpy as np
from commands import clippair, qgis_process
from osgeo import gdal
from rasters import A_TRANSFORM, grid_of, make_raster, read_array
from test_batch import run_command
from test_qa_clip import B_TRANSFORM, CLOUD, NODATA, SHADOW, cloudy_qa

VALUES = np.arange(1200).reshape(30, 40)
FLAGGED = (cloudy_qa()[:, :30] & (CLOUD | SHADOW)) != 0


def cloudy_pair(folder):
    """A (UInt16, 40 x 30) and B (a band and its QA_PIXEL band), 10 pixels east of A."""
    a = make_raster(folder / "a.tif", A_TRANSFORM, 40, 30, dtype=gdal.GDT_UInt16, nodata=NODATA)
    data = np.stack([VALUES.astype(np.uint16), cloudy_qa()])
    b = make_raster(folder / "b.tif", B_TRANSFORM, 40, 30, bands=2, dtype=gdal.GDT_UInt16, nodata=NODATA, data=data)
    return a, b


def scl_of_a(folder):
    """An SCL raster on A's pixels: cloud (9) at A's rows 20-24, columns 12-15; in the common grid, columns 2-5."""
    scl = np.full((30, 40), 4, dtype=np.uint8)
    scl[20:25, 12:16] = 9
    return make_raster(folder / "a_scl.tif", A_TRANSFORM, 40, 30, dtype=gdal.GDT_Byte, data=scl)


def test_clippair_masks_b_cloud_and_a_companion_scl(profile, tmp_path):
    a, b = cloudy_pair(tmp_path)
    out_a, out_b = tmp_path / "a_out.tif", tmp_path / "b_out.tif"
    run = clippair(
        profile,
        INPUT_A=a,
        INPUT_B=b,
        QA_A="sentinel-2-scl",
        QA_RASTER_A=scl_of_a(tmp_path),
        QA_B="landsat-c2-qa-pixel",
        QA_BAND_B=2,
        MASK_COMMON="true",
        SHIFT="false",
        OUTPUT_A=out_a,
        OUTPUT_B=out_b,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    flagged = FLAGGED.copy()
    flagged[20:25, 2:6] = True
    np.testing.assert_array_equal(read_array(out_a)[0], np.where(flagged, NODATA, VALUES[:, 10:]))
    np.testing.assert_array_equal(read_array(out_b)[0], np.where(flagged, NODATA, VALUES[:, :30]))
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    assert results["OVERLAP_AREA"] == 900 * 100.0  # extents: the numbers count clear pixels with AREA=valid only


def test_clippair_area_valid_is_the_clear_area(profile, tmp_path):
    a, b = cloudy_pair(tmp_path)
    out_a, out_b = tmp_path / "a_out.tif", tmp_path / "b_out.tif"
    run = clippair(
        profile, INPUT_A=a, INPUT_B=b, QA_B="bits:3", QA_BAND_B=2, AREA=1, SHIFT="false", OUTPUT_A=out_a, OUTPUT_B=out_b
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert grid_of(out_a) == ((A_TRANSFORM[0] + 100.0, 10.0, 0.0, A_TRANSFORM[3] - 100.0, 0.0, -10.0), 30, 20)
    results = json.loads(run.stdout[run.stdout.index("{") :])["results"]
    assert results["OVERLAP_AREA"] == 600 * 100.0  # bit 3 only: the shadow (bit 4) is clear


def test_clippair_refuses_a_bad_rule_before_anything_is_written(profile, tmp_path):
    a, b = cloudy_pair(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    run = clippair(profile, INPUT_A=a, INPUT_B=b, QA_B="clouds", OUTPUT_A=out / "a.tif", OUTPUT_B=out / "b.tif")
    assert run.returncode != 0
    assert "The QA rule 'clouds' is not understood" in run.stdout + run.stderr
    run = clippair(
        profile, INPUT_A=a, INPUT_B=b, QA_B="bits:3", QA_BAND_B=3, OUTPUT_A=out / "a.tif", OUTPUT_B=out / "b.tif"
    )
    assert run.returncode != 0
    assert "'b.tif' has 2 bands, so no QA band 3." in run.stdout + run.stderr
    assert list(out.iterdir()) == []


def test_clipstack_with_a_rule_for_every_input_and_their_qa_rasters(profile, tmp_path):
    a, b = cloudy_pair(tmp_path)
    qa_b = make_raster(tmp_path / "b_qa.tif", B_TRANSFORM, 40, 30, dtype=gdal.GDT_UInt16, data=cloudy_qa())
    qa_a = make_raster(tmp_path / "a_qa.tif", A_TRANSFORM, 40, 30, dtype=gdal.GDT_UInt16, data=np.zeros((30, 40)))
    out = tmp_path / "stack"
    arguments = ["--json", "run", "overlapclip:clipstack", f"--INPUTS={a}", f"--INPUTS={b}"]
    run = qgis_process(
        profile,
        *arguments,
        "--QA=landsat-c2-qa-pixel",
        f"--QA_RASTERS={qa_a}",
        f"--QA_RASTERS={qa_b}",
        "--MASK_COMMON=true",
        "--SHIFT=false",
        f"--OUTPUT_FOLDER={out}",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    np.testing.assert_array_equal(read_array(out / "a_common.tif")[0], np.where(FLAGGED, NODATA, VALUES[:, 10:]))
    run = qgis_process(profile, *arguments, "--QA=bits:3", f"--QA_RASTERS={qa_b}", f"--OUTPUT_FOLDER={tmp_path / 'x'}")
    assert run.returncode != 0
    assert "1 QA rasters are given for 2 input rasters" in run.stdout + run.stderr
    assert not (tmp_path / "x").exists() or list((tmp_path / "x").iterdir()) == []


def test_the_batch_command_with_qa(tmp_path):
    a, b = cloudy_pair(tmp_path)
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"jobs": [{"inputs": [a, b], "outputs": ["a_out.tif", "b_out.tif"]}]}))
    # --qa is every input's rule: A has no band 2, and its job fails before anything is written.
    run = run_command(batch, "--qa", "landsat-c2-qa-pixel", "--qa-band", "2", "--mask-common", "--shift", "none")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "'a.tif' has 1 bands, so no QA band 2." in run.stdout
    assert not (tmp_path / "a_out.tif").exists()
    run = run_command(batch, "--qa", "classes:", "--shift", "none")
    assert run.returncode == 2
    assert "--qa: The QA rule 'classes:' lists no number after its colon" in run.stderr


def test_the_batch_command_with_qa_on_every_input(tmp_path):
    a, b = cloudy_pair(tmp_path)
    # A gets a QA band of its own, all clear.
    data = np.stack([VALUES.astype(np.uint16), np.zeros((30, 40), dtype=np.uint16)])
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 40, 30, bands=2, dtype=gdal.GDT_UInt16, nodata=NODATA, data=data)
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps({"jobs": [{"inputs": [a, b], "outputs": ["a_out.tif", "b_out.tif"]}]}))
    run = run_command(batch, "--qa", "landsat-c2-qa-pixel", "--qa-band", "2", "--area", "valid", "--shift", "none")
    assert run.returncode == 0, run.stdout + run.stderr
    assert grid_of(tmp_path / "a_out.tif") == (
        (A_TRANSFORM[0] + 100.0, 10.0, 0.0, A_TRANSFORM[3] - 100.0, 0.0, -10.0),
        30,
        20,
    )


def test_a_batch_job_with_its_own_rule_and_qa_rasters(tmp_path):
    a, b = cloudy_pair(tmp_path)
    qa_a = make_raster(tmp_path / "a_qa.tif", A_TRANSFORM, 40, 30, dtype=gdal.GDT_UInt16, data=np.zeros((30, 40)))
    qa_b = make_raster(tmp_path / "b_qa.tif", B_TRANSFORM, 40, 30, dtype=gdal.GDT_UInt16, data=cloudy_qa())
    job = {"inputs": [a, b], "outputs": ["a_out.tif", "b_out.tif"], "qa": "bits:3,4", "qa_rasters": [qa_a, qa_b]}
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([job]))
    # The job's rule wins over --qa (which would ask every input for a band 2 that A lacks).
    run = run_command(batch, "--qa", "bits:0", "--qa-band", "2", "--mask-common", "--shift", "none")
    assert run.returncode == 0, run.stdout + run.stderr
    np.testing.assert_array_equal(read_array(tmp_path / "a_out.tif")[0], np.where(FLAGGED, NODATA, VALUES[:, 10:]))
    batch.write_text(json.dumps([{**job, "qa_rasters": [qa_a]}]))
    run = run_command(batch, "--shift", "none")
    assert run.returncode == 2
    assert 'needs "qa_rasters" as a list of 2 paths or nulls, one per input.' in run.stderr
