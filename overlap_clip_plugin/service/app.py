"""The service: pygeoapi's OGC API - Processes under ``/api``, with the routes it needs around it.

- ``POST /uploads``: a raster, as the request's body (its name in ``X-Filename``) or as the ``file`` field of
  a form; kept under an unguessable token once checked, answered ``{"href": ...}`` to give as an input.
  Larger than the service takes: 413; not a raster it reads: 400; each with one sentence.
- ``GET /outputs/<job id>/<name>``: a file of a job that succeeded (the job's id is its only key); its
  quick-looks and zip are made on their first request.
- ``GET /``: the page (``page/``), for people with a browser and no QGIS.

pygeoapi reads its configuration when its Flask module is imported: :func:`configure` writes it (and the
OpenAPI document) and points the environment at them, then :func:`create_app` imports it."""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import yaml

from overlap_clip_plugin.service.inputs import MAX_VALUES, TOKEN, Policy, RefusedInputError, store_upload
from overlap_clip_plugin.service.openapi import whole
from overlap_clip_plugin.service.processes import CHANGE, NO_CALLBACKS, PAIR, PROCESSES, RESULTS, STACK, derive

#: The page's files: index.html, page.js and page.css.
PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "page")
#: What a request about a job this service does not know is told.
NO_SUCH_JOB = "No such job: its id is unknown, or the job expired or was dismissed."
#: Bytes an upload may hold unless the service is told otherwise: 1 GiB.
MAX_BYTES = 1 << 30


@dataclass(frozen=True)
class Settings:
    """How the service runs (``python -m overlap_clip_plugin.service --help`` says each)."""

    folder: str
    host: str = "127.0.0.1"
    port: int = 5000
    public_url: str = ""
    max_bytes: int = MAX_BYTES
    max_jobs: int = 2
    keep: float = 24 * 3600.0
    sync_bytes: int = 64 << 20
    allow_urls: tuple[str, ...] = field(default=())
    allow_private: bool = False
    max_values: int = MAX_VALUES

    @property
    def root(self) -> str:
        """The service's URL as clients reach it."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def policy(self) -> Policy:
        """What the service reads."""
        return Policy(
            os.path.join(self.folder, "uploads"),
            self.max_bytes,
            self.root,
            self.allow_urls,
            self.allow_private,
            self.max_values,
        )


def config(settings: Settings) -> dict[str, Any]:
    """The service's configuration, as pygeoapi reads it."""
    processor = {
        "folder": settings.folder,
        "policy": {**dataclasses.asdict(settings.policy), "allow_urls": list(settings.allow_urls)},
        "max_jobs": settings.max_jobs,
    }
    return {
        "server": {
            "bind": {"host": settings.host, "port": settings.port},
            "url": settings.root,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "en-US",
            "cors": False,
            "pretty_print": True,
            "limit": 10,
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OpenStreetMap"},
            "api_rules": {"url_prefix": "api"},
            "manager": {
                "name": "overlap_clip_plugin.service.manager.JobManager",
                "connection": os.path.join(settings.folder, "jobs.db"),
                "output_dir": os.path.join(settings.folder, "results"),
                "folder": settings.folder,
                "sync_bytes": settings.sync_bytes,
            },
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "Overlap Clip",
                "description": "Clip rasters to the area they have in common, on one grid; map the change between "
                "two dates.",
                "keywords": ["raster", "clip", "overlap", "change detection"],
                "keywords_type": "theme",
                "terms_of_service": "https://www.gnu.org/licenses/gpl-2.0.html",
                "url": "https://github.com/",
            },
            "license": {"name": "GPL-2.0-or-later", "url": "https://www.gnu.org/licenses/gpl-2.0.html"},
            "provider": {"name": "Overlap Clip", "url": settings.root},
            "contact": {"name": "Overlap Clip", "position": "Maintainers", "email": "overlapclip@localhost"},
        },
        "resources": {
            identifier: {"type": "process", "processor": {"name": f"{kind.__module__}.{kind.__name__}", **processor}}
            for identifier, kind in PROCESSES.items()
        },
    }


def configure(settings: Settings) -> None:
    """Write pygeoapi's configuration and the OpenAPI document (whole: see :mod:`.openapi`) into the
    service's folder, and point ``PYGEOAPI_CONFIG`` and ``PYGEOAPI_OPENAPI`` at them."""
    os.makedirs(os.path.join(settings.folder, "results"), exist_ok=True)
    os.makedirs(os.path.join(settings.folder, "jobs"), exist_ok=True)
    path = os.path.join(settings.folder, "pygeoapi.yml")
    with open(path, "w", encoding="utf-8") as out:
        yaml.safe_dump(config(settings), out, allow_unicode=True)
    os.environ["PYGEOAPI_CONFIG"] = path
    from pygeoapi.openapi import get_oas

    described = {process["id"]: process for process in (PAIR, STACK, CHANGE)}
    document = whole(get_oas(config(settings)), settings.root, described)
    openapi = os.path.join(settings.folder, "openapi.yml")
    with open(openapi, "w", encoding="utf-8") as out:
        yaml.safe_dump(document, out, allow_unicode=True)
    os.environ["PYGEOAPI_OPENAPI"] = openapi


def _refusal(sentence: str, status: int) -> Any:
    from flask import jsonify

    response = jsonify({"type": "InvalidParameterValue", "code": "InvalidParameterValue", "description": sentence})
    response.status_code = status
    return response


