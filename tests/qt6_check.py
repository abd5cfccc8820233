"""Static Qt6 check: every Qt and QGIS enum value is reached through its enum's name.

PyQt6, which QGIS 4 is built on, has only scoped enums: ``Qt.AlignmentFlag.AlignLeft`` exists,
``Qt.AlignLeft`` does not; ``Qgis.ProcessingSourceType.Raster`` exists, ``QgsProcessing.TypeRaster``
does not. The published checkers (flake8-qgis's QGS4xx rules, qgis-plugin-analyzer) carry a fixed list
of renamed Qt enums and miss the QGIS ones; QGIS's own migration script finds them by looking at the
PyQt6 build of QGIS. This check does the same with the PyQGIS at hand: it reads each file's syntax
tree, resolves every ``Name.attribute`` chain that starts at a name imported from ``qgis`` or
``qgis.PyQt``, and fails where the value is an enum member reached without its enum's name.

A name that does not exist in the running QGIS belongs to a version branch for another one and is
not judged here; `make test` runs this check under QGIS 3.22, 3.40 and 3.44 (the matrix), so each
branch is judged by a QGIS that has it.

Usage: ``python tests/qt6_check.py FILE_OR_FOLDER ...``; exit status 1 when anything is found.
"""

from __future__ import annotations

import ast
import enum
import importlib
import os
import sys
from collections.abc import Iterator

MISSING = object()


def python_files(paths: list[str]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            for folder, _, names in sorted(os.walk(path)):
                yield from (os.path.join(folder, name) for name in sorted(names) if name.endswith(".py"))
        else:
            yield path


def is_enum_member(value: object) -> bool:
    """True for a member of a sip enum (PyQt5, QGIS 3) or of a Python enum (PyQt6, newer QGIS)."""
    # sip does not export its enum metatype by name: it is the metatype of any sip enum.
    from qgis.PyQt.QtCore import Qt

    return isinstance(value, enum.Enum) or type(type(value)) is type(type(Qt.AlignmentFlag.AlignLeft))


def imported_names(tree: ast.AST) -> dict[str, object]:
    """Local name -> object, for every name the file imports from qgis or qgis.PyQt."""
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "qgis":
            try:
                module = importlib.import_module(node.module)
            except ImportError:
                continue
            for alias in node.names:
                value = getattr(module, alias.name, MISSING)
                if value is MISSING:
                    try:
                        value = importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        continue
                names[alias.asname or alias.name] = value
    return names


def chain(node: ast.expr) -> list[str] | None:
    """``["Qt", "AlignmentFlag", "AlignLeft"]`` for ``Qt.AlignmentFlag.AlignLeft``; None for other nodes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *parts]
    return None


def unscoped_enums(path: str) -> list[str]:
    """``path:line: message`` for every enum member the file reaches without its enum's name."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    names = imported_names(tree)
    found = []
    outer = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        # Judge each chain once, at its outermost attribute.
        if not isinstance(node, ast.Attribute) or id(node) in outer:
            continue
        parts = chain(node)
        if not parts or parts[0] not in names:
            continue
        value = names[parts[0]]
        for index, part in enumerate(parts[1:], start=1):
            owner = value
            value = getattr(owner, part, MISSING)
            if value is MISSING:
                break
            if is_enum_member(value) and type(value) is not owner:
                written = ".".join(parts[: index + 1])
                found.append(
                    f"{path}:{node.lineno}: {written} is an enum value reached without its enum; "
                    f"PyQt6 (QGIS 4) knows it only as {type(value).__qualname__}.{part}"
                )
                break
    return found


def main(argv: list[str]) -> int:
    from qgis.core import Qgis

    problems = [problem for path in python_files(argv) for problem in unscoped_enums(path)]
    for problem in problems:
        print(problem)
    print(f"qt6_check (QGIS {Qgis.QGIS_VERSION}): {len(problems)} unscoped enum value(s) in {', '.join(argv)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
