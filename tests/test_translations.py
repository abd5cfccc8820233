"""Every user-facing string is translated to Simplified Chinese, and QGIS's locale picks it up."""

import os
import re

import pytest
from commands import qgis_process
from language import english_fragments, untranslated
from qgis.PyQt.QtCore import QTranslator
from rasters import A_TRANSFORM, make_raster
from translations import CONTEXT, messages, qm_path, read_ts, ts_path

from overlap_clip_plugin.plugin import translation_file


def test_every_user_facing_string_has_a_chinese_translation():
    sources = messages()
    assert len(sources) > 80
    translated = read_ts(ts_path("zh_CN"))
    missing = [source for source in sources if not translated.get(source)]
    assert missing == [], "run `make translations` and translate these"
    for source in sources:
        # Placeholders survive translation, or the message could not be filled in.
        assert sorted(re.findall(r"\{[^}]*\}", source)) == sorted(re.findall(r"\{[^}]*\}", translated[source])), source


def test_compiled_translation_matches_its_source():
    translator = QTranslator()
    assert translator.load(qm_path("zh_CN"))
    for source, translation in read_ts(ts_path("zh_CN")).items():
        assert translator.translate(CONTEXT, source) == translation, source


@pytest.mark.parametrize(
    ("locales", "expected"),
    [
        (["zh-Hans"], "zh_CN"),
        (["zh_CN"], "zh_CN"),
        (["zh"], "zh_CN"),
        (["", "zh_CN"], "zh_CN"),
        (["zh-Hant"], None),
        (["zh_TW"], None),
        (["en"], None),
        (["de_DE"], None),
    ],
)
def test_translation_file_follows_the_locale(locales, expected):
    path = translation_file(locales)
    assert (os.path.basename(path) if path else None) == (f"overlap_clip_plugin_{expected}.qm" if expected else None)


def test_qgis_in_chinese_shows_the_translated_algorithm(chinese_profile):
    run = qgis_process(chinese_profile, "help", "overlapclip:clippair")
    assert run.returncode == 0, run.stderr
    assert "将栅格对裁剪到公共区域" in run.stdout
    assert "栅格 A" in run.stdout and "输出网格" in run.stdout and "各栅格自身的网格" in run.stdout
    listed = qgis_process(chinese_profile, "list")
    assert "将栅格序列裁剪到公共区域" in listed.stdout