def create_app(settings: Settings) -> Any:
    """The service's Flask application (pygeoapi's, with the routes above); :func:`configure` first."""
    from flask import request, send_file
    from pygeoapi import flask_app
    from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

    app = flask_app.APP
    # Room for a form's boundaries besides the upload itself; an upload's own limit is checked as it is read.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_bytes + (1 << 20)
    policy = settings.policy

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error: Exception) -> Any:
        return _refusal(f"The request is larger than this service takes ({settings.max_bytes} bytes at most).", 413)

    @app.errorhandler(HTTPException)
    def refused(error: HTTPException) -> Any:
        # Flask's own refusals (no such route, a method a route does not take) in the same JSON as the rest,
        # with their sentence, instead of an HTML page.
        response = _refusal(error.description or error.name, error.code or 500)
        # Its own headers (Allow of a 405, Content-Range of a 416), but not those of the page it replaces.
        for header, value in error.get_headers():
            if header.lower() not in ("content-type", "content-length"):
                response.headers[header] = value
        return response

    @app.after_request
    def job_refusal_says_why(response: Any) -> Any:
        # pygeoapi answers an unknown job with its id alone as the description (its headers are a plain dict
        # here, so the body is read as it is, JSON or not).
        if response.status_code == 404 and request.path.startswith("/api/jobs/"):
            try:
                body = json.loads(response.get_data())
            except ValueError:
                return response
            job_id = request.path.split("/")[3]
            # pygeoapi 0.22 and later give it HTML-escaped.
            if isinstance(body, dict) and body.get("description") in (job_id, html.escape(job_id)):
                body["description"] = NO_SUCH_JOB
                response.set_data(json.dumps(body))
        return response

    @app.before_request
    def checked_execution() -> Any:
        # pygeoapi takes any JSON for an execute request: an array, a string or a nested bomb gave a 500.
        if request.method != "POST" or not request.path.endswith("/execution"):
            return None
        try:
            body = json.loads(request.get_data() or b"null")
        except (ValueError, RecursionError):
            return _refusal("The request's body is no JSON object.", 400)
        if not isinstance(body, dict) or not isinstance(body.get("inputs", {}), dict):
            return _refusal("The request's body must be a JSON object, its 'inputs' an object of named inputs.", 400)
        if "subscriber" in body:
            return _refusal(NO_CALLBACKS, 400)
        return None

    @app.route("/uploads", methods=["POST"])
    def upload() -> Any:
        try:
            # A form only when it is one: reading the form of any other body would consume it.
            if request.mimetype == "multipart/form-data":
                given = request.files.get("file")
                if given is None:
                    return _refusal("Send the raster as the form's 'file' field.", 400)
                token = store_upload(given.stream, given.filename or "upload", policy)
            else:
                # The page sends the name percent-encoded: a header holds no other characters.
                name = urllib.parse.unquote(request.headers.get("X-Filename", "upload"))
                token = store_upload(request.stream, name, policy)
        except RefusedInputError as refused:
            return _refusal(str(refused), refused.status)
        return {"href": f"{settings.root}/uploads/{token}"}, 201

    @app.route("/")
    def page() -> Any:
        return send_file(os.path.join(PAGE, "index.html"), max_age=0)

    @app.route("/page/<name>")
    def page_file(name: str) -> Any:
        if name not in os.listdir(PAGE):
            return _refusal("No such file.", 404)
        return send_file(os.path.join(PAGE, name), max_age=0)

    @app.route("/outputs/<job_id>/<name>")
    def output(job_id: str, name: str) -> Any:
        folder = os.path.join(settings.folder, "jobs", job_id, RESULTS)
        if TOKEN.fullmatch(job_id):
            try:
                derive(os.path.dirname(folder), name)
            except Exception:
                # A job that expired or was dismissed meanwhile is no job: the 404 below.
                if os.path.isdir(folder):
                    logging.getLogger(__name__).exception("Making %s of job %s failed", name, job_id)
                    return _refusal("The file could not be made; the job's other outputs are unchanged.", 500)
        # The name is matched against the folder's own listing, never joined as given.
        if not TOKEN.fullmatch(job_id) or not os.path.isdir(folder) or name not in os.listdir(folder):
            return _refusal("No such output: the job is unknown, failed, expired, or made no file of that name.", 404)
        return send_file(os.path.join(folder, name), as_attachment=name.endswith((".tif", ".zip")))

    return app


def recover(settings: Settings) -> int:
    """Fail the jobs a stop of the service cut off (see :meth:`JobManager.recover`); how many."""
    from pygeoapi.process.manager.base import get_manager

    return int(get_manager(config(settings)).recover())


def start_expiry(settings: Settings) -> threading.Thread:
    """A thread that deletes jobs and uploads older than ``settings.keep``, every few minutes."""
    from pygeoapi.process.manager.base import get_manager

    manager = get_manager(config(settings))
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(min(300.0, max(1.0, settings.keep / 4))):
            try:
                manager.expire(settings.keep)
            except Exception:  # the next pass tries again; the thread must not die
                logging.getLogger(__name__).exception("Expiring old jobs failed")

    thread = threading.Thread(target=loop, name="overlapclip-expiry", daemon=True)
    thread.start()
    return thread
