"""`make bench` for the web service (issue 23), run by tests/benchmark.py (`python tests/benchmark.py service`).

- its overhead over the core on a 2000 x 2000 pair: a client's whole round (two uploads, the job run at once,
  both outputs downloaded) against ``run_clip`` of the same files in one process, and the job alone (the
  overlap's GeoJSON and outlines included) against the core, each the best of a few alternated runs; then
  what the page asks for besides, made on its first request: the quick-looks (all four drawn by the first
  one's request) and the zip;
- load: 20 clients at once on 127.0.0.1, each one small job (uploaded once), from a bounded pool; every job
  must complete and none be lost; the latencies' median and 95th percentile."""

from __future__ import annotations

import concurrent.futures
import os
import sys
import tempfile
import time

import numpy as np
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from benchmark import machine, make_pair, pair_paths  # noqa: E402
from test_service import PAIR, Service  # noqa: E402

from overlap_clip_plugin.core.run import run_clip  # noqa: E402

#: The overhead's pair and its target: the service at most this many times the core.
SIZE, TARGET = 2000, 1.3
#: Load: jobs, and clients at once.
JOBS = CLIENTS = 20


def _core(paths, folder) -> float:
    start = time.perf_counter()
    run_clip(list(paths), [os.path.join(folder, "core_a.tif"), os.path.join(folder, "core_b.tif")], overlap="polygon")
    return time.perf_counter() - start


def _round(service, paths) -> tuple[float, float, float, float]:
    """A client's whole round, the execute request's part of it, and the first requests of the quick-looks
    and of the zip (seconds)."""
    start = time.perf_counter()
    inputs = {"a": service.href(paths[0]), "b": service.href(paths[1]), "shift": False}
    sent = time.perf_counter()
    # Run at once, whatever the size: the request's time is the job's.
    answer = service.execute("overlap-clip", inputs, prefer="wait")
    executed = time.perf_counter() - sent
    assert answer.status_code == 200, answer.text
    for output in answer.json()["outputs"]:
        assert requests.get(output["href"], timeout=120).status_code == 200
    whole = time.perf_counter() - start
    start = time.perf_counter()
    for preview in answer.json()["previews"]:
        assert requests.get(preview["href"], timeout=120).status_code == 200
    previews = time.perf_counter() - start
    start = time.perf_counter()
    assert requests.get(answer.json()["archive"]["href"], timeout=120).status_code == 200
    return whole, executed, previews, time.perf_counter() - start


def bench_service(folder: str, repeat: int) -> None:
    print(f"\nThe web service against the core ({machine()})\n")
    make_pair(folder, SIZE)
    pair = pair_paths(folder, SIZE)
    paths = (pair["a"], pair["b"])
    with tempfile.TemporaryDirectory(dir=folder) as work:
        service = Service(os.path.join(work, "service"), "--max-upload", str(4 << 30))
        try:
            cores, rounds, jobs, previews, archives = [], [], [], [], []
            for _ in range(max(repeat, 3)):
                cores.append(_core(paths, work))
                whole, executed, drawn, zipped = _round(service, paths)
                rounds.append(whole)
                jobs.append(executed)
                previews.append(drawn)
                archives.append(zipped)
            core = min(cores)
            runs = len(cores)
            print(f"{SIZE} x {SIZE} x 4 UInt16 pair, B on A's lattice, 60 % overlap a side; best of {runs} runs.\n")
            print("| run | seconds | over the core | target |")
            print("| --- | --- | --- | --- |")
            print(f'| `run_clip(overlap="polygon")`, one process | {core:.3f} | 1.00 | — |')
            met = "met" if min(jobs) / core <= TARGET else "missed"
            print(
                f"| the execute request (the job and its overlap) | {min(jobs):.3f} | "
                f"**{min(jobs) / core:.2f}** ({met}) | at most {TARGET} |"
            )
            print(
                f"| a client's round: two uploads, the job, two downloads | {min(rounds):.3f} | "
                f"{min(rounds) / core:.2f} | — |"
            )
            print(
                f"| then the page's four quick-looks (drawn on the first one's request) | {min(previews):.3f} | "
                f"{min(previews) / core:.2f} | — |"
            )
            print(
                f"| then the zip (made on its first request) | {min(archives):.3f} | {min(archives) / core:.2f} | — |"
            )
        finally:
            service.stop()

        service = Service(os.path.join(work, "load"))
        try:
            inputs = {"a": service.href(PAIR[0]), "b": service.href(PAIR[1]), "shift": False}

            def one(_index: int) -> tuple[int, float]:
                start = time.perf_counter()
                answer = service.execute("overlap-clip", inputs)
                return answer.status_code, time.perf_counter() - start

            start = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(one, range(JOBS)))
            wall = time.perf_counter() - start
            done = sum(1 for status, _ in results if status == 200)
            latencies = np.array([seconds for _, seconds in results])
            jobs_made = len(os.listdir(os.path.join(service.folder, "jobs")))
        finally:
            service.stop()
    lost = "none lost" if done == jobs_made == JOBS else "SOME LOST"
    print(
        f"\nLoad: {JOBS} jobs (the 768 x 768 Sentinel-2 pair of tests/data) from {CLIENTS} clients at once, "
        f"2 running at a time: {done} of {JOBS} completed, {jobs_made} job folders kept ({lost}), "
        f"in {wall:.2f} s; latency median {np.median(latencies):.2f} s, 95th percentile "
        f"{np.percentile(latencies, 95):.2f} s, largest {latencies.max():.2f} s."
    )
