"""The batch command: ``python3 -m overlap_clip_plugin BATCH_FILE [options]``.

A batch file lists jobs, each clipped to its own common area, all or nothing per job:

- JSON: ``{"jobs": [...]}`` (or the list alone); a job is ``{"inputs": [...], "outputs": [...]}``, or
  ``{"inputs": [...], "folder": "..."}`` for a stack written as ``NAME_common.tif`` into the folder;
- CSV with a header: pairs, ``input_a,input_b,output_a,output_b``; or stacks, ``inputs,folder`` with the
  inputs separated by ``;``.

Relative paths are taken from the batch file's folder. The batch is checked whole before any job runs:
two outputs that are one file, or an output that is an input of any job, refuse it (exit status 2). Paths
are compared as files (symlinks resolved; an existing file by device and inode, so hard links count), a
remote input (``/vsicurl/``, ``http://``) by its name. Jobs run side by side; their pieces (reading the
inputs, scanning valid data, writing each output) go to a local thread pool, to a ``LocalCluster``
(``--local-workers N``) or to an existing Dask cluster (``--scheduler ADDRESS``). Dask is imported only
for those two options. The exit status is 0 when every job was written, 1 when any failed (the others
are written), 2 for a batch file or options that cannot be used.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from overlap_clip_plugin.core.errors import ExecutorError, OverlapClipError
from overlap_clip_plugin.core.executors import make_executor
from overlap_clip_plugin.core.plan import RESAMPLING_METHODS, _file_key, output_names
from overlap_clip_plugin.core.remote import is_remote
from overlap_clip_plugin.core.run import run_clip

#: How many jobs the client keeps going at once (each waits on its pieces most of the time).
JOBS_AT_ONCE = 8


@dataclass(frozen=True)
class Job:
    """One run: its inputs and one output path per input; a stack's output folder, made if missing."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    folder: str | None = None


class BatchFileError(ValueError):
    """A batch file that cannot be read as jobs."""


def _path(base: str, path: str) -> str:
    return path if "://" in path or path.startswith("/vsi") or os.path.isabs(path) else os.path.join(base, path)


def _stack(base: str, inputs: Sequence[str], folder: str) -> Job:
    inputs = [_path(base, path) for path in inputs]
    folder = _path(base, folder)
    return Job(tuple(inputs), tuple(os.path.join(folder, name) for name in output_names(inputs)), folder)


def read_jobs(path: str) -> list[Job]:
    """The jobs of the batch file ``path`` (JSON or CSV, by its extension)."""
    base = os.path.dirname(os.path.abspath(path))
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark.
        with open(path, encoding="utf-8-sig", newline="") as handle:
            if path.lower().endswith(".csv"):
                rows = list(csv.DictReader(handle))
                entries: list[dict] = [
                    {"inputs": [row["input_a"], row["input_b"]], "outputs": [row["output_a"], row["output_b"]]}
                    if "input_a" in row
                    else {"inputs": [part for part in row["inputs"].split(";") if part], "folder": row["folder"]}
                    for row in rows
                ]
            else:
                loaded = json.load(handle)
                entries = loaded["jobs"] if isinstance(loaded, dict) else loaded
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BatchFileError(f"Cannot read the batch file '{path}': {err}") from err
    jobs = []
    for number, entry in enumerate(entries, start=1):
        try:
            inputs = list(entry["inputs"])
            if "folder" in entry:
                jobs.append(_stack(base, inputs, entry["folder"]))
            else:
                jobs.append(Job(tuple(_path(base, p) for p in inputs), tuple(_path(base, p) for p in entry["outputs"])))
        except (KeyError, TypeError) as err:
            raise BatchFileError(f"Job {number} of '{path}' needs inputs and outputs (or a folder): {err}") from err
        if len(jobs[-1].inputs) < 2 or len(jobs[-1].inputs) != len(jobs[-1].outputs):
            raise BatchFileError(f"Job {number} of '{path}' needs two or more inputs and one output per input.")
    if not jobs:
        raise BatchFileError(f"The batch file '{path}' lists no job.")
    check_paths(jobs, base)
    return jobs


def _key(path: str) -> object:
    """What makes two paths of a batch one file: a remote input's name, else the core's file key."""
    return ("remote", path) if is_remote(path) else _file_key(path)


def _shown(path: str, base: str) -> str:
    """``path`` as the batch file gives it: relative to the batch file's folder when it lies under it."""
    return os.path.relpath(path, base) if path.startswith(os.path.join(base, "")) else path


