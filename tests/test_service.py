"""The web service (issue 23) as its clients use it: pygeoapi started as `make serve` starts it, over real HTTP
on 127.0.0.1; OWSLib's OGC API - Processes client lists the processes and runs them synchronously and as
jobs; every output is compared with the core's own run on the same files, byte for byte; and each attack
is refused with nothing read or written outside its job."""

from __future__ import annotations

import base64
import contextlib
import datetime
import html
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import requests
from conftest import ROOT
from osgeo import gdal, ogr, osr
from owslib.ogcapi.processes import Processes

from overlap_clip_plugin.core.change import ChangeRequest, ChangeSettings
from overlap_clip_plugin.core.run import run_clip
from overlap_clip_plugin.service.processes import STOPPED
from overlap_clip_plugin.service.quicklook import outline, quicklooks

DATA = os.path.join(ROOT, "tests", "data")
#: Two real Sentinel-2 dates of one place (tests/data/s2_t33uuu.txt), 1.6 px apart.
PAIR = (os.path.join(DATA, "s2_t33uuu_20160608.tif"), os.path.join(DATA, "s2_t33uuu_20160529.tif"))
#: The test services' upload limit: the pair fits, three times it does not.
LIMIT = 2_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """The service in a process of its own, started by ``command`` (``python -m overlap_clip_plugin.service``
    unless given) and stopped as Ctrl-C stops it."""

    def __init__(self, folder, *options, command=None, port=None):
        self.port = port or free_port()
        self.folder = str(folder)
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.url}/api"
        command = command or [sys.executable, "-m", "overlap_clip_plugin.service", "--folder", self.folder]
        self.log = open(os.path.join(os.path.dirname(self.folder), f"service-{self.port}.log"), "w")
        self.process = subprocess.Popen(
            [*command, *([] if "make" in command[0] else ["--port", str(self.port), *options])],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait()

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait(self) -> None:
        """Until the service answers (at most two minutes); fails at once if it stopped."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.alive(), f"the service stopped before it answered: {self.output()}"
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{self.api}/processes", timeout=5).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"the service did not start: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        with open(self.log.name, encoding="utf-8") as text:
            return text.read()

    def stop(self) -> None:
        # SIGTERM, as podman or systemd stop it (a process started in the background may ignore SIGINT).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()

    def upload(self, path, name=None, form=False):
        with open(path, "rb") as data:
            if form:
                return requests.post(f"{self.url}/uploads", files={"file": (name or os.path.basename(path), data)})
            return requests.post(
                f"{self.url}/uploads", data=data, headers={"X-Filename": name or os.path.basename(path)}
            )

    def href(self, path, form=False):
        answer = self.upload(path, form=form)
        assert answer.status_code == 201, answer.text
        return {"href": answer.json()["href"]}

    def execute(self, process, inputs, prefer=None, **extra):
        headers = {"Prefer": prefer} if prefer else {}
        return requests.post(
            f"{self.api}/processes/{process}/execution", json={"inputs": inputs, **extra}, headers=headers, timeout=120
        )

    def files(self) -> set[str]:
        """Every file under the service's folder, relative to it, but pygeoapi's own records."""
        found = set()
        for top, _, names in os.walk(self.folder):
            for name in names:
                relative = os.path.relpath(os.path.join(top, name), self.folder)
                if not relative.startswith(("jobs.db", "results", "pygeoapi.yml", "openapi.yml")):
                    found.add(relative)
        return found


class Files(ThreadingHTTPServer):
    """Serves ``folder`` on 127.0.0.1, each path it is asked for recorded; ``.../redirect/<path>`` redirects
    to ``/<path>``."""

    def __init__(self, folder):
        self.asked: list[str] = []
        files = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                files.asked.append(self.path)
                if "/redirect/" in self.path:
                    self.send_response(302)
                    self.send_header("Location", self.path.split("/redirect", 1)[1])
                    self.end_headers()
                    return
                path = os.path.join(folder, self.path.lstrip("/"))
                if not os.path.isfile(path):
                    self.send_error(404)
                    return
                with open(path, "rb") as data:
                    body = data.read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    folder = tmp_path_factory.mktemp("remote")
    for part in ("allowed", "other"):
        os.makedirs(folder / part)
        for path in PAIR:
            shutil.copy(path, folder / part / os.path.basename(path))
    server = Files(str(folder))
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def service(tmp_path_factory, remote):
    """A service as `make serve` starts it, with a small upload limit, and URLs allowed under one prefix but
    (as by default) not at loopback addresses."""
    running = Service(
        tmp_path_factory.mktemp("service") / "folder",
        "--max-upload",
        str(LIMIT),
        "--allow-url",
        f"{remote.url}/allowed/",
    )
    yield running
    running.stop()


def core_run(tmp_path, inputs, names, **options):
    """The core's own run on the same files: the outputs' bytes by name, and its result."""
    outputs = [str(tmp_path / f"{name}.tif") for name in names]
    result = run_clip(list(inputs), outputs, overlap="polygon", **options)
    return {name: open(path, "rb").read() for name, path in zip(names, outputs)}, result


def fetched(url) -> bytes:
    answer = requests.get(url, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.content


def test_owslib_lists_the_processes_and_their_inputs(service):
    client = Processes(service.api)
    assert {process["id"] for process in client.processes()} == {"overlap-clip", "overlap-stack", "change-map"}
    pair = client.process("overlap-clip")
    assert set(pair["inputs"]) == {"a", "b", "grid", "area", "mask", "resampling", "shift"}
    assert pair["inputs"]["area"]["schema"]["enum"] == ["extents", "valid"]
    assert set(pair["jobControlOptions"]) == {"sync-execute", "async-execute"}
    assert set(client.process("change-map")["inputs"]) >= {"a", "b", "method", "bands", "threshold"}


def test_a_pair_runs_synchronously_and_its_outputs_are_the_cores(service, tmp_path):
    # One upload as the request's body, one as a form: both kept under tokens.
    inputs = {"a": service.href(PAIR[0]), "b": service.href(PAIR[1], form=True), "area": "valid"}
    client = Processes(service.api)
    document = client.execute("overlap-clip", inputs)
    assert client.response_headers["Preference-Applied"] == "wait"
    answer = document["outputs"][0]
    expected, result = core_run(tmp_path, PAIR, ["a", "b"], area="valid", shift="estimate")
    for output in answer["outputs"]:
        assert fetched(output["href"]) == expected[output["name"]]
    overlap = answer["overlap"]
    assert (overlap["width"], overlap["height"]) == (result.overlap.width, result.overlap.height)
    assert overlap["percents"] == pytest.approx(list(result.overlap.percents))
    geojson = json.loads(fetched(overlap["href"]))
    ring = np.array(geojson["features"][0]["geometry"]["coordinates"][0])
    # The overlap in WGS 84 longitude, latitude: here (both dates valid throughout) the clipped raster's
    # footprint, as GDAL's own gdalinfo gives it.
    corners = np.array(gdal.Info(str(tmp_path / "a.tif"), format="json")["wgs84Extent"]["coordinates"][0])
    assert 52.7 < ring[:, 1].mean() < 52.8 and sorted(map(tuple, ring[:-1].round(7))) == sorted(
        map(tuple, corners[:-1].round(7))
    )
    shift = answer["shift"][1]
    estimate = result.shifts[1]
    assert shift["reliable"] and (shift["dx_px"], shift["dy_px"]) == (estimate.dx_px, estimate.dy_px)
    # The quick-looks: inputs and outputs, four bands (transparent where invalid), at most 512 px a side.
    assert [preview["name"] for preview in answer["previews"]] == ["input_a", "input_b", "a", "b"]
    for preview in answer["previews"]:
        png = tmp_path / f"{preview['name']}.png"
        png.write_bytes(fetched(preview["href"]))
        dataset = gdal.Open(str(png))
        assert dataset.GetDriver().ShortName == "PNG" and dataset.RasterCount == 4
        assert max(dataset.RasterXSize, dataset.RasterYSize) <= 512
    with zipfile.ZipFile(io.BytesIO(fetched(answer["archive"]["href"]))) as archive:
        assert sorted(archive.namelist()) == ["a.tif", "b.tif", "overlap.geojson"]
        assert archive.read("a.tif") == expected["a"] and archive.read("b.tif") == expected["b"]


@pytest.mark.parametrize("crs", ["same", "EPSG:4326"])
def test_the_outline_is_the_overlap_on_each_raster(tmp_path, crs):
    expected, result = core_run(tmp_path, PAIR, ["a", "b"], area="valid")
    polygon, wkt = result.overlap.polygon_wkt, result.overlap.crs.wkt
    raster = str(tmp_path / "a.tif")
    if crs != "same":
        raster = str(tmp_path / "a_4326.tif")
        gdal.Warp(raster, str(tmp_path / "a.tif"), dstSRS=crs)
    rings = outline(raster, polygon, wkt)
    # The reference: the polygon densified, in the raster's CRS, each vertex through its inverse geotransform.
    geometry = ogr.CreateGeometryFromWkt(polygon)
    geometry.Segmentize(100.0)
    source, target = osr.SpatialReference(), osr.SpatialReference()
    source.ImportFromWkt(wkt)
    target.ImportFromWkt(gdal.Open(raster).GetProjection())
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    geometry.Transform(osr.CoordinateTransformation(source, target))
    dataset = gdal.Open(raster)
    inverse = gdal.InvGeoTransform(dataset.GetGeoTransform())
    ring = geometry.GetGeometryRef(0)
    reference = np.array(
        [gdal.ApplyGeoTransform(inverse, *ring.GetPoint_2D(i)) for i in range(ring.GetPointCount())]
    ) / [dataset.RasterXSize, dataset.RasterYSize]
    drawn = np.array(rings[0])
    # Few vertices (a quick-look's tenth of a pixel), each on the overlap's outline, the whole of it spanned.
    assert len(rings) == 1 and 4 < len(drawn) <= 64
    nearest = np.abs(drawn[:, None, :] - reference[None, :, :]).max(axis=2).min(axis=1)
    assert nearest.max() < 0.2 / 512, nearest.max()
    assert np.allclose(drawn.min(axis=0), reference.min(axis=0), atol=1e-3)
    assert np.allclose(drawn.max(axis=0), reference.max(axis=0), atol=1e-3)
    if crs == "same":
        # The clipped raster is the overlap (both dates valid throughout): its outline is the raster's frame.
        assert np.allclose(drawn.min(axis=0), 0, atol=1e-6) and np.allclose(drawn.max(axis=0), 1, atol=1e-6)


def test_quick_looks_and_zip_are_made_on_first_request_from_the_kept_inputs(service, tmp_path):
    upload = service.href(PAIR[0])
    answer = service.execute("overlap-clip", {"a": upload, "b": service.href(PAIR[1]), "shift": False}).json()
    job = answer["outputs"][0]["href"].split("/")[-2]
    results = os.path.join(service.folder, "jobs", job, "out")
    # The job made the rasters and the overlap; nothing a client did not ask for.
    assert sorted(os.listdir(results)) == ["a.tif", "b.tif", "overlap.geojson"]
    # The upload may go (it expires on its own clock): the job keeps its inputs for their quick-looks.
    os.remove(os.path.join(service.folder, "uploads", upload["href"].rsplit("/", 1)[-1]))
    first = {preview["name"]: fetched(preview["href"]) for preview in answer["previews"][:1]}
    # One request drew every quick-look, on one stretch: the same as the module draws from the same rasters.
    assert sorted(os.listdir(results)) == sorted(
        ["a.tif", "b.tif", "overlap.geojson", "input_a.png", "input_b.png", "a.png", "b.png"]
    )
    expected, _ = core_run(tmp_path, PAIR, ["a", "b"])
    drawn = [str(tmp_path / f"{name}.png") for name in ("input_a", "input_b", "a", "b")]
    quicklooks([PAIR[0], PAIR[1], str(tmp_path / "a.tif"), str(tmp_path / "b.tif")], drawn)
    served = {preview["name"]: fetched(preview["href"]) for preview in answer["previews"]}
    assert served["input_a"] == first["input_a"]
    for name, path in zip(("input_a", "input_b", "a", "b"), drawn):
        gdal.FileFromMemBuffer(f"/vsimem/{name}.png", served[name])
        try:
            assert np.array_equal(gdal.Open(f"/vsimem/{name}.png").ReadAsArray(), gdal.Open(path).ReadAsArray()), name
        finally:
            gdal.Unlink(f"/vsimem/{name}.png")
    with zipfile.ZipFile(io.BytesIO(fetched(answer["archive"]["href"]))) as archive:
        assert archive.read("a.tif") == expected["a"] and archive.read("b.tif") == expected["b"]
    assert "outputs.zip" in os.listdir(results) and "drawing" not in os.listdir(os.path.dirname(results))


def test_a_stack_runs_as_a_job_whose_progress_is_polled(service, tmp_path):
    third = str(tmp_path / "third.tif")
    gdal.Translate(third, PAIR[1], srcWin=[100, 50, 500, 600])
    inputs = {"rasters": [service.href(path) for path in (*PAIR, third)], "reference": 2, "shift": False}
    client = Processes(service.api)
    # pygeoapi 0.21 answers an empty body, 0.22 and later the job's status: accepted.
    assert client.execute("overlap-stack", inputs, async_=True).get("status", "accepted") == "accepted"
    assert client.response_headers["Preference-Applied"] == "respond-async"
    job = client.response_headers["Location"]
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = requests.get(job, timeout=30).json()
        seen.append((status["status"], status.get("progress")))
        if status["status"] in ("successful", "failed"):
            break
        time.sleep(0.05)
    assert seen[-1] == ("successful", 100), seen
    # OWSLib asks for a document: pygeoapi's list of the process's outputs, here its one.
    document = requests.get(f"{job}/results?f=json", timeout=30).json()["outputs"][0]
    expected, _ = core_run(tmp_path, (*PAIR, third), ["raster_1", "raster_2", "raster_3"], grid=1)
    assert [output["name"] for output in document["outputs"]] == ["raster_1", "raster_2", "raster_3"]
    for output in document["outputs"]:
        assert fetched(output["href"]) == expected[output["name"]]
    # Every output on the reference's grid, within the third raster's window.
    assert gdal.Open(str(tmp_path / "raster_1.tif")).RasterXSize == 500


def test_the_change_map_is_the_cores(service, tmp_path):
    inputs = {"a": service.href(PAIR[0]), "b": service.href(PAIR[1]), "method": "magnitude", "shift": False}
    answer = service.execute("change-map", inputs)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    change = tmp_path / "change.tif"
    expected, result = core_run(
        tmp_path,
        PAIR,
        ["a", "b"],
        change=ChangeRequest(str(change), ChangeSettings(method="magnitude"), str(tmp_path / "magnitude.tif")),
    )
    assert fetched(document["change"]["href"]) == change.read_bytes()
    assert fetched(document["change"]["magnitude"]) == (tmp_path / "magnitude.tif").read_bytes()
    found = result.change
    assert document["change"]["changed_pixels"] == found.changed and document["change"]["valid_pixels"] == found.valid
    assert document["change"]["threshold"] == pytest.approx(found.threshold)


@pytest.mark.parametrize(
    ("options", "sentence"),
    [
        ({"block_size": 4}, "The block size must be an odd number of pixels, 3 or more; 4 was given."),
        ({"components": 30}, "The number of principal components must be from 1 to 25"),
    ],
    ids=["even_block", "too_many_components"],
)
def test_change_options_that_cannot_work_are_refused_before_a_job(service, options, sentence):
    inputs = {"a": service.href(PAIR[0]), "b": service.href(PAIR[1])}
    before = service.files()
    jobs = os.listdir(os.path.join(service.folder, "jobs"))
    refused(service.execute("change-map", {**inputs, **options}, prefer="respond-async"), 400, sentence)
    assert service.files() == before and os.listdir(os.path.join(service.folder, "jobs")) == jobs


def test_an_inline_value_is_read_as_an_upload(service, tmp_path):
    with open(PAIR[1], "rb") as data:
        inline = {"value": base64.b64encode(data.read()).decode(), "mediaType": "image/tiff"}
    answer = service.execute("overlap-clip", {"a": service.href(PAIR[0]), "b": inline, "shift": False})
    assert answer.status_code == 200, answer.text
    expected, _ = core_run(tmp_path, PAIR, ["a", "b"])
    assert fetched(answer.json()["outputs"][1]["href"]) == expected["b"]


def refused(answer, status, sentence):
    assert answer.status_code == status, answer.text
    assert sentence in answer.json()["description"], answer.json()


@pytest.mark.parametrize(
    ("given", "sentence"),
    [
        ({"href": "/etc/passwd"}, "is not an http(s) URL"),
        ({"href": "file:///etc/hosts"}, "is not an http(s) URL"),
        ({"href": "/vsicurl/http://127.0.0.1/a.tif"}, "is not an http(s) URL"),
        ("/etc/passwd", "must be an object with an 'href'"),
        ({"href": "https://example.org/a.tif"}, "outside its allow-list"),
        ({"value": "not base64!"}, "is not valid base64"),
    ],
    ids=["server_path", "file_url", "vsicurl", "plain_string", "not_allowed", "bad_base64"],
)
def test_what_is_no_upload_or_allowed_url_is_refused(service, given, sentence):
    before = service.files()
    answer = service.execute("overlap-clip", {"a": given, "b": given})
    refused(answer, 400, sentence)
    assert service.files() == before


def test_an_allowed_url_at_a_loopback_address_is_refused_unread(service, remote):
    before, asked = service.files(), len(remote.asked)
    url = f"{remote.url}/allowed/{os.path.basename(PAIR[0])}"
    refused(service.execute("overlap-clip", {"a": {"href": url}, "b": {"href": url}}), 400, "a loopback, private")
    # GDAL's own /vsicurl/ to the same server: a name, not a URL, and never passed to GDAL.
    refused(service.execute("overlap-clip", {"a": {"href": f"/vsicurl/{url}"}, "b": {"href": url}}), 400, "http(s)")
    assert len(remote.asked) == asked and service.files() == before


def test_an_upload_name_is_never_a_path(service, tmp_path):
    before = service.files()
    answer = service.upload(PAIR[0], name="../../../../tmp/overlapclip-escape.tif")
    assert answer.status_code == 201
    token = answer.json()["href"].rsplit("/", 1)[1]
    assert service.files() - before == {f"uploads/{token}"}
    assert not os.path.exists("/tmp/overlapclip-escape.tif")
    assert not any("escape" in name for name in os.listdir(os.path.dirname(service.folder)))


def test_an_oversize_upload_is_a_413_and_leaves_nothing(service, tmp_path):
    big = tmp_path / "big.tif"
    gdal.Translate(str(big), PAIR[0], creationOptions=["COMPRESS=NONE"], width=1500, height=1500)
    assert os.path.getsize(big) > LIMIT
    before = service.files()
    for form in (False, True):
        refused(service.upload(big, form=form), 413, "larger than this service takes (2000000 bytes at most)")
    assert service.files() == before


def test_a_file_gdal_cannot_read_as_a_raster_is_a_400(service, tmp_path):
    text = tmp_path / "notes.tif"
    text.write_text("not a raster")
    # A VRT is a raster to GDAL, but it names other files (here a server path): refused as well.
    vrt = tmp_path / "pair.vrt"
    gdal.Translate(str(vrt), PAIR[0], format="VRT")
    assert "s2_t33uuu_20160608.tif" in vrt.read_text()
    before = service.files()
    for path, name in ((text, "notes.tif"), (vrt, "pair.vrt")):
        refused(service.upload(path), 400, f"'{name}' is not a raster this service reads")
    assert service.files() == before


def test_a_zip_is_no_input_however_it_is_named(service, tmp_path):
    # A bomb: 256 MB of zeros in a few hundred KB, beside a raster the service would read on its own. The
    # service takes no zip (GDAL is never given /vsizip/), so nothing of it is expanded, under either name.
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(PAIR[0], "a.tif")
        with archive.open("zeros.bin", "w", force_zip64=True) as zeros:
            for _ in range(256):
                zeros.write(bytes(1 << 20))
    assert os.path.getsize(bomb) < LIMIT
    before = service.files()
    for name in ("bomb.zip", "bomb.tif"):
        refused(service.upload(bomb, name=name), 400, f"'{name}' is not a raster this service reads")
    assert service.files() == before
    # Inline, as a value: refused the same, no job, nothing kept.
    other = service.href(PAIR[1])
    before = service.files()
    inline = {"value": base64.b64encode(bomb.read_bytes()).decode(), "mediaType": "application/zip"}
    refused(service.execute("overlap-clip", {"a": inline, "b": other}), 400, "is not a raster this service reads")
    assert service.files() == before


def test_one_jobs_id_reads_no_other_job(service):
    answer = service.execute("overlap-clip", {"a": service.href(PAIR[0]), "b": service.href(PAIR[1]), "shift": False})
    first = answer.json()["outputs"][0]["href"]
    job = first.split("/")[-2]
    # The job list shows nothing; a job is reached by its own id only.
    assert requests.get(f"{service.api}/jobs?f=json", timeout=10).json()["jobs"] == []
    other = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    for url in (
        first.replace(job, other),
        f"{service.url}/outputs/{job}/..%2F..%2Fuploads",
        f"{service.url}/outputs/{job}/../out/a.tif",
        f"{service.url}/outputs/{job[:-1]}/a.tif",
    ):
        assert requests.get(url, timeout=10).status_code == 404, url
    assert requests.get(f"{service.api}/jobs/{other}?f=json", timeout=10).status_code == 404


def test_a_subscriber_callback_is_refused(service, remote):
    asked = len(remote.asked)
    answer = service.execute(
        "overlap-clip",
        {"a": service.href(PAIR[0]), "b": service.href(PAIR[1])},
        subscriber={"successUri": f"{remote.url}/allowed/callback"},
    )
    refused(answer, 400, "This service makes no callbacks")
    assert len(remote.asked) == asked


def test_a_failed_job_leaves_nothing_to_download(service, tmp_path):
    far = tmp_path / "far.tif"
    gdal.Translate(str(far), PAIR[1], outputBounds=[0, 1000, 100, 0], srcWin=[0, 0, 10, 10])
    inputs = {"a": service.href(PAIR[0]), "b": service.href(far)}
    jobs = set(os.listdir(os.path.join(service.folder, "jobs")))
    answer = service.execute("overlap-clip", inputs, prefer="respond-async")
    assert answer.status_code == 201
    job = answer.headers["Location"]
    deadline = time.monotonic() + 60
    while (status := requests.get(job, timeout=10).json())["status"] not in ("successful", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status["status"] == "failed"
    assert "do not overlap" in status["message"], status
    assert set(os.listdir(os.path.join(service.folder, "jobs"))) == jobs
    assert requests.get(f"{service.url}/outputs/{job.rsplit('/', 1)[1]}/a.tif", timeout=10).status_code == 404


def test_allowed_urls_are_fetched_hop_by_hop(tmp_path, remote):
    running = Service(tmp_path / "folder", "--allow-url", f"{remote.url}/allowed/", "--allow-private")
    try:
        names = [os.path.basename(path) for path in PAIR]
        inputs = {"a": {"href": f"{remote.url}/allowed/{names[0]}"}, "b": {"href": f"{remote.url}/allowed/{names[1]}"}}
        # URLs' sizes are not known beforehand: without a preference they would run as a job.
        answer = running.execute("overlap-clip", {**inputs, "shift": False}, prefer="wait")
        assert answer.status_code == 200, answer.text
        expected, _ = core_run(tmp_path, PAIR, ["a", "b"])
        assert [fetched(output["href"]) for output in answer.json()["outputs"]] == [expected["a"], expected["b"]]
        # A redirect out of the allow-list is refused, and what it points at is never asked for.
        asked = len(remote.asked)
        inputs["b"] = {"href": f"{remote.url}/allowed/redirect/other/{names[1]}"}
        refused(running.execute("overlap-clip", inputs, prefer="wait"), 400, "outside its allow-list")
        # (The redirect itself lies under the allowed prefix: one request, no more.)
        assert [path for path in remote.asked[asked:] if "other" in path] == [f"/allowed/redirect/other/{names[1]}"]
        inputs["b"] = {"href": f"{remote.url}/allowed/missing.tif"}
        refused(running.execute("overlap-clip", inputs, prefer="wait"), 400, "the server answered 404")
        # The allow-list is no string prefix: dot segments, user names, another port are refused unread.
        port = int(remote.url.rsplit(":", 1)[1])
        asked = len(remote.asked)
        for href, sentence in (
            (f"{remote.url}/allowed/../other/{names[1]}", "a '.' or '..' segment"),
            (f"{remote.url}/allowed/%2e%2e/other/{names[1]}", "a '.' or '..' segment"),
            (f"http://user@127.0.0.1:{port}/allowed/{names[1]}", "holds a user name"),
            (f"http://127.0.0.1:{port + 1}/allowed/{names[1]}", "outside its allow-list"),
            (f"{remote.url}/allowedfoo/{names[1]}", "outside its allow-list"),
        ):
            refused(running.execute("overlap-clip", {**inputs, "b": {"href": href}}, prefer="wait"), 400, sentence)
        assert len(remote.asked) == asked
    finally:
        running.stop()


def test_make_serve_runs_one_job_for_owslib(tmp_path):
    # README's command, as a newcomer runs it (the matrix runs this in brand-new Debian roots).
    port = free_port()
    folder = tmp_path / "folder"
    make = ["make", "--no-print-directory", "serve", f"PORT={port}", f"SERVICE_FOLDER={folder}"]
    running = Service(folder, command=make, port=port)
    try:
        client = Processes(running.api)
        inputs = {"a": running.href(PAIR[0]), "b": running.href(PAIR[1]), "shift": False}
        answer = client.execute("overlap-clip", inputs)["outputs"][0]
        expected, _ = core_run(tmp_path, PAIR, ["a", "b"])
        assert fetched(answer["outputs"][0]["href"]) == expected["a"]
        assert f"{running.url}/api (processes)" in running.output()
    finally:
        running.stop()
    assert running.process.returncode is not None


def test_jobs_beyond_the_cap_queue_and_all_complete(tmp_path):
    running = Service(tmp_path / "folder", "--max-jobs", "1")
    try:
        # Each job about a second long (the valid area, masked, and the shift): without the cap they would overlap.
        inputs = {"a": running.href(PAIR[0]), "b": running.href(PAIR[1]), "area": "valid", "mask": True}
        jobs = [running.execute("overlap-clip", inputs, prefer="respond-async").headers["Location"] for _ in range(4)]
        seen, states = set(), {}
        deadline = time.monotonic() + 120
        while len([state for state in states.values() if state["status"] in ("successful", "failed")]) < len(jobs):
            assert time.monotonic() < deadline, states
            for job in jobs:
                states[job] = requests.get(job, timeout=10).json()
                seen.add(states[job]["message"])
        assert {state["status"] for state in states.values()} == {"successful"}
        assert "Queued: waiting for a free slot." in seen
    finally:
        running.stop()

    def moment(text):
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()

    # Each job got its slot (started) about when the one before it ended: at least half its run after that
    # one's start. Without the cap all four start within the few milliseconds their requests lie apart.
    # (pygeoapi records a job's end once it has written its document, when the next may have started.)
    spans = sorted((moment(state["started"]), moment(state["finished"])) for state in states.values())
    assert all(later[0] - earlier[0] > (earlier[1] - earlier[0]) / 2 for earlier, later in zip(spans, spans[1:])), spans


def test_jobs_and_uploads_older_than_keep_are_deleted(tmp_path):
    # Kept 2 seconds (the hours as a fraction), looked at every second.
    running = Service(tmp_path / "folder", "--keep", str(2 / 3600))
    try:
        inputs = {"a": running.href(PAIR[0]), "b": running.href(PAIR[1]), "shift": False}
        answer = running.execute("overlap-clip", inputs)
        output = answer.json()["outputs"][0]["href"]
        job = output.split("/")[-2]
        assert requests.get(output, timeout=10).status_code == 200
        deadline = time.monotonic() + 30
        while running.files() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert running.files() == set()
        assert requests.get(output, timeout=10).status_code == 404
        assert requests.get(f"{running.api}/jobs/{job}?f=json", timeout=10).status_code == 404
        refused(running.execute("overlap-clip", inputs), 400, "names no upload of this service (it may have expired)")
        # A failed job has no folder: its record goes all the same.
        far = tmp_path / "far.tif"
        gdal.Translate(str(far), PAIR[1], outputBounds=[0, 1000, 100, 0], srcWin=[0, 0, 10, 10])
        failing = {"a": running.href(PAIR[0]), "b": running.href(far)}
        job = running.execute("overlap-clip", failing, prefer="respond-async").headers["Location"]
        deadline = time.monotonic() + 30
        while requests.get(f"{job}?f=json", timeout=10).status_code != 404:
            assert time.monotonic() < deadline, requests.get(f"{job}?f=json", timeout=10).json()
            time.sleep(0.2)
    finally:
        running.stop()


def test_readmes_curl_example_runs_a_job(service, tmp_path):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as readme:
        text = readme.read()
    start = text.index("```sh\nhref() {")
    block = text[start + len("```sh\n") : text.index("```", start + 6)]
    shutil.copy(PAIR[0], tmp_path / "a.tif")
    shutil.copy(PAIR[1], tmp_path / "b.tif")
    script = block.replace("http://127.0.0.1:5000", service.url)
    answer = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    head = answer.stdout.replace("\r", "")
    assert head.startswith("HTTP/1.1 201"), head
    job = next(line.split(": ", 1)[1] for line in head.splitlines() if line.lower().startswith("location: "))
    deadline = time.monotonic() + 60
    while requests.get(f"{job}?f=json", timeout=10).json()["status"] != "successful":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    document = requests.get(f"{job}/results?f=json", timeout=10).json()
    expected, _ = core_run(tmp_path, PAIR, ["a", "b"], area="valid", shift="estimate")
    assert [fetched(output["href"]) for output in document["outputs"]] == [expected["a"], expected["b"]]


@pytest.mark.parametrize(
    "body",
    ["[1, 2]", '"x"', "5", "null", '{"inputs": {}, "subscriber": "x"}', '{"inputs": [1]}', "[" * 200_000],
    ids=["array", "string", "number", "null", "subscriber_string", "inputs_array", "nested"],
)
def test_a_malformed_execute_request_is_a_400(service, body):
    before = service.files()
    answer = requests.post(
        f"{service.api}/processes/overlap-clip/execution",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["description"]
    assert service.files() == before


@pytest.mark.parametrize("href", ["http://[::1", "http://example.org:99999/a.tif", "http://example.org:x/a.tif"])
def test_a_url_that_is_no_url_is_a_400(service, href):
    before = service.files()
    with open(PAIR[0], "rb") as data:
        inline = {"value": base64.b64encode(data.read()).decode()}
    refused(service.execute("overlap-clip", {"a": inline, "b": {"href": href}}), 400, "is not a URL this service")
    assert service.files() == before


def test_sentences_name_no_server_folder(service, tmp_path):
    # A PNG keeps no georeference of its own: the core's sentence names the raster, as the request did.
    png = tmp_path / "plain.png"
    gdal.Translate(str(png), PAIR[1], format="PNG", outputType=gdal.GDT_UInt16)
    os.remove(f"{png}.aux.xml")
    answer = service.execute("overlap-clip", {"a": service.href(PAIR[0]), "b": service.href(png)})
    assert answer.status_code == 400, answer.text
    # pygeoapi 0.22 and later escape the message as HTML ('>' as '&gt;').
    description = html.unescape(answer.json()["description"])
    assert description.endswith(
        "'b.tif' has no georeference at all: no geotransform, no ground control points and "
        "no RPCs, so its place on the ground is unknown; georeference it first (Raster > Georeferencer)."
    ), description
    assert service.folder not in description and "/jobs/" not in description, description


def test_a_small_file_declaring_billions_of_pixels_is_refused(service, tmp_path):
    bomb = tmp_path / "bomb.tif"
    dataset = gdal.GetDriverByName("GTiff").Create(
        str(bomb), 40000, 40000, 1, gdal.GDT_Byte, ["TILED=YES", "COMPRESS=DEFLATE", "SPARSE_OK=TRUE"]
    )
    dataset.SetGeoTransform((500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0))
    dataset = None
    assert os.path.getsize(bomb) < 200_000
    before = service.files()
    refused(service.upload(bomb), 413, "holds 40000 x 40000 pixels x 1 bands, more than this service clips")
    assert service.files() == before


def test_a_dismissed_job_stops_and_keeps_nothing(tmp_path):
    running = Service(tmp_path / "folder", "--max-jobs", "1")
    try:
        inputs = {"a": running.href(PAIR[0]), "b": running.href(PAIR[1]), "area": "valid", "mask": True}
        first, second = (
            running.execute("overlap-clip", inputs, prefer="respond-async").headers["Location"] for _ in range(2)
        )
        # The second waits for the first's slot; dismissed, it never runs and nothing of it appears.
        assert requests.delete(second, timeout=10).status_code == 200
        deadline = time.monotonic() + 60
        while requests.get(f"{first}?f=json", timeout=10).json()["status"] != "successful":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.0)
        job = second.rsplit("/", 1)[1]
        assert requests.get(f"{second}?f=json", timeout=10).status_code == 404
        assert requests.get(f"{running.url}/outputs/{job}/a.tif", timeout=10).status_code == 404
        assert not os.path.exists(os.path.join(running.folder, "jobs", job))
    finally:
        running.stop()


def test_jobs_a_stop_cuts_off_fail_and_keep_nothing(tmp_path):
    folder = tmp_path / "folder"
    running = Service(folder, "--max-jobs", "1")
    try:
        inputs = {"a": running.href(PAIR[0]), "b": running.href(PAIR[1]), "area": "valid", "mask": True}
        jobs = [running.execute("overlap-clip", inputs, prefer="respond-async").headers["Location"] for _ in range(3)]
        # Once one runs (whichever got the slot), the other two wait for it.
        deadline = time.monotonic() + 60
        while all(requests.get(f"{job}?f=json", timeout=10).json()["status"] == "accepted" for job in jobs):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        # As podman stop, systemd or kill stop it: the service exits at once, its jobs cancelled.
        stopped = time.monotonic()
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(30) == 0
        assert time.monotonic() - stopped < 15
    finally:
        running.stop()
    # Before any restart: the stop itself recorded the jobs it cut off as failed, and removed their files.
    with open(folder / "jobs.db", encoding="utf-8") as records:
        recorded = {job["identifier"]: job for job in json.load(records)["_default"].values()}
    stopped_jobs = [job.rsplit("/", 1)[1] for job in jobs if recorded[job.rsplit("/", 1)[1]]["status"] != "successful"]
    assert len(stopped_jobs) >= 2, recorded
    for job_id in stopped_jobs:
        assert recorded[job_id]["status"] == "failed" and STOPPED in recorded[job_id]["message"], recorded[job_id]
        assert not os.path.exists(folder / "jobs" / job_id)
    again = Service(folder, "--max-jobs", "1")
    try:
        # The same jobs, at the service started again (on another port).
        states = {
            job: requests.get(f"{again.api}/jobs/{job.rsplit('/', 1)[1]}?f=json", timeout=10).json() for job in jobs
        }
        cut = [job for job, state in states.items() if state["status"] != "successful"]
        # At least the two queued behind the first: failed with the stop's sentence, nothing of them kept.
        assert len(cut) >= 2, states
        for job in cut:
            assert states[job]["status"] == "failed" and STOPPED in states[job]["message"], states[job]
            job_id = job.rsplit("/", 1)[1]
            assert not os.path.exists(os.path.join(again.folder, "jobs", job_id))
            assert requests.get(f"{again.url}/outputs/{job_id}/a.tif", timeout=10).status_code == 404
        # The service works on after its restart.
        answer = again.execute("overlap-clip", {"a": again.href(PAIR[0]), "b": again.href(PAIR[1]), "shift": False})
        assert answer.status_code == 200, answer.text
    finally:
        again.stop()


def test_an_upload_that_expires_while_its_job_waits_fails_it_with_a_sentence(tmp_path):
    running = Service(tmp_path / "folder", "--max-jobs", "1")
    try:
        slow = {"a": running.href(PAIR[0]), "b": running.href(PAIR[1]), "area": "valid", "mask": True}
        running.execute("overlap-clip", slow, prefer="respond-async")
        upload = running.href(PAIR[0])
        waiting = running.execute("overlap-clip", {**slow, "a": upload}, prefer="respond-async").headers["Location"]
        # Gone (as expiry removes it) while the job waits behind the first for the one slot.
        os.remove(os.path.join(running.folder, "uploads", upload["href"].rsplit("/", 1)[1]))
        deadline = time.monotonic() + 60
        while (state := requests.get(f"{waiting}?f=json", timeout=10).json())["status"] not in ("successful", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert state["status"] == "failed", state
        assert "'a' names no upload of this service any more (uploads expire); upload it again." in state["message"]
        assert not os.path.exists(os.path.join(running.folder, "jobs", waiting.rsplit("/", 1)[1]))
    finally:
        running.stop()
