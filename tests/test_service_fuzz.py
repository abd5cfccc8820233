"""The service against an OpenAPI fuzzer (schemathesis): requests generated from the service's own OpenAPI
document, valid and not, for every operation, pygeoapi's and the service's uploads and outputs alike. No
request may get a 5xx, and a refused one (4xx) says why in a sentence."""

from __future__ import annotations

import copy
import json
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from test_service import PAIR, Service

# Operations at the service's root (its uploads and outputs) besides pygeoapi's under /api.
ROOT_PATHS = ("/uploads", "/outputs/{jobId}/{name}")


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzzed") / "folder"
    service = Service(folder, "--max-jobs", "1")
    # One real job: every request about a job is sent again with its id (see check).
    inputs = {"a": service.href(PAIR[0]), "b": service.href(PAIR[1]), "shift": False}
    answer = service.execute("overlap-clip", inputs)
    assert answer.status_code == 200, answer.text
    service.job = answer.json()["outputs"][0]["href"].split("/")[-2]
    yield service
    service.stop()


def _document(running) -> dict:
    answer = requests.get(f"{running.api}/openapi?f=json", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def api_schema(running):
    document = _document(running)
    for path in ROOT_PATHS:
        document["paths"].pop(path)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.location = running.api
    return loaded


@pytest.fixture(scope="module")
def root_schema(running):
    # The routes beside pygeoapi's say their own server (the root); the fuzzer takes one server per document.
    document = _document(running)
    document = {
        **copy.deepcopy(document),
        "servers": [{"url": running.url}],
        "paths": {path: document["paths"][path] for path in ROOT_PATHS},
    }
    loaded = schemathesis.openapi.from_dict(document)
    loaded.location = running.url
    return loaded


def test_the_document_refers_to_nothing_elsewhere(running):
    document = _document(running)
    text = json.dumps(document)
    assert "schemas.opengis.net" not in text
    references = [part.split('"')[0] for part in text.split('"$ref": "')[1:]]
    assert references and all(reference.startswith("#/components/") for reference in references), references
    for reference in set(references):
        node = document
        for key in reference[2:].split("/"):
            node = node[key]  # every local reference resolves
    # Each execution's request names its process's inputs; the service's own routes are described.
    clip = document["paths"]["/processes/overlap-clip/execution"]["post"]["requestBody"]
    assert clip["content"]["application/json"]["schema"]["properties"]["inputs"]["required"] == ["a", "b"]
    assert document["paths"]["/uploads"]["servers"] == [{"url": running.url}]


def says_why(response: requests.Response) -> str:
    """The sentence of a refusal: the JSON exception's description (or detail)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("description") or body.get("detail") or "") if isinstance(body, dict) else ""


def check(case, running) -> None:
    checked(case)
    # Each request about a job again with the real job's id (all but DELETE, which would end it for the rest),
    # so that its status, results and outputs (the quick-looks and zip made on request) are fuzzed too.
    if "jobId" in (case.path_parameters or {}) and case.method.upper() != "DELETE":
        case.path_parameters = {**case.path_parameters, "jobId": running.job}
        checked(case)


def checked(case) -> None:
    response = case.call(timeout=120)
    case.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500:
        if any(kind.startswith("text/html") for kind in response.headers.get("content-type", [])):
            # Asked for HTML (f=html): the same request's JSON holds the sentence the page shows.
            case.query = {**(case.query or {}), "f": "json"}
            response = case.call(timeout=120)
        why = says_why(response)
        # A sentence: words, not an id or a bare code.
        assert len(why.split()) >= 2, (
            case.method,
            case.formatted_path,
            case.query,
            response.status_code,
            response.text,
        )


FUZZED = settings(
    max_examples=int(os.environ.get("OVERLAP_CLIP_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schemathesis.pytest.from_fixture("api_schema").parametrize()
@FUZZED
def test_no_api_request_gets_a_server_error(case, running):
    check(case, running)


@schemathesis.pytest.from_fixture("root_schema").parametrize()
@FUZZED
def test_no_upload_or_output_request_gets_a_server_error(case, running):
    check(case, running)
