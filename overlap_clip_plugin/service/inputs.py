"""What a job of the service may read, each checked before anything of it is read: an upload (stored under
a token, never under the name it came with), an inline base64 value, or an http(s) URL that the service's
allow-list permits, fetched here hop by hop to an address checked at each hop. Nothing else: no server
paths, no GDAL ``/vsi`` names, no ``file://``, and only raster formats that refer to no other file.

No QGIS and no pygeoapi here: the service and its tests share this module."""

from __future__ import annotations

import base64
import binascii
import http.client
import ipaddress
import os
import re
import secrets
import socket
import ssl
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from osgeo import gdal

#: The formats an input may be in: single files that name no other file. VRT (which names any path or
#: URL), and formats made of a header and side files, are refused.
FORMATS = ("GTiff", "PNG", "JPEG", "JP2OpenJPEG", "WEBP")
#: Values (width x height x bands) an input may hold unless the service is told otherwise: 2 x 10980² x 4
#: and a little more.
MAX_VALUES = 1_000_000_000
#: An upload's (and a job's) token: 32 random bytes, URL-safe base64.
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
#: Redirects followed from an allowed URL, each to an allowed URL.
REDIRECTS = 5
#: Seconds a remote server has to answer.
TIMEOUT = 30.0
#: Bytes read at a time from a request or a remote server.
CHUNK = 1 << 20


class RefusedInputError(ValueError):
    """An input the service does not read, with its one sentence; nothing of it was kept. ``status`` is the
    HTTP status to answer with."""

    def __init__(self, sentence: str, status: int = 400) -> None:
        super().__init__(sentence)
        self.status = status


@dataclass(frozen=True)
class Policy:
    """What the service reads: uploads in ``uploads`` of at most ``max_bytes``, and URLs that start with one
    of ``allow_urls`` (none: no URL is read) at public addresses (or private and loopback ones too, with
    ``allow_private``). ``own_url`` is the service's root, whose ``/uploads/<token>`` names an upload."""

    uploads: str
    max_bytes: int
    own_url: str
    allow_urls: tuple[str, ...] = field(default=())
    allow_private: bool = False
    #: Values (width x height x bands) a raster may hold: a small compressed file can declare billions.
    max_values: int = MAX_VALUES


def new_token() -> str:
    """An unguessable token (256 random bits)."""
    return secrets.token_urlsafe(32)


def shown(name: object, limit: int = 60) -> str:
    """A name a user gave, fit to be quoted in a sentence: its last part, printable, at most ``limit`` long."""
    text = re.sub(r"[^\w .,()+-]", "_", os.path.basename(str(name).replace("\\", "/")))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_raster(path: str, name: str, max_values: int = MAX_VALUES) -> None:
    """Refuse ``path`` unless GDAL reads it as a raster in one of :data:`FORMATS` (the driver GDAL itself
    would choose, not only one of those that could) of at most ``max_values`` values."""
    driver = gdal.IdentifyDriverEx(path, gdal.OF_RASTER)
    dataset = gdal.OpenEx(path, gdal.OF_RASTER | gdal.OF_READONLY, allowed_drivers=list(FORMATS))
    if driver is None or dataset is None or driver.ShortName not in FORMATS or dataset.RasterCount == 0:
        raise RefusedInputError(
            f"'{name}' is not a raster this service reads; give a GeoTIFF (or PNG, JPEG, JPEG 2000 or WebP) file."
        )
    size = (dataset.RasterXSize, dataset.RasterYSize, dataset.RasterCount)
    if size[0] * size[1] * size[2] > max_values:
        raise RefusedInputError(
            f"'{name}' holds {size[0]} x {size[1]} pixels x {size[2]} bands, more than this service clips "
            f"({max_values} values at most).",
            status=413,
        )


def _copied(source: IO[bytes] | Iterable[bytes], target: str, limit: int, name: str) -> int:
    """Copy ``source`` (a stream, or chunks) to ``target``; refuse it (413) once it exceeds ``limit`` bytes."""
    size = 0
    chunks = iter(lambda: source.read(CHUNK), b"") if hasattr(source, "read") else source
    with open(target, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise RefusedInputError(
                    f"'{name}' is larger than this service takes ({limit} bytes at most).",
                    status=413,
                )
            out.write(chunk)
    return size


def store_upload(source: IO[bytes], name: str, policy: Policy) -> str:
    """Keep an uploaded file under a new token in ``policy.uploads`` once it is checked (size, raster); its
    ``name`` is used in sentences only. Returns the token."""
    name = shown(name) or "upload"
    token = new_token()
    os.makedirs(policy.uploads, exist_ok=True)
    partial = os.path.join(policy.uploads, f".{token}.part")
    try:
        _copied(source, partial, policy.max_bytes, name)
        check_raster(partial, name, policy.max_values)
        os.replace(partial, os.path.join(policy.uploads, token))
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return token


@dataclass(frozen=True)
class Input:
    """A job's input once checked: a local file (an upload, or an inline value written to the job's folder)
    or an allowed URL, fetched when the job runs (:func:`fetch`)."""

    name: str
    path: str | None = None
    url: str | None = None


def resolve(value: object, label: str, policy: Policy, folder: str) -> Input:
    """The input ``label`` of a job as given in its request: ``{"href": ...}`` (an upload of this service, or
    an allowed URL) or ``{"value": base64, "mediaType": ...}``, written to ``folder``. Refused with a
    sentence otherwise."""
    if isinstance(value, dict) and isinstance(value.get("href"), str):
        href = value["href"]
        own = policy.own_url.rstrip("/") + "/uploads/"
        if href.startswith(own):
            token = href[len(own) :]
            path = os.path.join(policy.uploads, token)
            if not TOKEN.fullmatch(token) or not os.path.isfile(path):
                raise RefusedInputError(f"Input '{label}' names no upload of this service (it may have expired).")
            return Input(label, path=path)
        check_url(href, policy)
        return Input(shown(urllib.parse.urlsplit(href).path) or label, url=href)
    if isinstance(value, dict) and isinstance(value.get("value"), str):
        try:
            data = base64.b64decode(value["value"], validate=True)
        except (binascii.Error, ValueError):
            raise RefusedInputError(f"Input '{label}' is not valid base64.") from None
        if len(data) > policy.max_bytes:
            raise RefusedInputError(
                f"Input '{label}' is larger than this service takes ({policy.max_bytes} bytes at most).", status=413
            )
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"input_{shown(label, 20)}")
        with open(path, "wb") as out:
            out.write(data)
        check_raster(path, label, policy.max_values)
        return Input(label, path=path)
    raise RefusedInputError(
        f"Input '{label}' must be an object with an 'href' (an upload of this service or an allowed http(s) URL) "
        "or a base64 'value'; server paths and GDAL names are not read."
    )


