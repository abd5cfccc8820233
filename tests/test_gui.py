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
from files import listing
from language import CJK, english_fragments, untranslated
from osgeo import gdal
from rasters import assert_copied_from, assert_same_grid, make_raster, read_array, sample_dates
from shift_data import S2_AROSICS_PX, S2_PAIR, write_pair

from overlap_clip_plugin.core import run_clip

HERE = os.path.dirname(os.path.abspath(__file__))
SCREENSHOT = os.path.join(HERE, "screenshots", "clippair.png")
BEFORE_AFTER = os.path.join(HERE, "screenshots", "before_after.png")
SHIFT_ARROWS = os.path.join(HERE, "screenshots", "shift_arrows.png")
CHANGE_MAP = os.path.join(HERE, "screenshots", "change_map.png")


def run_desktop(profile, session, out, **variables):
    """Start the QGIS desktop on a virtual screen with ``session`` as its start-up code; its report."""
    if shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None:
        pytest.skip("no display server can be started: xvfb-run/Xvfb are not installed (`make test` installs xvfb)")
    qgis = shutil.which("qgis")
    assert qgis, "the QGIS desktop is not installed (`make test` installs qgis)"
    env = dict(profile, OVERLAPCLIP_GUI_OUT=str(out), **variables)
    # The sessions share tests/gui_common.py.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, env.get("PYTHONPATH")]))
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
    a, b = sample_dates(tmp_path)
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
    assert listing(out) == ["r2_a.tif", "r2_b.tif", "r3_a.tif", "r3_b.tif", "r3_overlap.gpkg"]
    for row in ("r2", "r3"):
        assert_same_grid(out / f"{row}_a.tif", out / f"{row}_b.tif")
        assert_copied_from(out / f"{row}_a.tif", a)
    assert report["project_layers"].count("date_2020 (A, common area)") == 2
    assert report["project_layers"].count("date_2024 (B, common area)") == 2
    assert len(report["project_layers"]) == 5
    # Each row's A and B share one stretch; row 3's overlap is drawn above its rasters.
    layers = report["layers"]
    for row in ("r2", "r3"):
        assert layers[f"{row}_a.tif"]["stretch"] == layers[f"{row}_b.tif"]["stretch"] != []
    order = report["tree_files"]
    assert order.index("r3_overlap.gpkg") < min(order.index("r3_a.tif"), order.index("r3_b.tif")), order


def summary_values(summary):
    """Each row's results in the batch dialog's summary, {description: value as text}, in row order; a row that
    failed gives {"Error": its sentence}."""
    rows = []
    # Each row is a table of its parameters and one of its results (or its error): a cell a line, description then
    # value.
    for section in re.split(r"^Parameters$", summary, flags=re.MULTILINE)[1:]:
        if "\nResults\n" not in section:
            rows.append({"Error": section.split("\nError\n", 1)[-1].strip()})
            continue
        lines = section.split("\nResults\n", 1)[1].split("\n")
        rows.append(dict(zip(lines[0::2], lines[1::2])))
    return rows


