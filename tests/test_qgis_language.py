"""The plugin speaks the language QGIS shows, however QGIS was told it: here by its `--lang` option."""

import os
import shutil

import pytest
from conftest import set_profile_locale
from test_gui import run_desktop
from translations import read_ts, ts_path


@pytest.fixture
def english_profile(profile, tmp_path):
    """A copy of the suite's profile (the plugin installed and enabled) whose locale settings say English:
    no override of the system's locale, which is English."""
    config = tmp_path / "qgis-profile-en"
    shutil.copytree(profile["QGIS_CUSTOM_CONFIG_PATH"], config)
    set_profile_locale(config, override=False, locale="en_US")
    env = dict(profile, QGIS_CUSTOM_CONFIG_PATH=str(config), LANG="en_US.UTF-8")
    env.pop("LC_ALL", None)
    env.pop("LC_MESSAGES", None)
    return env


@pytest.fixture
def qgis_started_in(tmp_path, monkeypatch):
    """Make the desktop tests' `qgis` start as a user types `qgis --lang LANGUAGE ...`."""

    def started_in(language):
        real = shutil.which("qgis")
        assert real, "the QGIS desktop is not installed (`make test` installs qgis)"
        launcher = tmp_path / "bin" / "qgis"
        launcher.parent.mkdir()
        launcher.write_text(f'#!/bin/sh\nexec "{real}" --lang {language} "$@"\n', encoding="utf-8")
        launcher.chmod(0o755)
        monkeypatch.setenv("PATH", os.pathsep.join([str(launcher.parent), os.environ.get("PATH", "")]))

    return started_in


def test_qgis_started_with_lang_shows_the_plugin_in_that_language(english_profile, qgis_started_in, tmp_path):
    """`qgis --lang zh-Hans` on a profile that says English: QGIS's menus and the plugin's algorithms are
    Chinese, though the locales QGIS's settings and Qt name are English."""
    qgis_started_in("zh-Hans")
    report = run_desktop(english_profile, "gui_language_session.py", tmp_path)
    assert report["translation"] == "zh-Hans"
    # What the plugin used to follow says English: only QGIS's loaded translation says Chinese.
    assert not report["locale"].lower().startswith("zh") and not report["qt_locale"].lower().startswith("zh")
    assert "视图(&V)" in report["menus"], report["menus"]
    chinese = read_ts(ts_path("zh_CN"))
    assert report["algorithms"] == {
        "clippair": chinese["Clip raster pair to common area"],
        "clipstack": chinese["Clip raster stack to common area"],
    }
