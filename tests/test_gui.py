"""The real QGIS desktop under Xvfb: the algorithm's dialog and batch dialog, run as a user runs them.

Skips only when no display server can be started, and says so. With
OVERLAPCLIP_UPDATE_SCREENSHOT=1 the screenshot in README.md is refreshed.
"""

import json
import os
import shutil
import subprocess

import pytest
from rasters import assert_copied_from, assert_same_grid, make_raster, sample_pair

HERE = os.path.dirname(os.path.abspath(__file__))
SCREENSHOT = os.path.join(HERE, "screenshots", "clippair.png")


def run_desktop(profile, session, out, **variables):
    """Start the QGIS desktop on a virtual screen with ``session`` as its start-up code; its report."""
    if shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None:
        pytest.skip("no display server can be started: xvfb-run/Xvfb are not installed (`make test` installs xvfb)")
    qgis = shutil.which("qgis")
    assert qgis, "the QGIS desktop is not installed (`make test` installs qgis)"
    env = dict(profile, OVERLAPCLIP_GUI_OUT=str(out), **variables)
    env.pop("QT_QPA_PLATFORM", None)  # a real window on the X server
    command = [
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1280x800x24",
        qgis,
        "--nologo",
        "--noversioncheck",
        "--code",
        os.path.join(HERE, session),
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    report_path = out / "report.json"
    if not report_path.exists() and ("Xvfb failed to start" in run.stderr or "cannot open display" in run.stderr):
        pytest.skip(f"no display server could be started: {run.stderr.strip()[:300]}")
    assert report_path.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    return json.loads(report_path.read_text(encoding="utf-8"))


def test_dialog_runs_and_both_outputs_are_drawn(profile, tmp_path):
    a, b = sample_pair(tmp_path)
    report = run_desktop(profile, "gui_session.py", tmp_path, OVERLAPCLIP_GUI_A=a, OVERLAPCLIP_GUI_B=b)

    assert report["dialog"] and "Clip raster pair to common area" in report["dialog"]
    assert report["project_layers"] == ["sample_a (A, common area)", "sample_b (B, common area)"]
    assert sorted(report["canvas_layers"]) == report["project_layers"]
    # Drawn: the canvas shows the landscape, not a blank white map.
    assert report["canvas_colours"] > 50
    assert "copied without resampling" in report["log"]
    assert_same_grid(tmp_path / "a_common.tif", tmp_path / "b_common.tif")
    assert_copied_from(tmp_path / "a_common.tif", a)
    if os.environ.get("OVERLAPCLIP_UPDATE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "desktop.png", SCREENSHOT)


def test_batch_dialog_reports_each_row_and_skips_an_empty_polygon_cell(profile, tmp_path):
    """Three rows: rasters that do not overlap, a pair without the polygon, a pair with it."""
    a, b = sample_pair(tmp_path)
    far = make_raster(tmp_path / "far.tif", (900000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 50, 50)
    out = tmp_path / "out"
    out.mkdir()
    rows = [
        {"INPUT_A": a, "INPUT_B": far, "OUTPUT_A": str(out / "r1_a.tif"), "OUTPUT_B": str(out / "r1_b.tif")},
        {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": str(out / "r2_a.tif"), "OUTPUT_B": str(out / "r2_b.tif")},
        {
            "INPUT_A": a,
            "INPUT_B": b,
            "OUTPUT_A": str(out / "r3_a.tif"),
            "OUTPUT_B": str(out / "r3_b.tif"),
            "OVERLAP": str(out / "r3_overlap.gpkg"),
        },
    ]
    report = run_desktop(profile, "gui_batch_session.py", tmp_path, OVERLAPCLIP_BATCH_ROWS=json.dumps(rows))
    log = report["log"]

    assert report["rows"] == 3
    # Row 1 fails with the reason, and only row 1.
    assert "do not overlap" in log, log[-3000:]
    assert log.count("Execution failed after") == 1, log[-3000:]
    assert log.count("Execution completed in") == 2, log[-3000:]
    assert "Could not create destination layer" not in log
    # Rows 2 and 3 wrote and loaded their rasters; only row 3 wrote and loaded a polygon.
    assert sorted(os.listdir(out)) == ["r2_a.tif", "r2_b.tif", "r3_a.tif", "r3_b.tif", "r3_overlap.gpkg"]
    for row in ("r2", "r3"):
        assert_same_grid(out / f"{row}_a.tif", out / f"{row}_b.tif")
        assert_copied_from(out / f"{row}_a.tif", a)
    assert report["project_layers"].count("sample_a (A, common area)") == 2
    assert report["project_layers"].count("sample_b (B, common area)") == 2
    assert len(report["project_layers"]) == 5
