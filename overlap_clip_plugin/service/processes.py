"""The service's processes, pygeoapi processors over the core's one run (:func:`run_clip`): ``overlap-clip``
(a pair), ``overlap-stack`` (two or more rasters) and ``change-map`` (a pair and its change map). Their
inputs, options and outputs are those of the algorithms clippair, clipstack and changemap.

Each job works in ``jobs/<job id>/`` of the service's folder, the id unguessable; what it made is moved into
``jobs/<job id>/out/`` only once the whole job has succeeded, and only that folder is ever served. The
quick-looks and the zip are made there on their first request (:func:`derive`), not by the job: a client
that only wants the rasters does not wait for them."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from overlap_clip_plugin.core.change import (
    BOTH,
    DECREASE,
    DIFFERENCE,
    INCREASE,
    MAGNITUDE,
    PCA_KMEANS,
    ChangeRequest,
    ChangeSettings,
    check_settings,
)
from overlap_clip_plugin.core.errors import OverlapClipError
from overlap_clip_plugin.core.plan import AREAS, RESAMPLING_METHODS
from overlap_clip_plugin.core.run import RunResult, run_clip
from overlap_clip_plugin.service.inputs import Input, Policy, RefusedInputError, fetch, resolve
from overlap_clip_plugin.service.quicklook import outline, overlap_geojson, quicklooks

LOGGER = logging.getLogger(__name__)

#: The media type of the outputs' GeoTIFFs.
GEOTIFF = "image/tiff; application=geotiff"
#: The folder in a job's folder that holds its results once it has succeeded.
RESULTS = "out"
#: The folder in a job's folder that keeps its inputs (for their quick-looks) until the job expires.
INPUTS = "in"
#: The file in a job's folder that says how to make what is made on first request (:func:`derive`).
DERIVED = "derived.json"
#: The zip of every output.
ARCHIVE = "outputs.zip"

#: Why a request naming a subscriber is refused: callbacks would be requests to any URL a client names.
NO_CALLBACKS = "This service makes no callbacks; leave 'subscriber' out and poll the job's status."
#: Jobs dismissed (DELETE), or cut off by the service's stop, while queued or running: they stop, and keep
#: nothing.
DISMISSED: set[str] = set()
#: Jobs of this process from their request's check to pygeoapi's last record of them (the job manager's).
ACTIVE: set[str] = set()
#: Set as the service stops: every job of this process stops, and no request makes a new one.
STOPPING = threading.Event()
#: What a job stopped so says (a dismissed job's record is gone: a client reads it of a job the stop cut off).
STOPPED = "The service stopped while the job was queued or running; nothing of it was kept. Run it again."

_slots_lock = threading.Lock()
_slots: dict[str, threading.BoundedSemaphore] = {}
# What one job makes on first request is made once: requests for the same job wait for one another.
_deriving = [threading.Lock() for _ in range(64)]


def slots(folder: str, count: int) -> threading.BoundedSemaphore:
    """The service's cap on jobs running at once (one for its ``folder``): the others wait, queued."""
    with _slots_lock:
        return _slots.setdefault(folder, threading.BoundedSemaphore(max(1, count)))


class InputError(ProcessorExecuteError):
    """A request the service refuses: 400 (or the status given), with the sentence as the message."""

    ogc_exception_code = "InvalidParameterValue"

    def __init__(self, sentence: str, status: int = 400) -> None:
        super().__init__(user_msg=sentence)
        self.http_status_code = status


def _raster(title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description
        + ' Give it as {"href": ...}: an upload of this service (POST /uploads) or an http(s) URL the service '
        'allows; or as {"value": base64, "mediaType": "image/tiff"}.',
        "schema": {
            "oneOf": [
                {"type": "object", "required": ["href"], "properties": {"href": {"type": "string", "format": "uri"}}},
                {
                    "type": "object",
                    "required": ["value"],
                    "properties": {
                        "value": {"type": "string", "contentEncoding": "base64"},
                        "mediaType": {"type": "string"},
                    },
                },
            ]
        },
        "minOccurs": 1,
        "maxOccurs": 1,
    }


def _option(title: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"title": title, "description": description, "schema": schema, "minOccurs": 0, "maxOccurs": 1}