def _addresses(host: str, port: int) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except (socket.gaierror, UnicodeError):
        return []


def _split(url: str) -> tuple[urllib.parse.SplitResult, int]:
    """``url`` parsed, and its port; ValueError for what is no URL."""
    parts = urllib.parse.urlsplit(url)
    return parts, parts.port or (443 if parts.scheme == "https" else 80)


def _under(parts: urllib.parse.SplitResult, port: int, prefix: str) -> bool:
    """Whether the URL lies under the allow-list's ``prefix``: the same scheme, host and port, and its path
    (percent-decoded, segment by segment) under the prefix's."""
    try:
        allowed, allowed_port = _split(prefix)
    except ValueError:
        return False
    if (parts.scheme, parts.hostname, port) != (allowed.scheme, allowed.hostname, allowed_port):
        return False
    path = urllib.parse.unquote(parts.path).split("/")
    root = urllib.parse.unquote(allowed.path).rstrip("/").split("/")
    return path[: len(root)] == root


def check_url(url: str, policy: Policy) -> tuple[urllib.parse.SplitResult, str]:
    """Refuse ``url`` unless it is http(s) without user names or dot segments, lies under an allowed prefix
    and its host has only public addresses (or the policy allows private ones). Returns the parsed URL and the
    address to connect to."""
    try:
        parts, port = _split(url)
    except ValueError:
        raise RefusedInputError(f"'{shown(url)}' is not a URL this service can read.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedInputError(
            f"'{shown(url)}' is not an http(s) URL; this service reads uploads and allowed http(s) URLs only."
        )
    segments = urllib.parse.unquote(parts.path).split("/")
    if parts.username is not None or parts.password is not None or "." in segments or ".." in segments:
        raise RefusedInputError(f"'{shown(url)}' holds a user name or a '.' or '..' segment; give the plain URL.")
    if not any(_under(parts, port, prefix) for prefix in policy.allow_urls):
        raise RefusedInputError(
            "This service reads no URL outside its allow-list"
            + (f" ({', '.join(policy.allow_urls)})" if policy.allow_urls else " (it has none)")
            + f"; '{shown(url)}' is not on it. Upload the file instead."
        )
    addresses = _addresses(parts.hostname, port)
    if not addresses:
        raise RefusedInputError(f"'{parts.hostname}' has no address this service can find.")
    if not policy.allow_private:
        for address in addresses:
            if not ipaddress.ip_address(address.split("%")[0]).is_global:
                raise RefusedInputError(
                    f"'{parts.hostname}' is at {address}, a loopback, private or reserved address, which this "
                    "service does not read."
                )
    return parts, addresses[0]


class _Pinned(http.client.HTTPSConnection):
    """An HTTPS connection to an address already checked, with the certificate checked for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def fetch(item: Input, policy: Policy, folder: str) -> str:
    """The local file of ``item``: its path, or its URL fetched into ``folder`` (each redirect checked as the
    URL itself, at most :data:`REDIRECTS`; at most ``policy.max_bytes``), checked as a raster."""
    if item.path is not None:
        return item.path
    assert item.url is not None
    url = item.url
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, f"input_{new_token()[:12]}")
    for _ in range(REDIRECTS + 1):
        parts, address = check_url(url, policy)
        port = _split(url)[1]
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = _Pinned(parts.hostname or "", address, port, TIMEOUT)
        else:
            connection = http.client.HTTPConnection(address, port, timeout=TIMEOUT)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            connection.request("GET", path, headers={"Host": parts.netloc.rsplit("@", 1)[-1]})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                url = urllib.parse.urljoin(url, response.getheader("Location", ""))
                continue
            if response.status != 200:
                raise RefusedInputError(f"'{item.name}' could not be fetched: the server answered {response.status}.")
            _copied(response, target, policy.max_bytes, item.name)
        except OSError as error:
            raise RefusedInputError(f"'{item.name}' could not be fetched: {error}.") from None
        finally:
            connection.close()
        check_raster(target, item.name, policy.max_values)
        return target
    raise RefusedInputError(f"'{item.name}' redirects more than {REDIRECTS} times.")
