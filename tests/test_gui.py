"""The real QGIS desktop under Xvfb: the algorithm's dialog and batch dialog, run as a user runs them.

Skips only when no display server can be started, and says so. With
OVERLAPCLIP_UPDATE_SCREENSHOT=1 the pictures in README.md are refreshed.
"""

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from language import CJK, english_fragments, untranslated
from osgeo import gdal
from rasters import assert_copied_from, assert_same_grid, make_raster, sample_dates, sample_pair

HERE = os.path.dirname(os.path.abspath(__file__))
SCREENSHOT = os.path.join(HERE, "screenshots", "clippair.png")
BEFORE_AFTER = os.path.join(HERE, "screenshots", "before_after.png")


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


def drawing(folder, name):
    """The canvas as drawn in state ``name``: height x width x RGB, as integers."""
    image = gdal.Open(str(folder / f"{name}.png")).ReadAsArray()
    return np.moveaxis(image[:3], 0, -1).astype(np.int32)


def test_dialog_runs_and_both_outputs_are_drawn_alike_with_the_overlap_outlined(profile, tmp_path):
    a, b = sample_dates(tmp_path)
    report = run_desktop(profile, "gui_session.py", tmp_path, OVERLAPCLIP_GUI_A=a, OVERLAPCLIP_GUI_B=b)

    assert report["dialog"] and "Clip raster pair to common area" in report["dialog"]
    assert "date_2020 (A, common area)" in report["project_layers"]
    assert "date_2024 (B, common area)" in report["project_layers"]
    assert "share one stretch" in report["log"] and "copied without resampling" in report["log"]
    # The overlap's layer is the top one, the outputs below it.
    tree = report["tree"]
    assert tree.index("date_2020 (A, common area)") > 0 and tree.index("date_2024 (B, common area)") > 0
    assert tree[0] not in ("date_2020 (A, common area)", "date_2024 (B, common area)", "date_2020", "date_2024")
    assert_same_grid(tmp_path / "a_common.tif", tmp_path / "b_common.tif")
    assert_copied_from(tmp_path / "a_common.tif", a)

    before, after, no_outline = (drawing(tmp_path, name) for name in ("before", "after", "no_outline"))
    # Drawn: the canvas shows the landscape, not a blank map, before and after.
    assert len(np.unique(before.reshape(-1, 3), axis=0)) > 50
    assert len(np.unique(after.reshape(-1, 3), axis=0)) > 50
    # The outline covers nothing of the rasters: the drawings with and without it differ only on a thin
    # band along the overlap's edge, and they do differ there.
    x0, y0, x1, y1 = report["overlap_pixels"]
    rows, cols = np.nonzero((after != no_outline).any(axis=2))
    assert len(rows) > 2 * ((x1 - x0) + (y1 - y0))
    near_edge = (np.minimum(abs(cols - x0), abs(cols - x1)) <= 4) & (rows >= y0 - 4) & (rows <= y1 + 4) | (
        np.minimum(abs(rows - y0), abs(rows - y1)) <= 4
    ) & (cols >= x0 - 4) & (cols <= x1 + 4)
    assert near_edge.all(), (len(rows), int((~near_edge).sum()))

    # A and B share one stretch: inside the overlap the two dates look alike, where each drawn with its own
    # stretch (as QGIS draws a raster loaded alone) would not, because B's new bright patch widens its stretch.
    inside = (slice(int(y0) + 6, int(y1) - 6), slice(int(x0) + 6, int(x1) - 6))
    only_a, only_b, a_alone, b_alone = (
        drawing(tmp_path, name)[inside] for name in ("only_a", "only_b", "a_alone", "b_alone")
    )
    shared = np.median(abs(only_a - only_b))
    own = np.median(abs(a_alone - b_alone))
    assert shared <= 6, shared
    assert own >= 20 and own > 4 * max(shared, 1), (own, shared)
    if os.environ.get("OVERLAPCLIP_UPDATE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "desktop.png", SCREENSHOT)
        shutil.copyfile(tmp_path / "before_after.png", BEFORE_AFTER)


def test_the_chinese_dialog_speaks_chinese(chinese_profile, tmp_path):
    """In QGIS set to Simplified Chinese, every label, help line and log line the plugin supplies is Chinese,
    apart from parameter keys, file names and CRS codes."""
    a, b = sample_dates(tmp_path)
    report = run_desktop(chinese_profile, "gui_session.py", tmp_path, OVERLAPCLIP_GUI_A=a, OVERLAPCLIP_GUI_B=b)
    assert report["dialog"] and "将栅格对裁剪到公共区域" in report["dialog"]
    labels = [re.sub(r"<[^>]+>", "", label) for label in report["labels"]]
    # The dialog's labels of the parameters: QGIS's own suffix ("[可选]") aside, the plugin's sentences.
    bad, ours = untranslated(re.sub(r"\s*\[[^\]]*\]$", "", label) for label in labels)
    assert bad == [] and ours >= 5, (bad, labels)
    help_lines = [line for line in report["help"].splitlines() if line.strip()]
    assert len(help_lines) >= 5
    assert [line for line in help_lines if not CJK.search(line) or english_fragments(line)] == []
    bad, ours = untranslated(report["log"].splitlines())
    assert bad == [] and ours >= 5, (bad, report["log"][-3000:])


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
