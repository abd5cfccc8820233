"""The service's OpenAPI document, whole: pygeoapi's, with nothing left to fetch from elsewhere.

pygeoapi's document refers to the OGC's schemas at schemas.opengis.net for its responses and for the execute
request; a client or a test that cannot reach that host (or should not have to) cannot read the document. Here
each such reference points into the document's own components, written after OGC API - Processes - Part 1
(the exception, the execute request, the job's status), each execution's request names the process's own
inputs, and the routes this service adds beside pygeoapi (uploads, outputs) are described too."""

from __future__ import annotations

import copy
import re
from typing import Any

#: OGC API's exception (RFC 7807's problem details), as pygeoapi and this service answer an error.
EXCEPTION = {
    "type": "object",
    "description": "What went wrong, in one sentence (description, or detail).",
    "properties": {
        "type": {"type": "string"},
        "code": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "description": {"type": "string"},
        "instance": {"type": "string"},
    },
}

LINK = {
    "type": "object",
    "required": ["href"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}

STATUS_INFO = {
    "type": "object",
    "required": ["jobID", "status"],
    "properties": {
        "jobID": {"type": "string"},
        "processID": {"type": "string"},
        "type": {"type": "string", "enum": ["process"]},
        "status": {"type": "string", "enum": ["accepted", "running", "successful", "failed", "dismissed"]},
        "message": {"type": "string"},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "created": {"type": "string"},
        "started": {"type": "string"},
        "finished": {"type": "string"},
        "updated": {"type": "string"},
        "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
    },
}

EXECUTE = {
    "type": "object",
    "description": "An execute request: the process's inputs by name, the outputs wanted, the response's form "
    "(no subscriber: this service makes no callbacks).",
    "properties": {
        "inputs": {"type": "object", "additionalProperties": True},
        "outputs": {"type": "object", "additionalProperties": {"type": "object"}},
        "response": {"type": "string", "enum": ["raw", "document"]},
    },
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(description, {"$ref": "#/components/schemas/exception"})


#: The responses pygeoapi's document takes from the OGC's files, by the name it gives them there.
RESPONSES = {
    "LandingPage": _json(
        "A document with links.",
        {"type": "object", "properties": {"links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}},
    ),
    "ProcessList": _json(
        "The processes this service runs.",
        {
            "type": "object",
            "required": ["processes", "links"],
            "properties": {
                "processes": {"type": "array", "items": {"type": "object"}},
                "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
            },
        },
    ),
    "ExecuteAsync": {
        "description": "The job was accepted; its status is at the Location header's URL.",
        "headers": {"Location": {"schema": {"type": "string"}, "description": "The job's status."}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/statusInfo"}}},
    },
    "InvalidParameter": _error("A parameter of the request is invalid."),
    "NotFound": _error("No such resource."),
    "ServerError": _error("The service failed; the sentence says no more than that."),
}
SCHEMAS = {"exception": EXCEPTION, "link": LINK, "statusInfo": STATUS_INFO, "execute": EXECUTE}

# ".../ogcapi-features-1.yaml#/components/responses/NotFound", ".../responses/NotFound.yaml" and
# ".../schemas/execute.yaml" alike: the kind (responses or schemas) and the name.
_ELSEWHERE = re.compile(r"(?:#/components/|/)(responses|schemas)/(\w+)(?:\.ya?ml)?$")


def _openapi_30(schema: Any) -> Any:
    """A process description's JSON Schema as OpenAPI 3.0 writes it (no contentEncoding, contentMediaType), and
    as the service takes it."""
    if isinstance(schema, list):
        return [_openapi_30(part) for part in schema]
    if not isinstance(schema, dict):
        return schema
    written = {key: _openapi_30(value) for key, value in schema.items() if key != "contentMediaType"}
    # An href and a value together are taken (the href is read): any of the forms, not exactly one.
    if "oneOf" in written:
        written["anyOf"] = written.pop("oneOf")
    if written.pop("contentEncoding", None) == "base64":
        written["format"] = "byte"
    return written


def _inputs_schema(inputs: dict[str, Any]) -> dict[str, Any]:
    """The ``inputs`` of a process's execute request, each with the schema its description gives."""
    properties = {}
    for name, given in inputs.items():
        schema = _openapi_30(given["schema"])
        if given.get("maxOccurs", 1) > 1:
            schema = {
                "type": "array",
                "items": schema,
                "minItems": given.get("minOccurs", 1),
                "maxItems": given["maxOccurs"],
            }
        properties[name] = {"description": given["description"], **schema}
    required = [name for name, given in inputs.items() if given.get("minOccurs", 0) > 0]
    # An input the process does not name is refused.
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _routes(root: str) -> dict[str, Any]:
    """The service's routes beside pygeoapi's (at the service's root, not under /api)."""
    servers = [{"url": root}]
    refused = {
        "400": _error("Not a raster this service reads (one sentence says why)."),
        "413": _error("Larger than this service takes."),
    }
    created = _json(
        "The upload, kept under an unguessable name: give the href as an input's href.",
        {"type": "object", "required": ["href"], "properties": {"href": {"type": "string"}}},
    )
    return {
        "/uploads": {
            "servers": servers,
            "post": {
                "summary": "Upload a raster",
                "description": "A GeoTIFF, PNG, JPEG, JPEG 2000 or WebP raster, as the body (its name in "
                "X-Filename, percent-encoded) or as the 'file' field of a form.",
                "operationId": "upload",
                "tags": ["uploads"],
                "parameters": [{"in": "header", "name": "X-Filename", "required": False, "schema": {"type": "string"}}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                        "multipart/form-data": {
                            "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
                        },
                    },
                },
                "responses": {"201": created, **refused},
            },
        },
        "/outputs/{jobId}/{name}": {
            "servers": servers,
            "get": {
                "summary": "A job's output",
                "description": "A file a successful job made, by the job's id and the file's name.",
                "operationId": "getOutput",
                "tags": ["jobs"],
                "parameters": [
                    {"in": "path", "name": "jobId", "required": True, "schema": {"type": "string"}},
                    {"in": "path", "name": "name", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "The file: a GeoTIFF, a PNG quick-look, the overlap's GeoJSON or the zip.",
                        "content": {
                            media: {}
                            for media in ("image/tiff", "image/png", "application/geo+json", "application/zip")
                        },
                    },
                    "404": _error("No such output."),
                    "500": _error("A quick-look or the zip could not be made."),
                },
            },
        },
    }


def whole(document: dict[str, Any], root: str, processes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``document`` (pygeoapi's) with every reference local, each execution's request naming its process's
    inputs, and the service's own routes; ``processes`` maps a process's id to its description."""
    document = copy.deepcopy(document)
    components = document.setdefault("components", {})
    # A reference this module has no part for yet (a later pygeoapi's) still resolves: to any object.
    wanted: dict[tuple[str, str], dict[str, Any]] = {}

    def local(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and not reference.startswith("#"):
                found = _ELSEWHERE.search(reference)
                kind, name = found.groups() if found else ("schemas", "external")
                known = RESPONSES if kind == "responses" else SCHEMAS
                wanted[kind, name] = known.get(name) or (_error(name) if kind == "responses" else {"type": "object"})
                return {"$ref": f"#/components/{kind}/{name}"}
            return {key: local(value) for key, value in node.items()}
        if isinstance(node, list):
            return [local(value) for value in node]
        return node

    document["paths"] = local(document.get("paths", {}))
    document["components"] = components = local(components)
    for (kind, name), part in wanted.items():
        components.setdefault(kind, {})[name] = part
    for name, schema in SCHEMAS.items():
        components.setdefault("schemas", {}).setdefault(name, schema)

    for identifier, described in processes.items():
        execution = document["paths"].get(f"/processes/{identifier}/execution", {}).get("post")
        if execution is None:
            continue
        schema = copy.deepcopy(EXECUTE)
        schema["properties"]["inputs"] = _inputs_schema(described["inputs"])
        schema["required"] = ["inputs"]
        execution["requestBody"]["content"] = {"application/json": {"schema": schema}}
    document["paths"].update(_routes(root))
    return document