def check_paths(jobs: Sequence[Job], base: str) -> None:
    """Refuse a batch in which two outputs are one file, or an output is an input of any job: the jobs
    run side by side, so a job would read a file while another writes it, or two would write one."""
    readers: dict[object, tuple[int, str]] = {}
    for number, job in enumerate(jobs, start=1):
        for path in job.inputs:
            readers.setdefault(_key(path), (number, path))
    writers: dict[object, tuple[int, str]] = {}
    for number, job in enumerate(jobs, start=1):
        for path in job.outputs:
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


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m overlap_clip_plugin",
        description="Clip every job of a batch file (pairs or stacks of rasters) to its common area.",
    )
    parser.add_argument("batch", help="a JSON or CSV batch file (see the README's 'Batches and clusters')")
    parser.add_argument(
        "--grid",
        choices=("reference", "own"),
        default="reference",
        help="every output on the reference raster's grid (default), or each on its own grid",
    )
    parser.add_argument("--reference", type=int, default=1, help="the reference raster's place in a job (1 = first)")
    parser.add_argument("--area", choices=("extents", "valid"), default="extents", help="the common area")
    parser.add_argument(
        "--mask-common", action="store_true", help="nodata in every output wherever any raster has no valid data"
    )
    parser.add_argument("--resampling", choices=RESAMPLING_METHODS, default="near")
    parser.add_argument("--co", action="append", default=[], metavar="KEY=VALUE", help="a GDAL creation option")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="the address of an existing Dask scheduler")
    parser.add_argument("--local-workers", type=int, metavar="N", help="start a Dask LocalCluster of N processes")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="threads of the local pool (without Dask)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    return parser.parse_args(argv)


class FolderError(OSError):
    """A stack folder that cannot be made."""


class Folders:
    """The stack folders a batch makes (with any missing parents), removed again if they are still empty
    once no job of the batch writes into them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[str, list[str]] = {}
        self._users: dict[str, int] = {}

    def enter(self, folder: str) -> None:
        """Make ``folder`` unless it is there; a job is about to write into it."""
        with self._lock:
            if not os.path.isdir(folder):
                missing = []
                parent = folder
                while not os.path.lexists(parent) and os.path.dirname(parent) != parent:
                    missing.append(parent)
                    parent = os.path.dirname(parent)
                try:
                    os.makedirs(folder, exist_ok=True)
                except OSError as err:
                    if os.path.lexists(parent) and not os.path.isdir(parent):
                        reason = "a file has that name" if parent == folder else f"'{parent}' is a file"
                    else:
                        reason = (err.strerror or str(err)).lower()
                    raise FolderError(f"Cannot make the output folder '{folder}': {reason}.") from err
                self._made[folder] = missing
            self._users[folder] = self._users.get(folder, 0) + 1

    def leave(self, folder: str) -> None:
        """A job has ended: remove the folders the batch made for it if they are empty and no job uses them."""
        with self._lock:
            self._users[folder] -= 1
            if self._users[folder] or folder not in self._made:
                return
            try:
                for made in self._made.pop(folder):
                    os.rmdir(made)  # refused (and the parents kept) when a job wrote into it
            except OSError:
                pass


def run_batch(jobs: Sequence[Job], options: argparse.Namespace, executor: concurrent.futures.Executor, out) -> int:
    """Run ``jobs`` through ``executor``, saying each one's end on ``out``; how many failed."""
    grid = "own" if options.grid == "own" else options.reference - 1
    lock = threading.Lock()
    folders = Folders()
    done: list[int] = []
    failed: list[tuple[int, str]] = []

    def one(number: int, job: Job) -> None:
        said: list[str] = []
        entered = False
        try:
            if job.folder is not None:
                folders.enter(job.folder)
                entered = True
            run_clip(
                job.inputs,
                job.outputs,
                grid,
                options.area,
                options.mask_common,
                options.resampling,
                options.co,
                warn=said.append,
                executor=executor,
            )
            message = f"written: {', '.join(job.outputs)}"
        except (OverlapClipError, ValueError, OSError) as err:
            message = f"FAILED, nothing written: {err}"
            with lock:
                failed.append((number, str(err)))
        finally:
            if entered:
                folders.leave(str(job.folder))
        with lock:
            done.append(number)
            if not options.quiet:
                print(f"[{len(done)}/{len(jobs)}] job {number}: {message}", file=out, flush=True)
                for warning in said:
                    print(f"    warning: {warning}", file=out, flush=True)

    with concurrent.futures.ThreadPoolExecutor(min(JOBS_AT_ONCE, len(jobs))) as client_side:
        for future in [client_side.submit(one, number, job) for number, job in enumerate(jobs, start=1)]:
            future.result()
    written = len(jobs) - len(failed)
    files = sum(len(job.outputs) for number, job in enumerate(jobs, start=1) if number not in dict(failed))
    print(f"Written: {written} of {len(jobs)} jobs ({files} files).", file=out)
    for number, reason in sorted(failed):
        print(f"Failed: job {number}: {reason}", file=out)
    return len(failed)


def main(argv: Sequence[str] | None = None) -> int:
    """The command; returns its exit status."""
    options = _arguments(argv)
    start = time.monotonic()
    try:
        jobs = read_jobs(options.batch)
        if options.reference < 1 or (
            options.grid == "reference" and any(options.reference > len(j.inputs) for j in jobs)
        ):
            raise BatchFileError(f"--reference {options.reference} is not a place in every job.")
        if options.threads < 1 or (options.local_workers is not None and options.local_workers < 1):
            raise BatchFileError("--threads and --local-workers need 1 or more.")
        if options.scheduler and options.local_workers:
            raise BatchFileError("Give --scheduler or --local-workers, not both.")
        with make_executor(options.scheduler, options.local_workers, options.threads) as executor:
            failures = run_batch(jobs, options, executor, sys.stdout)
    except BatchFileError as err:
        print(err, file=sys.stderr)
        return 2
    except ExecutorError as err:
        print(err, file=sys.stderr)
        return 2
    print(f"Took {time.monotonic() - start:.2f} s.")
    return 1 if failures else 0
