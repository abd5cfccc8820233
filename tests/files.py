"""What a run leaves in a folder: the names in it, the bytes of its files and their digests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def listing(folder, aux: bool = True) -> list[str]:
    """The names in ``folder``, sorted; without GDAL's ``.aux.xml`` side-car files when ``aux`` is False
    (QGIS writes them beside the rasters it loads, whatever the algorithm)."""
    return sorted(name for name in os.listdir(folder) if aux or not name.endswith(".aux.xml"))


def leftovers(folder) -> list[str]:
    """The hidden files and folders in ``folder``, where the core stages its work (``.overlapclip-...``)."""
    return [name for name in listing(folder) if name.startswith(".")]


def contents(folder, aux: bool = True) -> dict[str, bytes | None]:
    """Every file of ``folder`` by name, with its bytes (None for a folder), to compare before and after."""
    folder = Path(folder)
    return {name: None if (folder / name).is_dir() else (folder / name).read_bytes() for name in listing(folder, aux)}


def digest(path) -> str:
    """The SHA-256 of the file at ``path``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def digests(paths) -> list[str]:
    return [digest(path) for path in paths]
