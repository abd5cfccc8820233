"""The plugin's translations: collect every user-facing string, keep the Qt .ts sources, compile .qm files.

    python tests/translations.py update    # refresh overlap_clip_plugin/i18n/*.ts from the code
    python tests/translations.py compile   # lrelease each .ts into the .qm the plugin loads

`make translations` runs both. Strings are collected from the code itself: every
``tr("...")`` in the plugin, and every sentence the core raises (the first
argument of an ``OverlapClipError`` subclass) or marks with ``translatable("...")``.
All live in one translation context, ``OverlapClip``. Translations already in a
.ts file are kept; new strings are added unfinished, strings gone from the code
are dropped.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "overlap_clip_plugin")
I18N = os.path.join(PACKAGE, "i18n")
CONTEXT = "OverlapClip"
LANGUAGES = ("zh_CN",)


def _core_error_names() -> set[str]:
    sys.path.insert(0, ROOT)
    from overlap_clip_plugin.core import errors

    return {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.OverlapClipError)
    }


def messages() -> list[str]:
    """Every user-facing string of the plugin, in order of first appearance."""
    errors = _core_error_names()
    found: dict[str, None] = {}
    for folder, _, files in sorted(os.walk(PACKAGE)):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            in_core = os.path.join("overlap_clip_plugin", "core") in path
            with open(path, encoding="utf-8") as handle:
                tree = ast.parse(handle.read(), path)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                wanted = (called in errors or called == "translatable") if in_core else called == "tr"
                first = node.args[0]
                if wanted and isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.setdefault(first.value, None)
                elif wanted and isinstance(first, ast.JoinedStr):
                    raise SystemExit(f"{path}:{node.lineno}: an f-string cannot be translated; use a template")
    return list(found)


def ts_path(language: str) -> str:
    return os.path.join(I18N, f"overlap_clip_plugin_{language}.ts")


def qm_path(language: str) -> str:
    return os.path.join(I18N, f"overlap_clip_plugin_{language}.qm")


def read_ts(path: str) -> dict[str, str | None]:
    """Source string -> translation (None when unfinished)."""
    if not os.path.exists(path):
        return {}
    translations: dict[str, str | None] = {}
    for message in ET.parse(path).getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        finished = translation is not None and translation.get("type") not in ("unfinished", "obsolete")
        translations[source] = translation.text if finished and translation is not None else None
    return translations


def write_ts(path: str, language: str, sources: list[str], translations: dict[str, str | None]) -> None:
    root = ET.Element("TS", version="2.1", language=language, sourcelanguage="en")
    context = ET.SubElement(root, "context")
    ET.SubElement(context, "name").text = CONTEXT
    for source in sources:
        message = ET.SubElement(context, "message")
        ET.SubElement(message, "source").text = source
        translation = ET.SubElement(message, "translation")
        if translations.get(source):
            translation.text = translations[source]
        else:
            translation.set("type", "unfinished")
    ET.indent(root)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n')
        handle.write(ET.tostring(root, encoding="unicode"))
        handle.write("\n")


def update() -> None:
    sources = messages()
    os.makedirs(I18N, exist_ok=True)
    for language in LANGUAGES:
        known = read_ts(ts_path(language))
        write_ts(ts_path(language), language, sources, known)
        unfinished = [s for s in sources if not known.get(s)]
        dropped = [s for s in known if s not in sources]
        print(f"{language}: {len(sources)} strings, {len(unfinished)} to translate, {len(dropped)} dropped")


def compile_all() -> None:
    for language in LANGUAGES:
        subprocess.run(["lrelease", "-silent", ts_path(language), "-qm", qm_path(language)], check=True)
        print(f"{language}: wrote {os.path.relpath(qm_path(language), ROOT)}")


if __name__ == "__main__":
    actions = {"update": update, "compile": compile_all}
    if len(sys.argv) != 2 or sys.argv[1] not in actions:
        raise SystemExit(__doc__)
    actions[sys.argv[1]]()
