"""`make bench`: speed and memory of Overlap Clip, measured against GDAL's own tools in the same run.

Every measurement runs in a child process of its own, so that its peak memory
(maximum resident set size, from the operating system) is its own. Results are
printed as a Markdown table; ratios, not absolute times, are what to compare
across machines.

    python tests/benchmark.py footprint [--sizes 20000,40000] [--folder build/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal, osr

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def measure(job: dict) -> tuple[float, float, str]:
    """Run ``job`` in a child process: wall seconds, peak resident memory in MB, and what it printed."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "_job", json.dumps(job)],
        stdout=subprocess.PIPE,
        text=True,
    )
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"benchmark job {job} failed with exit code {child.returncode}")
    return seconds, usage.ru_maxrss / 1024.0, output.strip()


def prepare(job: dict) -> None:
    """Run a data-making job in a child process too: a large parent would inflate the children's peak
    memory, which counts what a child inherits before it replaces itself with the new program."""
    subprocess.run([sys.executable, os.path.abspath(__file__), "_job", json.dumps(job)], check=True)


def run_job(job: dict) -> None:
    """The child side of :func:`measure`."""
    kind = job["kind"]
    if kind == "footprint":
        from overlap_clip_plugin.core import read_raster
        from overlap_clip_plugin.core.validity import valid_summary

        raster = read_raster(job["path"])
        summary = valid_summary([raster], raster.grid, raster.crs_wkt)
        print(summary.window, summary.count)
    elif kind == "make_scene":
        make_scene(job["path"], job["size"])
    elif kind == "read_mask_whole":
        dataset = gdal.Open(job["path"])
        mask = dataset.GetRasterBand(1).GetMaskBand().ReadAsArray()
        print(int((mask != 0).sum()))
    else:
        raise ValueError(kind)


def make_scene(path: str, size: int) -> str:
    """A ``size`` x ``size`` UInt16 scene whose valid data is a tilted square inside a nodata collar."""
    if os.path.exists(path):
        return path
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    dataset = gdal.GetDriverByName("GTiff").Create(
        path, size, size, 1, gdal.GDT_UInt16, ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=YES"]
    )
    dataset.SetGeoTransform((300000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0))
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(0)
    angle = np.radians(12.0)
    half = size * 0.36
    cols = np.arange(size, dtype=np.float32) + 0.5 - size / 2
    for row_off in range(0, size, 512):
        rows = np.arange(row_off, min(row_off + 512, size), dtype=np.float32)[:, None] + 0.5 - size / 2
        u = cols * np.cos(angle) + rows * np.sin(angle)
        v = -cols * np.sin(angle) + rows * np.cos(angle)
        block = np.where((np.abs(u) <= half) & (np.abs(v) <= half), 1000, 0).astype(np.uint16)
        band.WriteArray(block, 0, row_off)
    dataset = None
    return path


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, GDAL {gdal.__version__}"
    )


def bench_footprint(folder: str, sizes: list[int]) -> None:
    print(f"\nValid-data footprint of one large raster ({machine()})\n")
    print("| raster | valid-data scan (core) | | whole mask read into memory | |")
    print("| --- | --- | --- | --- | --- |")
    print("| size | seconds | peak MB | seconds | peak MB |")
    for size in sizes:
        path = os.path.join(folder, f"scene_{size}.tif")
        prepare({"kind": "make_scene", "path": path, "size": size})
        core = measure({"kind": "footprint", "path": path})
        whole = measure({"kind": "read_mask_whole", "path": path})
        print(f"| {size} x {size} | {core[0]:.1f} | {core[1]:.0f} | {whole[0]:.1f} | {whole[1]:.0f} |")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "_job":
        run_job(json.loads(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["footprint", "all"])
    parser.add_argument("--folder", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--sizes", default="20000,40000")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    if args.what in ("footprint", "all"):
        bench_footprint(args.folder, [int(size) for size in args.sizes.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