def _output(title: str, description: str, media: str = "application/json") -> dict[str, Any]:
    return {"title": title, "description": description, "schema": {"type": "object", "contentMediaType": media}}


COMMON_INPUTS = {
    "area": _option(
        "Common area",
        "'extents': the rasters' common footprint; 'valid': where every raster holds valid data.",
        {"type": "string", "enum": list(AREAS), "default": "extents"},
    ),
    "mask": _option(
        "Mask to the common valid area",
        "Set pixels invalid in any raster to nodata in every output.",
        {"type": "boolean", "default": False},
    ),
    "resampling": _option(
        "Resampling",
        "How a raster put on another's grid is resampled; one on the grid's lattice is copied unchanged.",
        {"type": "string", "enum": list(RESAMPLING_METHODS), "default": "near"},
    ),
    "shift": _option(
        "Check the shift",
        "Estimate each output's sub-pixel shift against the reference's (turn it off for content that cannot "
        "match, such as a DEM against an image).",
        {"type": "boolean", "default": True},
    ),
}

RESULTS_OUTPUTS = {
    "outputs": _output("Clipped rasters", "Each clipped raster: {name, href, type}.", GEOTIFF),
    "overlap": _output("Overlap", "The overlap as GeoJSON (WGS 84), and its numbers.", "application/geo+json"),
    "previews": _output("Quick-looks", "PNG quick-looks of the inputs and outputs on one stretch.", "image/png"),
    "archive": _output("All outputs", "A zip of every output.", "application/zip"),
}


def metadata(identifier: str, title: str, description: str, inputs: dict, outputs: dict) -> dict[str, Any]:
    """A process's description, as pygeoapi publishes it."""
    return {
        "version": "1.0.0",
        "id": identifier,
        "title": {"en": title},
        "description": {"en": description},
        "jobControlOptions": ["sync-execute", "async-execute"],
        "keywords": ["raster", "clip", "overlap", "GDAL"],
        "links": [],
        "inputs": inputs,
        "outputs": outputs,
    }


PAIR = metadata(
    "overlap-clip",
    "Clip raster pair to common area",
    "Clip two rasters to the area they have in common, on one grid (A's, B's or each its own).",
    {
        "a": _raster("Raster A", "The first raster."),
        "b": _raster("Raster B", "The second raster."),
        "grid": _option(
            "Output grid",
            "'a': both on A's grid; 'b': on B's; 'own': each keeps its own grid (never resampled).",
            {"type": "string", "enum": ["a", "b", "own"], "default": "a"},
        ),
        **COMMON_INPUTS,
    },
    {**RESULTS_OUTPUTS, "shift": _output("Shift", "B's shift against A, in pixels and metres, or why none.")},
)

STACK = metadata(
    "overlap-stack",
    "Clip raster stack to common area",
    "Clip two or more rasters to the area they all have in common, on the reference raster's grid.",
    {
        "rasters": {**_raster("Rasters", "Two or more rasters."), "minOccurs": 2, "maxOccurs": 50},
        "reference": _option(
            "Reference",
            "The raster (1 = the first) whose grid every output takes.",
            {"type": "integer", "minimum": 1, "default": 1},
        ),
        **COMMON_INPUTS,
    },
    {**RESULTS_OUTPUTS, "shift": _output("Shifts", "Each raster's shift against the reference, or why none.")},
)

