"""Batch files: the jobs they list, read and checked whole before any of them runs.

A batch file lists jobs, each clipped to its own common area, all or nothing per job:

- JSON: ``{"jobs": [...]}`` (or the list alone); a job is ``{"inputs": [...], "outputs": [...]}``, or
  ``{"inputs": [...], "folder": "..."}`` for a stack written as ``NAME_common.tif`` into the folder;
- CSV with a header: pairs, ``input_a,input_b,output_a,output_b``; or stacks, ``inputs,folder`` with the
  inputs of a stack in one cell, separated by ``;`` (by ``|`` in a file whose cells are separated by ``;``).
  The cells may be separated by ``,``, ``;`` or a tab (the first lines tell which); the header's names
  are read without regard to case, and spaces around names and values are dropped. Empty rows are skipped;
  a row fills either the pair columns or the stack columns.

A job may also carry a clear-sky rule for its inputs (:mod:`overlap_clip_plugin.core.qa`): ``"qa"`` (a
preset, ``bits:...`` or ``classes:...``), ``"qa_band"`` (1 by default) and, in JSON, ``"qa_rasters"`` (one QA raster
per input, or null where the QA band is the input's own); a job's rule wins over the command's ``--qa``. In CSV
they are the optional columns ``qa`` and ``qa_band``.

A pair may ask for its change map (:mod:`overlap_clip_plugin.core.change`), made in the job's run from the clipped
pair and committed with it: in JSON ``"change": {"output": "map.tif"}`` with, optionally, ``"magnitude"`` (a path),
``"method"`` (``pca_kmeans``, ``magnitude`` or ``difference``), ``"bands"`` (a list), ``"block"``,
``"components"``, ``"threshold"`` and ``"direction"`` (``both``, ``increase``, ``decrease``); in CSV the optional
columns ``change`` (the map's path) and ``change_method``. Such a job clips onto the common valid area, masked in
both outputs, as ``overlapclip:changemap`` does.

A key or column the command does not know, or a job with both outputs and a folder, refuses the batch.

Relative paths are taken from the batch file's folder. The batch is checked whole before any job runs:
two outputs that are one file, or an output that is an input of any job, refuse it (exit status 2). Paths
are compared as files (symlinks resolved; an existing file by device and inode, so hard links count), a
remote input (``/vsicurl/``, ``http://``) by its name.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

from overlap_clip_plugin.core.change import DIRECTIONS, METHODS, ChangeRequest, ChangeSettings, check_settings
from overlap_clip_plugin.core.errors import QaRuleError, UnsupportedOptionError
from overlap_clip_plugin.core.plan import file_key, output_names
from overlap_clip_plugin.core.qa import QaRule, parse_rule
from overlap_clip_plugin.core.remote import is_remote


@dataclass(frozen=True)
class Job:
    """One run: its inputs and one output path per input; a stack's output folder, made if missing."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    folder: str | None = None
    #: Each input's clear-sky rule; empty where the job gives none.
    qa: tuple[QaRule | None, ...] = ()
    #: A pair's change map, made from the clipped pair in the job's run.
    change: ChangeRequest | None = None

    @property
    def written(self) -> tuple[str, ...]:
        """Every file the job writes: its outputs, then its change map's."""
        return self.outputs + tuple(self.change.outputs if self.change is not None else ())


class BatchFileError(ValueError):
    """A batch file that cannot be read as jobs."""


def _path(base: str, path: str) -> str:
    return path if "://" in path or path.startswith("/vsi") or os.path.isabs(path) else os.path.join(base, path)


#: The keys of a JSON job; the columns of a CSV file, for pairs and for stacks.
JSON_KEYS = ("inputs", "outputs", "folder", "qa", "qa_band", "qa_rasters", "change")
PAIR_COLUMNS = ("input_a", "input_b", "output_a", "output_b")
STACK_COLUMNS = ("inputs", "folder")
#: Optional CSV columns: a clear-sky rule for every input of the row (pairs and stacks), a pair's change map.
RULE_COLUMNS = ("qa", "qa_band")
CHANGE_COLUMNS = ("change", "change_method")
#: The keys of a JSON job's "change".
CHANGE_KEYS = ("output", "magnitude", "method", "bands", "block", "components", "threshold", "direction")