def test_batch_dialog_estimates_each_rows_shift_or_says_why_not(profile, tmp_path):
    """Two rows with the shift estimated: a pair whose content lies 1.3 pixels east and 0.7 north of each other,
    and an unrelated pair. The log and the batch's summary give the first row's shift and the second's reason."""
    rows, inputs, out = [], {}, tmp_path / "out"
    out.mkdir()
    for name, other_seed in (("shifted", None), ("unrelated", 7)):
        (tmp_path / name).mkdir()
        inputs[name] = write_pair(tmp_path / name, 1.3, -0.7, other_seed=other_seed)
        outputs = {"OUTPUT_A": str(out / f"{name}_a.tif"), "OUTPUT_B": str(out / f"{name}_b.tif")}
        rows.append({"INPUT_A": inputs[name][0], "INPUT_B": inputs[name][1], "SHIFT": True, **outputs})
    report = run_desktop(profile, "gui_batch_session.py", tmp_path, OVERLAPCLIP_BATCH_ROWS=json.dumps(rows))

    assert report["rows"] == 2
    log = report["log"]
    assert log.count("Execution completed in") == 2, log[-3000:]
    shifted, unrelated = log.split("Input parameters:")[1:]
    said = re.search(r"Shift of B against A: ([+-][0-9.]+), ([+-][0-9.]+) pixels \(([0-9.]+) m\)", shifted)
    assert said, shifted
    assert (float(said[1]), float(said[2])) == pytest.approx((1.3, -0.7), abs=0.05)
    assert float(said[3]) == pytest.approx(10.0 * np.hypot(1.3, 0.7), abs=0.5)
    assert "not estimated" not in shifted
    assert "Shift of B against A not estimated: The rasters' content does not match" in unrelated, unrelated
    assert "Shift of B against A: " not in unrelated

    # The summary QGIS adds to the Results Viewer: each row's numbers, or no number and the sentence.
    first, second = summary_values(report["summary"])
    east, south = float(first["Shift east (reference pixels)"]), float(first["Shift south (reference pixels)"])
    assert (east, south) == pytest.approx((1.3, -0.7), abs=0.05), first
    assert first["Shift estimate is reliable"] == "True" and first["Why the shift is not estimated"] == ""
    assert second["Shift east (reference pixels)"] == second["Shift south (reference pixels)"] == "None", second
    assert second["Shift estimate is reliable"] == "False"
    assert second["Why the shift is not estimated"].startswith("The rasters' content does not match"), second

    # Both rows wrote their outputs (copies: the pairs share one grid) and loaded them.
    assert listing(out) == ["shifted_a.tif", "shifted_b.tif", "unrelated_a.tif", "unrelated_b.tif"]
    for name, (a, b) in inputs.items():
        assert_copied_from(out / f"{name}_a.tif", a)
        assert_copied_from(out / f"{name}_b.tif", b)
    assert sorted(report["layers"]) == listing(out)


def series(folder):
    a, b = sample_dates(folder)
    return [a, b, make_raster(folder / "dem.tif", (400100.0, 20.0, 0.0, 4999900.0, 0.0, -20.0), 120, 80)]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_clipstack_dialog_groups_its_outputs_and_speaks_the_users_language(language, request, tmp_path):
    """Clipstack from its dialog, the reference picked as a layer: one group named after the folder, the
    outputs named by their place in the list, the two images on one stretch; in Chinese, all Chinese."""
    profile = request.getfixturevalue("profile" if language == "en" else "chinese_profile")
    inputs = series(tmp_path)
    report = run_desktop(profile, "gui_stack_session.py", tmp_path, OVERLAPCLIP_GUI_INPUTS=json.dumps(inputs))
    out = tmp_path / "series"
    written = listing(out)
    assert written == ["date_2020_common.tif", "date_2024_common.tif", "dem_common.tif"]
    # The reference layer (the second input) gives the grid: its pixel phase, 3 m east of A's.
    for name in written:
        assert round(gdal.Open(str(out / name)).GetGeoTransform()[0] % 10.0, 6) == 3.0
    assert_copied_from(out / "date_2024_common.tif", inputs[1])
    layers = report["layers"]
    assert layers["date_2020_common.tif"]["stretch"] == layers["date_2024_common.tif"]["stretch"] != []
    groups = [entry for entry in report["tree"] if isinstance(entry, list)]
    assert len(groups) == 1
    group, children = groups[0]
    assert group.startswith("series")
    assert children == [layers[name]["name"] for name in written]
    if language == "en":
        assert group == "series (common area)"
        assert children == ["date_2020 (1, common area)", "date_2024 (2, common area)", "dem (3, common area)"]
        assert "share one stretch" in report["log"]
        return
    bad, ours = untranslated(re.sub(r"\s*\[[^\]]*\]$", "", re.sub(r"<[^>]+>", "", label)) for label in report["labels"])
    assert bad == [] and ours >= 3, (bad, report["labels"])
    assert [
        line
        for line in report["help"].splitlines()
        if line.strip() and (not CJK.search(line) or english_fragments(line))
    ] == []
    bad, ours = untranslated(report["log"].splitlines())
    assert bad == [] and ours >= 5, (bad, report["log"][-3000:])
    assert all(CJK.search(name) for name in [group, *children])