CHANGE = metadata(
    "change-map",
    "Change map",
    "Clip two dates to their common area on A's grid and map the change between them: PCA + k-means (Celik "
    "2009), the change-vector magnitude or a plain difference. It assumes radiometrically comparable, registered "
    "dates and two classes, change and no change.",
    {
        "a": _raster("Earlier date", "The earlier image."),
        "b": _raster("Later date", "The later image."),
        "method": _option(
            "Method",
            "'pca_kmeans', 'magnitude' (Otsu's threshold) or 'difference' (Otsu's or the given threshold).",
            {"type": "string", "enum": [PCA_KMEANS, MAGNITUDE, DIFFERENCE], "default": PCA_KMEANS},
        ),
        "bands": _option(
            "Bands",
            "The bands compared (1 = the first), the same in both dates; empty: every band (difference: band 1).",
            {"type": "array", "items": {"type": "integer", "minimum": 1}},
        ),
        "block_size": _option(
            "Block size", "PCA + k-means: the blocks' side h (odd).", {"type": "integer", "default": 5}
        ),
        "components": _option("Components", "PCA + k-means: the components kept.", {"type": "integer", "default": 3}),
        "threshold": _option(
            "Threshold", "Magnitude and difference: change above it; empty: Otsu's.", {"type": "number"}
        ),
        "direction": _option(
            "Direction",
            "Difference: 'both', 'increase' (the later date brighter) or 'decrease'.",
            {"type": "string", "enum": [BOTH, INCREASE, DECREASE], "default": BOTH},
        ),
        **{key: value for key, value in COMMON_INPUTS.items() if key in ("resampling", "shift")},
    },
    {
        **RESULTS_OUTPUTS,
        "change": _output("Change", "The change map (Byte: 1 change, 0 none, 255 nodata) and its numbers.", GEOTIFF),
    },
)


@dataclass
class Request:
    """A request once checked: the inputs (not yet read) and the run's options."""

    inputs: list[Input]
    options: dict[str, Any]
    change: ChangeSettings | None = None
    names: list[str] = field(default_factory=list)


def _choice(data: dict, key: str, allowed: list | tuple, default: Any) -> Any:
    value = data.get(key, default)
    if value not in allowed:
        raise RefusedInputError(f"'{key}' must be one of {', '.join(map(str, allowed))}; {value!r} was given.")
    return value


