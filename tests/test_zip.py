"""`make zip`: an archive the QGIS plugin repository accepts and QGIS installs."""

import configparser
import glob
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from commands import qgis_process
from conftest import QGIS_PROCESS, ROOT

REQUIRED = ("name", "qgisMinimumVersion", "description", "about", "version", "author", "email", "repository", "tracker")


@pytest.fixture(scope="module")
def archive():
    subprocess.run(["make", "-s", "-C", ROOT, "zip"], check=True, capture_output=True)
    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read(os.path.join(ROOT, "metadata.txt"), encoding="utf-8")
    path = os.path.join(ROOT, f"overlap_clip_plugin.{metadata['general']['version']}.zip")
    assert glob.glob(os.path.join(ROOT, "overlap_clip_plugin*.zip")) == [path]
    return path


def validate(path):
    """What qgis-manage's artifact validator (portal rules, strict: warnings count) says of a zip."""
    tool = shutil.which("qgis-manage", path=os.path.dirname(sys.executable))
    assert tool, "qgis-manage is not installed; `make test` installs it"
    command = [tool, "validate", "--zip", path, "--strict", "--repo", "--json"]
    run = subprocess.run(command, capture_output=True, text=True)
    return json.loads(run.stdout)


def test_the_plugin_repository_validator_accepts_the_zip(archive):
    verdict = validate(archive)
    assert verdict["errors"] == [] and verdict["warnings"] == [], verdict
    assert verdict["success"] is True
    assert verdict["data"]["root"] == "overlap_clip_plugin"


def test_the_validator_refuses_a_zip_that_breaks_the_rules(archive, tmp_path):
    """The validator can fail: the same zip with metadata.txt missing its version is refused."""
    broken = str(tmp_path / os.path.basename(archive))
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "overlap_clip_plugin/metadata.txt":
                data = b"\n".join(line for line in data.splitlines() if not line.startswith(b"version="))
            target.writestr(item, data)
    verdict = validate(broken)
    assert verdict["success"] is False
    assert any("version" in error.lower() for error in verdict["errors"]), verdict


def test_zip_meets_the_upload_rules(archive):
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        metadata = bundle.read("overlap_clip_plugin/metadata.txt").decode("utf-8")
    assert {name.split("/")[0] for name in names} == {"overlap_clip_plugin"}
    shipped = ("__init__.py", "metadata.txt", "LICENSE", "icon.png", "icon.svg", "i18n/overlap_clip_plugin_zh_CN.qm")
    for required in shipped:
        assert f"overlap_clip_plugin/{required}" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/.git" in n or "/tests/" in n]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(metadata)
    for field in REQUIRED:
        assert parser["general"].get(field, "").strip(), field
    assert f"overlap_clip_plugin/{parser['general']['icon']}" in names


def test_qgis_loads_the_unzipped_plugin_and_lists_its_algorithms(archive, tmp_path):
    if QGIS_PROCESS is None:
        pytest.skip("qgis_process is not installed; `make test` installs it")
    plugins = tmp_path / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(plugins)  # what Plugins > Install from ZIP does
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    enable = qgis_process(env, "plugins", "enable", "overlap_clip_plugin")
    assert enable.returncode == 0, enable.stdout + enable.stderr
    listed = qgis_process(env, "list")
    assert "overlapclip:clippair" in listed.stdout and "overlapclip:clipstack" in listed.stdout