def test_clipstack_batch_dialog_runs_each_stack(profile, tmp_path):
    inputs = series(tmp_path)
    rows = [
        {"INPUTS": inputs, "OUTPUT_FOLDER": str(tmp_path / "all")},
        {"INPUTS": inputs[:2], "GRID": 1, "OUTPUT_FOLDER": str(tmp_path / "pair")},
    ]
    report = run_desktop(
        profile,
        "gui_batch_session.py",
        tmp_path,
        OVERLAPCLIP_BATCH_ALGORITHM="overlapclip:clipstack",
        OVERLAPCLIP_BATCH_ROWS=json.dumps(rows),
    )
    assert report["rows"] == 2
    assert report["log"].count("Execution completed in") == 2, report["log"][-3000:]
    assert listing(tmp_path / "all") == ["date_2020_common.tif", "date_2024_common.tif", "dem_common.tif"]
    assert listing(tmp_path / "pair") == ["date_2020_common.tif", "date_2024_common.tif"]
    groups = sorted(entry[0] for entry in report["tree"] if isinstance(entry, list))
    assert groups == ["all (common area)", "pair (common area)"]


def test_changemap_batch_dialog_maps_each_row_or_says_why_not(profile, tmp_path):
    """Two rows of overlapclip:changemap in the batch dialog: a pair with planted change (the map as the core's
    one run makes it, its numbers in the batch's summary, loaded styled over the clipped pair), and a pair whose
    band counts differ (the sentence, and nothing of that row written)."""
    from test_change import planted, write_dates

    from overlap_clip_plugin.core.change import ChangeRequest

    before, after, _ = planted(bands=2)
    (tmp_path / "dates").mkdir()
    a, b = write_dates(tmp_path / "dates", before, after, names=("landsat_2020.tif", "landsat_2024.tif"))
    three = make_raster(tmp_path / "three_bands.tif", gdal.Open(b).GetGeoTransform(), 64, 64, bands=3)
    out = tmp_path / "out"
    out.mkdir()
    rows = [
        {
            "INPUT_A": a,
            "INPUT_B": row_b,
            "METHOD": method,
            **{
                key: str(out / f"{name}_{suffix}.tif")
                for key, suffix in (("OUTPUT", "change"), ("OUTPUT_A", "a"), ("OUTPUT_B", "b"))
            },
        }
        for name, row_b, method in (("r1", b, 0), ("r2", str(three), 1))
    ]
    report = run_desktop(
        profile,
        "gui_batch_session.py",
        tmp_path,
        OVERLAPCLIP_BATCH_ALGORITHM="overlapclip:changemap",
        OVERLAPCLIP_BATCH_ROWS=json.dumps(rows),
    )
    log = report["log"]
    assert report["rows"] == 2
    assert log.count("Execution completed in") == 1 and log.count("Execution failed after") == 1, log[-3000:]
    assert "'landsat_2020.tif' has 2 bands and 'three_bands.tif' has 3; choose the bands to compare" in log, log[-3000:]
    assert listing(out) == ["r1_a.tif", "r1_b.tif", "r1_change.tif"]
    # The map the core's one run makes of the same pair with the same defaults.
    (tmp_path / "core").mkdir()
    core = [str(tmp_path / "core" / name) for name in ("a.tif", "b.tif", "change.tif")]
    run_clip([a, b], core[:2], "a", area="valid", change=ChangeRequest(core[2]))
    labels = read_array(out / "r1_change.tif")[0]
    assert np.array_equal(labels, read_array(core[2])[0])
    assert 0 < (labels == 1).sum() < (labels == 0).sum()
    # The Results Viewer's summary: the first row's numbers, and the second row's sentence.
    first = summary_values(report["summary"])[0]
    assert float(first["Changed pixels"]) == (labels == 1).sum(), first
    assert float(first["Pixels compared (common valid area)"]) == (labels != 255).sum(), first
    assert "'landsat_2020.tif' has 2 bands and 'three_bands.tif' has 3" in report["summary"], report["summary"]
    assert report["layers"]["r1_change.tif"]["renderer"] == "paletted"
    order = report["tree_files"]
    assert order.index("r1_change.tif") < min(order.index("r1_a.tif"), order.index("r1_b.tif")), order