def _flag(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise RefusedInputError(f"'{key}' must be true or false; {value!r} was given.")
    return value


def _integer(data: dict, key: str, default: int | None, low: int) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise RefusedInputError(f"'{key}' must be a whole number, {low} or more; {value!r} was given.")
    return value


class OverlapProcessor(BaseProcessor):
    """One of the service's processes (its metadata says which); configured by the service (``settings`` in its
    definition: the folder, the upload limit and the URL allow-list, the cap on jobs at once)."""

    def __init__(self, processor_def: dict, process_metadata: dict) -> None:
        super().__init__(processor_def, process_metadata)
        self.folder = processor_def["folder"]
        # The service's own Policy, as its configuration carries it (YAML: the allow-list as a list).
        given = processor_def["policy"]
        self.policy = Policy(**{**given, "allow_urls": tuple(given["allow_urls"])})
        self.max_jobs = int(processor_def.get("max_jobs", 1))
        self.job_id = ""
        #: Set by the service's job manager: called with the job's progress (0 to 100) and a message.
        self.report: Callable[[int, str], None] = lambda _percent, _message: None
        self.checked: Request | None = None

    def set_job_id(self, job_id: str) -> None:
        """Called by the manager with the job's id, before :meth:`check`."""
        self.job_id = job_id

    @property
    def job_folder(self) -> str:
        """Where the job works and keeps its results."""
        return os.path.join(self.folder, "jobs", self.job_id)

    def check(self, data: object) -> Request:
        """The request checked (inputs named as the service reads them, options among those allowed), before
        any job is made of it; :class:`InputError` with the sentence otherwise."""
        try:
            self.checked = self._check(data)
        except RefusedInputError as refused:
            shutil.rmtree(self.job_folder, ignore_errors=True)
            raise InputError(str(refused), refused.status) from None
        except Exception:
            shutil.rmtree(self.job_folder, ignore_errors=True)
            LOGGER.exception("A request could not be checked")
            raise InputError("The request's inputs could not be read.") from None
        return self.checked

    def plain(self, text: str) -> str:
        """``text`` without the service's folders: the core names a file by its path, here the job's."""
        folders = [os.path.join(self.job_folder, part) for part in ("work", "made", INPUTS)]
        for folder in (*folders, self.folder):
            text = text.replace(os.path.abspath(folder) + os.sep, "")
        return text

    @property
    def dismissed(self) -> bool:
        """Whether the job was dismissed (DELETE), or the service is stopping, since it was made."""
        return self.job_id in DISMISSED or STOPPING.is_set()

    def _check(self, data: object) -> Request:
        if not isinstance(data, dict):
            raise RefusedInputError("The request's 'inputs' must be an object of named inputs.")
        known = set(self.metadata["inputs"])
        unknown = sorted(set(data) - known)
        if unknown:
            raise RefusedInputError(f"Unknown input {unknown[0]!r}; this process takes {', '.join(sorted(known))}.")
        work = os.path.join(self.job_folder, "work")
        if self.metadata["id"] == STACK["id"]:
            given = data.get("rasters")
            if not isinstance(given, list) or len(given) < 2:
                raise RefusedInputError("'rasters' must be a list of two or more rasters.")
            if len(given) > STACK["inputs"]["rasters"]["maxOccurs"]:
                raise RefusedInputError(f"'rasters' holds {len(given)} rasters; this service clips 50 at most.")
            inputs = [resolve(value, f"raster {index}", self.policy, work) for index, value in enumerate(given, 1)]
            reference = _integer(data, "reference", 1, 1)
            assert reference is not None
            if reference > len(inputs):
                raise RefusedInputError(f"'reference' is {reference}, but {len(inputs)} rasters were given.")
            grid: Any = reference - 1
        else:
            for key in ("a", "b"):
                if key not in data:
                    raise RefusedInputError(f"Input '{key}' is missing.")
            inputs = [resolve(data["a"], "a", self.policy, work), resolve(data["b"], "b", self.policy, work)]
            grid = "a" if self.metadata["id"] == CHANGE["id"] else _choice(data, "grid", ("a", "b", "own"), "a")
        options = {
            "grid": grid,
            "area": _choice(data, "area", AREAS, "extents"),
            "mask_common": _flag(data, "mask", False),
            "resampling": _choice(data, "resampling", RESAMPLING_METHODS, "near"),
            "shift": "estimate" if _flag(data, "shift", True) else "",
        }
        change = None
        if self.metadata["id"] == CHANGE["id"]:
            bands = data.get("bands")
            if bands is not None and (
                not isinstance(bands, list)
                or not bands
                or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in bands)
            ):
                raise RefusedInputError(f"'bands' must be a list of band numbers (1 = the first); {bands!r} was given.")
            threshold = data.get("threshold")
            if threshold is not None and (not isinstance(threshold, (int, float)) or isinstance(threshold, bool)):
                raise RefusedInputError(f"'threshold' must be a number; {threshold!r} was given.")
            change = ChangeSettings(
                method=_choice(data, "method", (PCA_KMEANS, MAGNITUDE, DIFFERENCE), PCA_KMEANS),
                bands=tuple(bands) if bands else None,
                block_size=_integer(data, "block_size", 5, 3) or 5,
                components=_integer(data, "components", 3, 1) or 3,
                threshold=None if threshold is None else float(threshold),
                direction=_choice(data, "direction", (BOTH, INCREASE, DECREASE), BOTH),
            )
            try:
                check_settings(change)  # the core's own words, before the job exists
            except OverlapClipError as error:
                raise RefusedInputError(str(error)) from None
        names = ["a", "b"] if len(inputs) == 2 and self.metadata["id"] != STACK["id"] else []
        names = names or [f"raster_{index}" for index in range(1, len(inputs) + 1)]
        return Request(inputs, options, change, names)

    def execute(self, data: dict, outputs: dict | None = None) -> tuple[str, Any]:
        """Run the job once it has a slot: its document (JSON), or :class:`InputError` with a sentence."""
        request = self.checked or self.check(data)
        self.report(5, "Queued: waiting for a free slot.")
        with slots(self.folder, self.max_jobs):
            try:
                if self.dismissed:
                    raise RefusedInputError(STOPPED)
                return "application/json", self._run(request)
            except BaseException as error:
                shutil.rmtree(self.job_folder, ignore_errors=True)
                # A stopped job failed however its run ended (the core cancelled, or its folder went): the stop.
                if self.dismissed:
                    raise InputError(STOPPED, 503) from None
                if isinstance(error, (OverlapClipError, RefusedInputError)):
                    raise InputError(self.plain(str(error))) from None
                # Its words may name the server's folders: they go to the log, the client gets a sentence.
                LOGGER.exception("Job %s failed", self.job_id)
                raise InputError("The job failed on the service's side; nothing of it was kept.", 500) from None
            finally:
                shutil.rmtree(os.path.join(self.job_folder, "work"), ignore_errors=True)

    def _run(self, request: Request) -> dict[str, Any]:
        work = os.path.join(self.job_folder, "work")
        made = os.path.join(self.job_folder, "made")
        os.makedirs(made, exist_ok=True)
        os.makedirs(work, exist_ok=True)
        kept = os.path.join(self.job_folder, INPUTS)
        os.makedirs(kept, exist_ok=True)
        self.report(10, "Reading the inputs.")
        sources = []
        for name, item in zip(request.names, request.inputs):
            # Under the input's name in the job, so that the core's sentences name it as the request did; kept
            # with the job for its quick-look (an upload as a second link to it, not a copy).
            source = os.path.join(kept, f"{name}.tif")
            _keep(fetch(item, self.policy, work), source, work, item.name)
            sources.append(source)
        files = [f"{name}.tif" for name in request.names]
        said: list[str] = []
        change = None
        if request.change is not None:
            change = ChangeRequest(
                os.path.join(made, "change.tif"), request.change, os.path.join(made, "magnitude.tif")
            )

        def progress(fraction: float) -> bool | None:
            self.report(10 + int(80 * fraction), "Clipping.")
            # A dismissed job stops: the core cancels and leaves nothing.
            return False if self.dismissed else None

        # Every warning (GDAL's words, the plan's notes) goes to ``said``, and into the job's document.
        result = run_clip(
            sources,
            [os.path.join(made, name) for name in files],
            overlap="polygon",
            progress=progress,
            warn=said.append,
            change=change,
            **request.options,
        )
        self.report(95, "Writing the overlap.")
        # The quick-looks, by the rasters they show (relative to the job's folder, as they lie once it is done).
        previews = {f"input_{name}": os.path.join(INPUTS, f"{name}.tif") for name in request.names}
        previews.update({name: os.path.join(RESULTS, file) for name, file in zip(request.names, files)})
        extra = []
        outlines = {}
        if result.overlap is not None:
            crs = result.overlap.crs.wkt if result.overlap.crs is not None else None
            overlap_geojson(result.overlap.polygon_wkt, crs, os.path.join(made, "overlap.geojson"))
            extra.append("overlap.geojson")
            rasters = dict(zip(previews, sources + [os.path.join(made, file) for file in files]))
            outlines = {name: outline(path, result.overlap.polygon_wkt, crs) for name, path in rasters.items()}
        if change is not None:
            extra += ["change.tif", "magnitude.tif"]
        with open(os.path.join(self.job_folder, DERIVED), "w", encoding="utf-8") as plan:
            pngs = {f"{name}.png": path for name, path in previews.items()}
            json.dump({"previews": pngs, "archive": files + extra}, plan)
        if self.dismissed:
            raise RefusedInputError(STOPPED)
        os.replace(made, os.path.join(self.job_folder, RESULTS))
        return self._document(request, result, files, outlines, list(previews), [self.plain(text) for text in said])

    def _document(
        self,
        request: Request,
        result: RunResult,
        files: list[str],
        outlines: dict[str, list],
        previews: list[str],
        said: list[str],
    ) -> dict[str, Any]:
        base = f"{self.policy.own_url.rstrip('/')}/outputs/{self.job_id}"
        document: dict[str, Any] = {
            "outputs": [
                {"name": name, "href": f"{base}/{file}", "type": GEOTIFF} for name, file in zip(request.names, files)
            ],
            # Each quick-look with the overlap's outline on it (fractions of its width and height).
            "previews": [
                {"name": name, "href": f"{base}/{name}.png", "type": "image/png", "outline": outlines.get(name, [])}
                for name in previews
            ],
            "archive": {"href": f"{base}/outputs.zip", "type": "application/zip"},
            "warnings": said,
        }
        summary = result.overlap
        if summary is not None:
            document["overlap"] = {
                "href": f"{base}/overlap.geojson",
                "type": "application/geo+json",
                "width": summary.width,
                "height": summary.height,
                "area": summary.area,
                "area_km2": summary.area_km2,
                "percents": list(summary.percents),
            }
        document["shift"] = [
            None
            if estimate is None
            else {
                "name": name,
                "reliable": estimate.reliable,
                "dx_px": estimate.dx_px,
                "dy_px": estimate.dy_px,
                "shift_m": estimate.shift_m,
                "windows": f"{estimate.windows_used} of {estimate.windows_total}",
                "reason": estimate.reason or None,
            }
            for name, estimate in zip(request.names, result.shifts)
        ]
        found = result.change
        if found is not None:
            document["change"] = {
                "href": f"{base}/change.tif",
                "magnitude": f"{base}/magnitude.tif",
                "type": GEOTIFF,
                "method": found.method,
                "bands": list(found.bands),
                "changed_pixels": found.changed,
                "valid_pixels": found.valid,
                "changed_percent": found.changed_percent,
                "changed_area_m2": found.changed_area_m2,
                "threshold": found.threshold,
            }
        return document