#: The delimiters a CSV file may use, and how many of its first lines tell which one it is.
DELIMITERS = ",;\t"
SNIFFED_LINES = 50


def _names(kind: str, names: Sequence[str]) -> str:
    """``the unknown key 'x'`` or ``the unknown keys 'x', 'y'``."""
    return f"the {kind}{'s' if len(names) > 1 else ''} " + ", ".join(f"'{name}'" for name in names)


def _csv_entries(text: str, path: str) -> list[dict]:
    """The jobs of a CSV batch file as JSON jobs: each row's cells with a value, trimmed."""
    lines = text.splitlines(keepends=True)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            "".join(lines[:SNIFFED_LINES]), delimiters=DELIMITERS
        )
    except csv.Error:
        dialect = csv.excel
    # A stack's inputs share one cell: ';' between them, or '|' where ';' separates the cells.
    inner = "|" if dialect.delimiter == ";" else ";"
    reader = csv.DictReader(lines, dialect=dialect)
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or ()]
    entries: list[dict] = []
    for row in reader:
        number = len(entries) + 1
        if None in row:
            raise BatchFileError(f"Job {number} of '{path}' has more values than the header has columns.")
        cells = {key: value.strip() for key, value in row.items() if value and value.strip()}
        if not cells:
            continue  # a spreadsheet's empty row
        unknown = [key for key in cells if key not in PAIR_COLUMNS + STACK_COLUMNS + RULE_COLUMNS + CHANGE_COLUMNS]
        if unknown:
            raise BatchFileError(
                f"Job {number} of '{path}' has {_names('unknown column', unknown)}; the columns are input_a, "
                "input_b, output_a, output_b (pairs) or inputs, folder (stacks), and qa, qa_band, change, "
                "change_method."
            )
        pair = [key for key in cells if key in PAIR_COLUMNS]
        stack = [key for key in cells if key in STACK_COLUMNS]
        if pair and stack:
            raise BatchFileError(
                f"Job {number} of '{path}' has values in {_names('pair column', pair)} and in "
                f"{_names('stack column', stack)}; fill either input_a, input_b, output_a, output_b or inputs, folder."
            )
        needed = STACK_COLUMNS if stack else PAIR_COLUMNS
        missing = [key for key in needed if key not in cells]
        if missing:
            raise BatchFileError(
                f"Job {number} of '{path}' has no value in {_names('column', missing)}; a "
                f"{'stack' if stack else 'pair'} needs {', '.join(needed)}."
            )
        if stack:
            inputs = [part.strip() for part in cells["inputs"].split(inner) if part.strip()]
            entry: dict = {"inputs": inputs, "folder": cells["folder"]}
        else:
            entry = {"inputs": [cells["input_a"], cells["input_b"]], "outputs": [cells["output_a"], cells["output_b"]]}
        entry.update(_csv_extras(cells, number, path))
        entries.append(entry)
    return entries


def _csv_extras(cells: dict[str, str], number: int, path: str) -> dict:
    """A CSV row's clear-sky rule and change map, as a JSON job's keys."""
    extras: dict = {}
    if "qa_band" in cells and "qa" not in cells:
        raise BatchFileError(f"Job {number} of '{path}' has a qa_band but no qa rule.")
    if "qa" in cells:
        extras["qa"] = cells["qa"]
        if "qa_band" in cells:
            if not cells["qa_band"].isdigit():
                raise BatchFileError(f"Job {number} of '{path}' needs qa_band as a whole number (1 = first band).")
            extras["qa_band"] = int(cells["qa_band"])
    if "change_method" in cells and "change" not in cells:
        raise BatchFileError(f"Job {number} of '{path}' has a change_method but no change map path (change).")
    if "change" in cells:
        extras["change"] = {"output": cells["change"]}
        if "change_method" in cells:
            extras["change"]["method"] = cells["change_method"]
    return extras


def _json_entries(text: str, path: str) -> list:
    """The jobs of a JSON batch file: its "jobs" list, or the file's list itself."""
    loaded = json.loads(text)
    if isinstance(loaded, dict):
        unknown = [key for key in loaded if key != "jobs"]
        if unknown or not isinstance(loaded.get("jobs"), list):
            raise BatchFileError(
                f"The batch file '{path}' has {_names('unknown key', unknown) if unknown else 'no jobs list'}; "
                'it holds {"jobs": [...]} or the list of jobs alone.'
            )
        return loaded["jobs"]
    if not isinstance(loaded, list):
        raise BatchFileError(f"The batch file '{path}' holds {{\"jobs\": [...]}} or the list of jobs alone.")
    return loaded