def test_qgis_in_chinese_explains_errors_in_chinese(chinese_profile, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 10, 10)
    b = make_raster(tmp_path / "b.tif", (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    run = qgis_process(
        chinese_profile,
        "run",
        "overlapclip:clippair",
        "--",
        f"INPUT_A={a}",
        f"INPUT_B={b}",
        f"OUTPUT_A={tmp_path / 'x.tif'}",
        f"OUTPUT_B={tmp_path / 'y.tif'}",
    )
    assert run.returncode != 0
    assert "这些栅格不重叠：'a.tif' 在 EPSG:32633 中覆盖 [500000, 4999900 : 500100, 5000000]" in run.stdout + run.stderr
    assert not (tmp_path / "x.tif").exists()


def test_the_fragment_check_finds_english_inside_a_chinese_sentence():
    assert english_fragments("这些栅格不重叠：'a.tif' covers [1, 2 : 3, 4] in EPSG:32633") == ["covers", "in"]
    assert english_fragments("输出 A：10 x 10 像素（100 m x 100 m），从 'a b.tif' 复制，EPSG:4326，AREA=1") == []
    # The plugin's lines are told from QGIS's: English and Chinese ones of its own, and lines of QGIS.
    english = "Output A: nodata (0) where any raster has no valid data."
    chinese = "输出 A：在任一栅格无有效数据处设为无数据（0）。"
    assert untranslated([english, chinese, "Execution completed in 0.52 seconds"]) == ([english], 2)


@pytest.fixture
def in_chinese(provider):
    """The plugin's Simplified Chinese translation installed in this process, as QGIS installs it."""
    from qgis.PyQt.QtCore import QCoreApplication

    translator = QTranslator()
    assert translator.load(qm_path("zh_CN"))
    QCoreApplication.installTranslator(translator)
    yield
    QCoreApplication.removeTranslator(translator)


def said_in_chinese(algorithm, params):
    """Everything ``algorithm`` says through processing.run, error included, one message a line."""
    import processing
    from feedback import RecordingFeedback
    from qgis.core import QgsProcessingException

    feedback = RecordingFeedback()
    try:
        processing.run(
            algorithm, {k: str(v) if not isinstance(v, list) else v for k, v in params.items()}, feedback=feedback
        )
        error = None
    except QgsProcessingException as err:
        # processing.run's own first line ("Unable to execute algorithm") is QGIS's, not the plugin's.
        error = "\n".join(line for line in str(err).splitlines() if line != "Unable to execute algorithm")
    # processing.run's own summary of the results is QGIS's, not the plugin's.
    return error, [line for line in feedback.messages if not line.startswith("Results: ")]


def assert_all_chinese(lines):
    assert lines
    for line in lines:
        assert re.search(r"[\u4e00-\u9fff]", line), line
        assert english_fragments(line) == [], line


@pytest.mark.parametrize("case", sorted(__import__("test_bad_input").ERRORS))
def test_every_error_reads_in_chinese(in_chinese, case, tmp_path):
    from test_bad_input import ERRORS

    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    out.mkdir()
    a, b, out_a, out_b = ERRORS[case][0](inputs, out)
    error, messages = said_in_chinese(
        "overlapclip:clippair", {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": out_a, "OUTPUT_B": out_b}
    )
    assert error is not None
    assert_all_chinese([error, *messages])


def log_cases(folder):
    """Runs that together say every kind of log line: resampled and copied outputs, the valid-data area
    with its mask and uncounted shares, own grids, rasters without CRS, one raster twice, a rotated
    raster, a stack."""
    from rasters import sample_pair
    from test_bad_input import _a, _b
    from test_georeference import north_up_scene, rotated

    a, b = sample_pair(folder)
    pair = {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": folder / "a1.tif", "OUTPUT_B": folder / "b1.tif"}
    bare = folder / "bare"
    bare.mkdir()
    yield "overlapclip:clippair", dict(pair, RESAMPLING=1)
    yield "overlapclip:clippair", dict(pair, AREA=1, MASK_COMMON=True, GRID=1)
    yield "overlapclip:clippair", dict(pair, GRID=2)
    yield (
        "overlapclip:clippair",
        {
            "INPUT_A": _a(bare, epsg=None),
            "INPUT_B": _b(bare, epsg=None),
            "OUTPUT_A": folder / "a2.tif",
            "OUTPUT_B": folder / "b2.tif",
        },
    )
    yield (
        "overlapclip:clippair",
        {"INPUT_A": a, "INPUT_B": a, "OUTPUT_A": folder / "a3.tif", "OUTPUT_B": folder / "b3.tif"},
    )
    yield (
        "overlapclip:clippair",
        {
            "INPUT_A": north_up_scene(folder),
            "INPUT_B": rotated(folder),
            "OUTPUT_A": folder / "a4.tif",
            "OUTPUT_B": folder / "b4.tif",
        },
    )
    yield "overlapclip:clipstack", {"INPUTS": [a, b, a], "AREA": 1, "OUTPUT_FOLDER": folder / "stack"}


def test_every_log_line_reads_in_chinese(in_chinese, tmp_path):
    seen = 0
    for algorithm, params in log_cases(tmp_path):
        error, messages = said_in_chinese(algorithm, params)
        assert error is None, error
        assert_all_chinese(messages)
        seen += len(messages)
    assert seen > 20


def test_clipstack_errors_read_in_chinese(in_chinese, tmp_path):
    from test_bad_input import _a, _b

    a, b = _a(tmp_path), _b(tmp_path)
    far = make_raster(tmp_path / "far.tif", (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    for params in (
        {"INPUTS": [a, b], "REFERENCE": 3},
        {"INPUTS": [a, b, far]},
    ):
        error, messages = said_in_chinese("overlapclip:clipstack", dict(params, OUTPUT_FOLDER=tmp_path / "out"))
        assert error is not None
        assert_all_chinese([error, *messages])