class PairProcess(OverlapProcessor):
    """``overlap-clip``: :data:`PAIR`."""

    def __init__(self, processor_def: dict) -> None:
        super().__init__(processor_def, PAIR)


class StackProcess(OverlapProcessor):
    """``overlap-stack``: :data:`STACK`."""

    def __init__(self, processor_def: dict) -> None:
        super().__init__(processor_def, STACK)


class ChangeProcess(OverlapProcessor):
    """``change-map``: :data:`CHANGE`."""

    def __init__(self, processor_def: dict) -> None:
        super().__init__(processor_def, CHANGE)


#: The processes the service publishes, by id.
PROCESSES = {PAIR["id"]: PairProcess, STACK["id"]: StackProcess, CHANGE["id"]: ChangeProcess}


def _keep(path: str, target: str, work: str, name: str) -> None:
    """Put the input at ``path`` at ``target``: moved when the job fetched it into ``work``, else (an upload) a
    second link to the same file, or a copy where the file system makes no link."""
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(work):
        os.replace(path, target)
        return
    try:
        os.link(path, target)
    except FileNotFoundError:
        # Expired (or gone) while the job waited for its slot.
        raise RefusedInputError(
            f"'{name}' names no upload of this service any more (uploads expire); upload it again."
        ) from None
    except OSError:
        shutil.copyfile(path, target)