def _job(base: str, entry: object, number: int, path: str) -> Job:
    """Job ``number`` of the batch file ``path``, from its entry."""
    if not isinstance(entry, dict) or "inputs" not in entry or not ({"outputs", "folder"} & set(entry)):
        raise BatchFileError(f"Job {number} of '{path}' needs inputs and outputs (or inputs and a folder).")
    unknown = [key for key in entry if key not in JSON_KEYS]
    if unknown:
        raise BatchFileError(
            f"Job {number} of '{path}' has {_names('unknown key', unknown)}; a job has inputs and outputs, "
            "or inputs and a folder."
        )
    if "outputs" in entry and "folder" in entry:
        raise BatchFileError(
            f"Job {number} of '{path}' has both outputs and a folder; give outputs (one path per input) or a "
            "folder (for a stack), not both."
        )
    paths = entry["inputs"], entry.get("outputs", [])
    if not all(isinstance(p, list) and all(isinstance(one, str) and one for one in p) for p in paths) or not (
        isinstance(entry.get("folder", "-"), str) and entry.get("folder", "-")
    ):
        raise BatchFileError(
            f"Job {number} of '{path}' needs its inputs and outputs as lists of paths, a folder as a path."
        )
    inputs = [_path(base, one) for one in entry["inputs"]]
    if "folder" in entry:
        folder = _path(base, entry["folder"])
        job = Job(tuple(inputs), tuple(os.path.join(folder, name) for name in output_names(inputs)), folder)
    else:
        job = Job(tuple(inputs), tuple(_path(base, one) for one in entry["outputs"]))
    if len(job.inputs) < 2 or len(job.inputs) != len(job.outputs):
        raise BatchFileError(f"Job {number} of '{path}' needs two or more inputs and one output per input.")
    if {"qa", "qa_band", "qa_rasters"} & set(entry):
        job = replace(job, qa=_rules(base, entry, len(job.inputs), f"Job {number} of '{path}'"))
    if "change" in entry:
        if job.folder is not None or len(job.inputs) != 2:
            raise BatchFileError(
                f"Job {number} of '{path}' asks for a change map, which compares a pair: give two inputs and two "
                "outputs."
            )
        job = replace(job, change=_change(base, entry["change"], f"Job {number} of '{path}'"))
    return job


def _change(base: str, given: object, job: str) -> ChangeRequest:
    """A job's change map, from its "change"."""
    if not isinstance(given, dict) or not isinstance(given.get("output"), str) or not given["output"]:
        raise BatchFileError(f'{job} needs its change map as "change": {{"output": "map.tif", ...}}.')
    unknown = [key for key in given if key not in CHANGE_KEYS]
    if unknown:
        raise BatchFileError(
            f'{job} has {_names("unknown key", unknown)} in "change"; its keys are {", ".join(CHANGE_KEYS)}.'
        )
    defaults = ChangeSettings()
    method, direction = given.get("method", defaults.method), given.get("direction", defaults.direction)
    bands, threshold = given.get("bands"), given.get("threshold")
    block, components = given.get("block", defaults.block_size), given.get("components", defaults.components)
    magnitude = given.get("magnitude")
    whole = [block, components, *(bands or [])]
    if (
        method not in METHODS
        or direction not in DIRECTIONS
        or not (bands is None or (isinstance(bands, list) and bands))
        or not all(isinstance(value, int) and not isinstance(value, bool) for value in whole)
        or not (threshold is None or (isinstance(threshold, (int, float)) and not isinstance(threshold, bool)))
        or not (magnitude is None or (isinstance(magnitude, str) and magnitude))
    ):
        raise BatchFileError(
            f'{job} needs in "change": "method" one of {", ".join(METHODS)}, "direction" one of '
            f'{", ".join(DIRECTIONS)}, "bands" a list of band numbers, "block" and "components" whole numbers, '
            '"threshold" a number and "magnitude" a path.'
        )
    settings = ChangeSettings(
        method=method,
        bands=tuple(bands) if bands else None,
        block_size=block,
        components=components,
        threshold=None if threshold is None else float(threshold),
        direction=direction,
    )
    try:
        check_settings(settings)
    except UnsupportedOptionError as err:
        raise BatchFileError(f"{job}: {err}") from None
    return ChangeRequest(_path(base, given["output"]), settings, None if magnitude is None else _path(base, magnitude))