def test_clipstack_dialog_on_layers_served_over_http(profile, tmp_path):
    """Layers added from HTTP (/vsicurl/, as Layer > Add Raster Layer > Protocol adds them) clip from the
    dialog. QGIS itself reads these small files whole to draw and stretch the input layers; the bytes
    the clip reads are counted in tests/test_remote.py."""
    from http_range import RangeServer

    bucket = tmp_path / "bucket"
    bucket.mkdir()
    a, b = sample_dates(bucket)
    with RangeServer(bucket) as server:
        urls = [f"/vsicurl/{server.url}/{os.path.basename(path)}" for path in (a, b)]
        report = run_desktop(
            dict(profile, GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"),
            "gui_stack_session.py",
            tmp_path,
            OVERLAPCLIP_GUI_INPUTS=json.dumps(urls),
        )
    assert listing(tmp_path / "series") == ["date_2020_common.tif", "date_2024_common.tif"], report["log"][-2000:]
    assert_copied_from(tmp_path / "series" / "date_2024_common.tif", b)
    layers = report["layers"]
    assert layers["date_2020_common.tif"]["stretch"] == layers["date_2024_common.tif"]["stretch"] != []


def shift_desktop(profile, folder, dx, dy, params, other_seed=None, pair=None):
    """The shift session with ``params`` on a 1/f texture and its copy whose content is ``dx``, ``dy`` pixels
    apart, or on copies of the two rasters of ``pair``."""
    if pair is None:
        a, b = write_pair(folder, dx, dy, other_seed=other_seed)
    else:
        a, b = (shutil.copyfile(path, os.path.join(folder, os.path.basename(path))) for path in pair)
    return run_desktop(
        profile,
        "gui_shift_session.py",
        folder,
        OVERLAPCLIP_GUI_A=a,
        OVERLAPCLIP_GUI_B=b,
        OVERLAPCLIP_GUI_PARAMS=json.dumps(params),
    )


def test_the_dialog_estimates_the_shift_and_draws_its_windows_as_arrows(profile, tmp_path):
    # Two real Sentinel-2 dates, misregistered: the dialog finds AROSICS's shift within 0.1 px.
    report = shift_desktop(profile, tmp_path, None, None, {"SHIFT": True}, pair=S2_PAIR)
    said = re.search(r"Shift of B against A: ([+-][0-9.]+), ([+-][0-9.]+) pixels \(([0-9.]+) m\)", report["log"])
    assert said, report["log"]
    assert (float(said[1]), float(said[2])) == pytest.approx(S2_AROSICS_PX, abs=0.1)
    assert "windows.gpkg" in report["layers"]
    # The arrows are drawn over clipped A, in their blue.
    arrows = drawing(tmp_path, "arrows")
    blue = (abs(arrows - np.array([31, 120, 180])) <= 12).all(axis=2)
    assert blue.sum() > 25 * 20, int(blue.sum())
    if os.environ.get("OVERLAPCLIP_UPDATE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "arrows.png", SHIFT_ARROWS)


def test_the_dialog_says_why_a_shift_is_not_estimated(profile, tmp_path):
    report = shift_desktop(profile, tmp_path, 0.5, 0.5, {"SHIFT": True}, other_seed=7)
    assert "Shift of B against A not estimated: The rasters' content does not match" in report["log"], report["log"]
    assert "Shift of B against A: " not in report["log"]


def test_the_dialog_corrects_the_shift_so_that_a_second_estimate_is_near_zero(profile, tmp_path):
    report = shift_desktop(profile, tmp_path, 1.3, -0.7, {"COREGISTER": True, "RESAMPLING": 2})
    assert re.search(r"B was moved by -1\.[23]\d, \+0\.[67]\d pixels before its grid was planned\.", report["log"]), (
        report["log"]
    )
    outputs = [str(tmp_path / "a_common.tif"), str(tmp_path / "b_common.tif")]
    again = run_clip(outputs, [str(tmp_path / "again_a.tif"), str(tmp_path / "again_b.tif")], shift="estimate")
    residual = again.shifts[1]
    assert residual.reliable and abs(residual.dx_px) <= 0.1 and abs(residual.dy_px) <= 0.1, residual


def _box(report, image):
    """The part of ``image`` (height x width x RGB) where the clipped raster was drawn, a pixel in from its edges."""
    left, top, right, bottom = report["raster_box"]
    return image[int(np.ceil(top)) + 1 : int(bottom) - 1, int(np.ceil(left)) + 1 : int(right) - 1]


def _on(box, array):
    """``array`` (the raster's rows x columns) at each pixel of ``box``, by nearest neighbour."""
    rows = (np.arange(box.shape[0]) + 0.5) * array.shape[0] / box.shape[0]
    cols = (np.arange(box.shape[1]) + 0.5) * array.shape[1] / box.shape[1]
    return array[rows.astype(int)[:, None], cols.astype(int)[None, :]]


def _png(path, image):
    """Write ``image`` (height x width x RGB, 0-255) as a PNG."""
    memory = gdal.GetDriverByName("MEM").Create("", image.shape[1], image.shape[0], 3, gdal.GDT_Byte)
    for band in range(3):
        memory.GetRasterBand(band + 1).WriteArray(image[:, :, band].astype(np.uint8))
    gdal.GetDriverByName("PNG").CreateCopy(str(path), memory)


def test_the_change_map_dialog_draws_change_in_red_over_the_clipped_pair(profile, tmp_path):
    """Real Landsat content with planted change (a new block, a cleared field, a water level that rose), mapped
    through overlapclip:changemap's dialog: change drawn in red over clipped B, no change transparent."""
    from test_change import planted, write_dates

    before, after, _ = planted(bands=1)
    a, b = write_dates(tmp_path, before, after, names=("landsat_2020.tif", "landsat_2024.tif"))
    report = run_desktop(profile, "gui_change_session.py", tmp_path, OVERLAPCLIP_GUI_A=a, OVERLAPCLIP_GUI_B=b)
    assert report["dialog"] and "Change map of two dates" in report["dialog"], report
    labels = read_array(tmp_path / "change.tif")[0]
    said = f"Changed: {int((labels == 1).sum())} of {int((labels != 255).sum())} pixels compared"
    assert said in report["log"], report["log"]
    assert report["renderers"] == {
        "a_common.tif": "singlebandgray",
        "b_common.tif": "singlebandgray",
        "change.tif": "paletted",
    }
    order = report["tree_files"]
    assert order.index("change.tif") < min(order.index("a_common.tif"), order.index("b_common.tif"))
    assert report["layers"]["change.tif"]["name"] == "Change (landsat_2020 to landsat_2024)"
    before_png, after_png, change_png = (
        _box(report, drawing(tmp_path, name)) for name in ("before", "after", "change")
    )
    # Compared away from the edges between classes, where a canvas pixel may take either raster pixel.
    padded = np.pad(labels, 1, mode="edge")
    uniform = np.ones(labels.shape, dtype=bool)
    for dy in range(3):
        for dx in range(3):
            uniform &= padded[dy : dy + labels.shape[0], dx : dx + labels.shape[1]] == labels
    expected = _on(change_png, np.where(uniform, labels, 254))
    red = (change_png[..., 0] > 180) & (change_png[..., 1] < 80) & (change_png[..., 2] < 80)
    # QGIS 3.40 and 3.44 draw 98.6% of it in the pure red (3.22: over 99%), the rest blended at pixel corners.
    assert red[expected == 1].mean() > 0.97 and red[expected == 0].mean() < 0.005
    # No change is transparent: clipped B shows through as it was drawn alone, on one stretch with A.
    same = (abs(change_png - after_png) <= 3).all(axis=2)
    assert same[expected == 0].mean() > 0.99
    assert report["layers"]["a_common.tif"]["stretch"] == report["layers"]["b_common.tif"]["stretch"] != []
    if os.environ.get("OVERLAPCLIP_UPDATE_SCREENSHOT"):
        gap = np.full((before_png.shape[0], 8, 3), 255)
        _png(CHANGE_MAP, np.concatenate([before_png, gap, after_png, gap, change_png], axis=1))
