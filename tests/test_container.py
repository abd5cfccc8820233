"""The service as an image (Containerfile), run with podman as a user runs it: the image's own command on a
port of the test's, the project's pair uploaded and clipped for OWSLib, output ``a`` byte-identical to the
core's run on the same files in this process; the image holds no QGIS, and a stop leaves no container.

It needs podman (as root here) and the image: ``make container-test`` builds it (``make container``) and names
it in ``OVERLAPCLIP_CONTAINER``; without that, as in ``make test`` and the matrix's roots, it is skipped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest
from conftest import ROOT
from osgeo import gdal
from owslib.ogcapi.processes import Processes
from test_service import PAIR, Service, core_run, fetched, free_port

IMAGE = os.environ.get("OVERLAPCLIP_CONTAINER", "")
if not IMAGE:
    pytest.skip(
        "OVERLAPCLIP_CONTAINER names no image: the service's image is tested with podman, as root, by "
        "`make container-test` (it builds localhost/overlap-clip:latest and names it there)",
        allow_module_level=True,
    )


def podman(*arguments: str, timeout: float = 120) -> str:
    done = subprocess.run(["podman", *arguments], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"podman {' '.join(arguments)}: {done.stderr.strip()}"
    return done.stdout.strip()


def exists(name: str) -> bool:
    return subprocess.run(["podman", "container", "exists", name], timeout=60).returncode == 0


class Container(Service):
    """The image's own command, on the host's network with another port, in a container removed when it
    stops; uploads and executions as :class:`test_service.Service` sends them."""

    def __init__(self, image: str):
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.api = f"{self.url}/api"
        self.name = f"overlap-clip-test-{os.getpid()}-{self.port}"
        command = json.loads(podman("image", "inspect", "--format", "{{json .Config.Cmd}}", image))
        command[command.index("--port") + 1] = str(self.port)
        podman("run", "-d", "--rm", "--network=host", "--name", self.name, image, *command)
        try:
            self.wait()
        except BaseException:
            self.remove()
            raise

    def alive(self) -> bool:
        return exists(self.name)

    def output(self) -> str:
        return podman("logs", self.name)

    def stop(self) -> None:
        podman("stop", "--time", "30", self.name)

    def remove(self) -> None:
        """Whatever state a failed test left the container in."""
        if exists(self.name):
            subprocess.run(["podman", "rm", "--force", self.name], capture_output=True, timeout=120)


def test_the_image_clips_a_pair_for_owslib_as_the_core_does_and_leaves_nothing(tmp_path):
    running = Container(IMAGE)
    try:
        volumes = podman("inspect", "--format", "{{range .Mounts}}{{.Name}} {{end}}", running.name).split()
        client = Processes(running.api)
        inputs = {"a": running.href(PAIR[0]), "b": running.href(PAIR[1]), "shift": False}
        answer = client.execute("overlap-clip", inputs)["outputs"][0]
        expected, _ = core_run(tmp_path, PAIR, ["a", "b"])
        assert [output["name"] for output in answer["outputs"]] == ["a", "b"]
        for output in answer["outputs"]:
            assert fetched(output["href"]) == expected[output["name"]]
        # The page's files are in the image too.
        assert "<html" in fetched(f"{running.url}/").decode("utf-8").lower()
        assert f"{running.url}/api (processes)" in running.output()
        started = time.monotonic()
        running.stop()
        # SIGTERM stops the service as Ctrl-C does, well before podman's 30 s would kill it.
        assert time.monotonic() - started < 20
    finally:
        running.remove()
    deadline = time.monotonic() + 30
    while exists(running.name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not exists(running.name)
    # The service's folder was the image's volume, anonymous: removed with the container.
    assert volumes and all(
        subprocess.run(["podman", "volume", "exists", volume], timeout=60).returncode == 1 for volume in volumes
    )


def test_the_image_holds_no_qgis_and_the_pinned_service_on_this_gdal():
    script = (
        "import importlib.util, os, osgeo.gdal, pygeoapi; "
        "print(importlib.util.find_spec('qgis') is None, os.getuid(), pygeoapi.__version__, osgeo.gdal.__version__)"
    )
    no_qgis, uid, pygeoapi, gdal_version = podman(
        "run", "--rm", "--network=none", IMAGE, "python", "-c", script
    ).split()
    assert no_qgis == "True"
    assert uid != "0"
    # The Makefile's pin for Python 3.11, the same as `make venv` installs.
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as makefile:
        pin = re.search(r"^PYGEOAPI_BEFORE_312 := pygeoapi==(\S+)$", makefile.read(), re.MULTILINE)
    assert pin and pygeoapi == pin.group(1)
    # The same GDAL as this process's: why the container's bytes can equal the core's here.
    assert gdal_version == gdal.__version__