def _rules(base: str, entry: dict, count: int, job: str) -> tuple[QaRule | None, ...]:
    """The clear-sky rule of each of a job's ``count`` inputs, from its "qa", "qa_band" and "qa_rasters"."""
    text, band, rasters = entry.get("qa"), entry.get("qa_band", 1), entry.get("qa_rasters", [None] * count)
    if not isinstance(text, str) or not text.strip():
        raise BatchFileError(f'{job} needs its clear-sky rule as "qa": a preset, "bits:..." or "classes:...".')
    if not isinstance(band, int) or isinstance(band, bool):
        raise BatchFileError(f'{job} needs "qa_band" as a whole number (1 = first band).')
    if (
        not isinstance(rasters, list)
        or len(rasters) != count
        or not all(r is None or isinstance(r, str) for r in rasters)
    ):
        raise BatchFileError(f'{job} needs "qa_rasters" as a list of {count} paths or nulls, one per input.')
    try:
        return tuple(parse_rule(text, band, None if r is None else _path(base, r)) for r in rasters)
    except QaRuleError as err:
        raise BatchFileError(f"{job}: {err}") from None


def read_jobs(path: str) -> list[Job]:
    """The jobs of the batch file ``path`` (JSON or CSV, by its extension), checked whole (see check_paths)."""
    base = os.path.dirname(os.path.abspath(path))
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
        csv_file = path.lower().endswith(".csv")
        entries = _csv_entries(text, path) if csv_file else _json_entries(text, path)
    except BatchFileError:
        raise
    except (OSError, ValueError, csv.Error) as err:
        raise BatchFileError(f"Cannot read the batch file '{path}': {err}") from err
    jobs = [_job(base, entry, number, path) for number, entry in enumerate(entries, start=1)]
    if not jobs:
        raise BatchFileError(f"The batch file '{path}' lists no job.")
    check_paths(jobs, base)
    return jobs


def _key(path: str) -> object:
    """What makes two paths of a batch one file: a remote input's name, else the core's file key."""
    return ("remote", path) if is_remote(path) else file_key(path)


def _shown(path: str, base: str) -> str:
    """``path`` as the batch file gives it: relative to the batch file's folder when it lies under it."""
    return os.path.relpath(path, base) if path.startswith(os.path.join(base, "")) else path


def check_paths(jobs: Sequence[Job], base: str) -> None:
    """Refuse a batch in which two outputs are one file, or an output is an input of any job: the jobs
    run side by side, so a job would read a file while another writes it, or two would write one."""
    readers: dict[object, tuple[int, str]] = {}
    for number, job in enumerate(jobs, start=1):
        companions = [rule.path for rule in job.qa if rule is not None and rule.path is not None]
        for path in [*job.inputs, *companions]:
            readers.setdefault(_key(path), (number, path))
    writers: dict[object, tuple[int, str]] = {}
    for number, job in enumerate(jobs, start=1):
        for path in job.written:
            key, shown = _key(path), _shown(path, base)
            if key in writers:
                first, other = writers[key]
                also = "also" if first == number else f"job {first}"
                spelt = "" if _shown(other, base) == shown else f" ({also} as '{_shown(other, base)}')"
                if first == number:
                    raise BatchFileError(f"Job {number} writes '{shown}'{spelt} twice; give each output its own path.")
                raise BatchFileError(
                    f"Jobs {first} and {number} both write '{shown}'{spelt}; give each output its own path."
                )
            if key in readers:
                reader, read = readers[key]
                spelt = "" if _shown(read, base) == shown else f" (as '{_shown(read, base)}')"
                if reader == number:
                    raise BatchFileError(
                        f"The output '{shown}' of job {number} is also one of its inputs{spelt}; "
                        "write it to another path."
                    )
                raise BatchFileError(
                    f"The output '{shown}' of job {number} is an input of job {reader}{spelt}; jobs run side by side, "
                    "so write it to another path."
                )
            writers[key] = (number, path)
