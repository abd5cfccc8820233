"""Every user-facing string is translated to Simplified Chinese, and QGIS's locale picks it up."""

import configparser
import os
import re
import subprocess

import pytest
from conftest import QGIS_PROCESS, ROOT
from qgis.PyQt.QtCore import QTranslator
from rasters import make_raster
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


@pytest.fixture(scope="module")
def chinese_profile(tmp_path_factory):
    """A QGIS profile with the plugin installed and QGIS's language set to Simplified Chinese."""
    if QGIS_PROCESS is None:
        pytest.skip("qgis_process is not installed; `make test` installs it")
    config = tmp_path_factory.mktemp("qgis-profile-zh")
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(config), QT_QPA_PLATFORM="offscreen", LANG="C.UTF-8")
    env.pop("LC_ALL", None)
    subprocess.run(["make", "-s", "-C", ROOT, "install"], env=env, check=True, capture_output=True)
    ini = config / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    settings = configparser.ConfigParser(interpolation=None)
    settings.optionxform = str
    settings.read(ini, encoding="utf-8")
    settings["locale"] = {"overrideFlag": "true", "userLocale": "zh-Hans"}
    with open(ini, "w", encoding="utf-8") as handle:
        settings.write(handle, space_around_delimiters=False)
    return env


def test_qgis_in_chinese_shows_the_translated_algorithm(chinese_profile):
    run = subprocess.run(
        [QGIS_PROCESS, "help", "overlapclip:clippair"], env=chinese_profile, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert "将栅格对裁剪到公共区域" in run.stdout
    assert "栅格 A" in run.stdout and "输出网格" in run.stdout and "各栅格自身的网格" in run.stdout
    listed = subprocess.run([QGIS_PROCESS, "list"], env=chinese_profile, capture_output=True, text=True)
    assert "将栅格序列裁剪到公共区域" in listed.stdout


def test_qgis_in_chinese_explains_errors_in_chinese(chinese_profile, tmp_path):
    a = make_raster(tmp_path / "a.tif", (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    b = make_raster(tmp_path / "b.tif", (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    run = subprocess.run(
        [
            QGIS_PROCESS,
            "run",
            "overlapclip:clippair",
            "--",
            f"INPUT_A={a}",
            f"INPUT_B={b}",
            f"OUTPUT_A={tmp_path / 'x.tif'}",
            f"OUTPUT_B={tmp_path / 'y.tif'}",
        ],
        env=chinese_profile,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "这些栅格不重叠：'a.tif' covers [500000, 4999900 : 500100, 5000000] in EPSG:32633" in run.stdout + run.stderr
    assert not (tmp_path / "x.tif").exists()