def derive(job_folder: str, name: str) -> None:
    """Make ``name`` in the results of the job at ``job_folder`` if it is one made on first request and is not
    there yet: a quick-look (all of the job's at once, on one stretch) or the zip of every output. Anything
    else, or a job that is unknown, failed or expired, is left as it is."""
    try:
        with open(os.path.join(job_folder, DERIVED), encoding="utf-8") as given:
            plan = json.load(given)
    except (OSError, ValueError):
        return
    if name not in plan["previews"] and name != ARCHIVE:
        return
    results = os.path.join(job_folder, RESULTS)
    if not os.path.isdir(results):
        return
    with _deriving[hash(os.path.basename(job_folder)) % len(_deriving)]:
        if os.path.exists(os.path.join(results, name)):
            return
        drawing = os.path.join(job_folder, "drawing")
        # Never makes the job's folder again if it went (expired, dismissed) meanwhile: that fails here.
        with contextlib.suppress(FileExistsError):
            os.mkdir(drawing)
        try:
            if name == ARCHIVE:
                # Stored, not deflated: the outputs are compressed as their inputs were, and deflating them
                # again took longer than the clip itself (0.54 s against 0.14 s for a 2000 x 2000 x 4 pair).
                with zipfile.ZipFile(os.path.join(drawing, ARCHIVE), "w", zipfile.ZIP_STORED) as archive:
                    for file in plan["archive"]:
                        archive.write(os.path.join(results, file), file)
                made = [ARCHIVE]
            else:
                made = list(plan["previews"])
                sources = [os.path.join(job_folder, source) for source in plan["previews"].values()]
                quicklooks(sources, [os.path.join(drawing, preview) for preview in made])
            for file in made:
                os.replace(os.path.join(drawing, file), os.path.join(results, file))
        finally:
            shutil.rmtree(drawing, ignore_errors=True)


def wait_for_jobs(timeout: float) -> bool:
    """Wait until no job of this process runs or waits (each dismissed one cancels at its next step), at most
    ``timeout`` seconds; whether none is left. A process must not end while GDAL works in one of its threads."""
    deadline = time.monotonic() + timeout
    while ACTIVE and time.monotonic() < deadline:
        time.sleep(0.05)
    return not ACTIVE
