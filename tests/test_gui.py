"""The real QGIS desktop under Xvfb: the algorithm's dialog, run as a user runs it.

Skips only when no display server can be started, and says so. With
OVERLAPCLIP_UPDATE_SCREENSHOT=1 the screenshot in README.md is refreshed.
"""

import json
import os
import shutil
import subprocess

import pytest
from rasters import assert_copied_from, assert_same_grid, sample_pair

HERE = os.path.dirname(os.path.abspath(__file__))
SCREENSHOT = os.path.join(HERE, "screenshots", "clippair.png")


def test_dialog_runs_and_both_outputs_are_drawn(profile, tmp_path):
    if shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None:
        pytest.skip("no display server can be started: xvfb-run/Xvfb are not installed (`make test` installs xvfb)")
    qgis = shutil.which("qgis")
    assert qgis, "the QGIS desktop is not installed (`make test` installs qgis)"
    a, b = sample_pair(tmp_path)
    env = dict(profile, OVERLAPCLIP_GUI_OUT=str(tmp_path), OVERLAPCLIP_GUI_A=a, OVERLAPCLIP_GUI_B=b)
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
        os.path.join(HERE, "gui_session.py"),
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    report_path = tmp_path / "report.json"
    if not report_path.exists() and ("Xvfb failed to start" in run.stderr or "cannot open display" in run.stderr):
        pytest.skip(f"no display server could be started: {run.stderr.strip()[:300]}")
    assert report_path.exists(), run.stdout[-2000:] + run.stderr[-2000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))

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
