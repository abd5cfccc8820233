"""`make bench`: speed and memory of Overlap Clip, measured against GDAL's own tools in the same run.

Every measurement runs in a child process of its own, so that its peak memory
(maximum resident set size, from the operating system) is its own. Results are
printed as a Markdown table; ratios, not absolute times, are what to compare
across machines.

    python tests/benchmark.py footprint [--sizes 20000,40000] [--folder build/bench]
    python tests/benchmark.py scale      # stacks on 1 and 2 workers, batches, COGs over HTTP (bench_scale.py)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
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
        from overlap_clip_plugin.core.raster import Read
        from overlap_clip_plugin.core.validity import valid_summary

        raster = read_raster(job["path"])
        summary = valid_summary([Read.on(raster, raster.grid)], raster.grid)
        print(summary.window, summary.count)
    elif kind == "make_scene":
        make_scene(job["path"], job["size"], tuple(job.get("origin", (300000.0, 5000000.0))))
    elif kind == "make_flat":
        make_flat(job["path"], job["size"], tuple(job["origin"]))
    elif kind == "make_small_scenes":
        for index in range(job["count"]):
            path = os.path.join(job["folder"], f"small_{index}.tif")
            if not os.path.exists(path):
                origin = (300000.0 + 10.0 * (index % 7), 5000000.0 - 10.0 * (index % 5))
                make_scene(path, 64, origin)
    elif kind == "plan":
        from overlap_clip_plugin.core import plan_clip

        inputs = [os.path.join(job["folder"], f"small_{index}.tif") for index in range(job["count"])]
        outputs = [os.path.join(job["folder"], "out", f"small_{index}_common.tif") for index in range(job["count"])]
        os.makedirs(os.path.join(job["folder"], "out"), exist_ok=True)
        start = time.perf_counter()
        plan_clip(inputs, outputs)
        print(json.dumps({"seconds": time.perf_counter() - start}))
    elif kind == "core_bytes":
        from overlap_clip_plugin.core import AREAS, clip_pair

        before = _read_chars()
        start = time.perf_counter()
        clip_pair(job["a"], job["b"], job["out_a"], job["out_b"], area=AREAS[job["area"]], mask_common=job["mask"])
        print(json.dumps({"seconds": time.perf_counter() - start, "bytes": _read_chars() - before}))
    elif kind == "make_pair":
        make_pair(job["folder"], job["size"])
    elif kind in CLIP_JOBS:
        start = time.perf_counter()
        CLIP_JOBS[kind](job)
        print(json.dumps({"seconds": time.perf_counter() - start}))
    elif kind == "read_mask_whole":
        dataset = gdal.Open(job["path"])
        mask = dataset.GetRasterBand(1).GetMaskBand().ReadAsArray()
        print(int((mask != 0).sum()))
    else:
        raise ValueError(kind)


def _collared(path: str, size: int, origin: tuple[float, float]) -> gdal.Dataset:
    """A new ``size`` x ``size`` UInt16 UTM 33N GeoTIFF of 10 m pixels at ``origin``, nodata 0 declared."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    dataset = gdal.GetDriverByName("GTiff").Create(
        path, size, size, 1, gdal.GDT_UInt16, ["TILED=YES", "COMPRESS=DEFLATE", "BIGTIFF=YES"]
    )
    dataset.SetGeoTransform((origin[0], 10.0, 0.0, origin[1], 0.0, -10.0))
    dataset.SetProjection(srs.ExportToWkt())
    dataset.GetRasterBand(1).SetNoDataValue(0)
    return dataset


def make_scene(path: str, size: int, origin: tuple[float, float] = (300000.0, 5000000.0)) -> str:
    """A ``size`` x ``size`` UInt16 scene whose valid data is a tilted square inside a nodata collar."""
    if os.path.exists(path):
        return path
    dataset = _collared(path, size, origin)
    band = dataset.GetRasterBand(1)
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


def make_flat(path: str, size: int, origin: tuple[float, float]) -> str:
    """A ``size`` x ``size`` UInt16 raster of one valid value (nodata 0 declared, so masks read the data)."""
    if os.path.exists(path):
        return path
    dataset = _collared(path, size, origin)
    band = dataset.GetRasterBand(1)
    block = np.full((512, size), 1000, dtype=np.uint16)
    for row_off in range(0, size, 512):
        band.WriteArray(block[: min(512, size - row_off)], 0, row_off)
    dataset = None
    return path


def pair_paths(folder: str, size: int) -> dict:
    return {
        "a": os.path.join(folder, f"a_{size}.tif"),
        "b": os.path.join(folder, f"b_{size}.tif"),
        "b20": os.path.join(folder, f"b20_{size}.tif"),
    }


def write_raster(path: str, transform: tuple, size: int, bands: int = 4) -> None:
    """A tiled, uncompressed UInt16 GeoTIFF of noisy values (``size`` x ``size`` x ``bands``)."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    dataset = gdal.GetDriverByName("GTiff").Create(
        path, size, size, bands, gdal.GDT_UInt16, ["TILED=YES", "BIGTIFF=IF_SAFER"]
    )
    dataset.SetGeoTransform(transform)
    dataset.SetProjection(srs.ExportToWkt())
    generator = np.random.default_rng(size)
    for row_off in range(0, size, 1024):
        rows = min(1024, size - row_off)
        for index in range(1, bands + 1):
            block = generator.integers(0, 10000, (rows, size), dtype=np.uint16)
            dataset.GetRasterBand(index).WriteArray(block, 0, row_off)
    dataset = None


def make_pair(folder: str, size: int) -> None:
    """A (10 m), B on A's lattice, and B20 on a 20 m grid a third of a pixel off, each overlapping A by 60% per axis."""
    paths = pair_paths(folder, size)
    x0, y0, shift = 300000.0, 5000000.0, 0.4 * size * 10.0
    if not os.path.exists(paths["a"]):
        write_raster(paths["a"], (x0, 10.0, 0.0, y0, 0.0, -10.0), size)
    if not os.path.exists(paths["b"]):
        write_raster(paths["b"], (x0 + shift, 10.0, 0.0, y0 - shift, 0.0, -10.0), size)
    if not os.path.exists(paths["b20"]):
        write_raster(paths["b20"], (x0 + shift + 20.0 / 3, 20.0, 0.0, y0 - shift - 20.0 / 3, 0.0, -20.0), size // 2)


def _qgis():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    return app


def job_core(job: dict) -> None:
    from overlap_clip_plugin.core import AREAS, clip_pair

    clip_pair(
        job["a"],
        job["b"],
        job["out_a"],
        job["out_b"],
        creation_options=job.get("options", []),
        area=AREAS[job.get("area", 0)],
    )


def job_processing(job: dict) -> None:
    app = _qgis()
    sys.path.append(os.path.join(app.pkgDataPath(), "python", "plugins"))
    import processing
    from processing.core.Processing import Processing

    from overlap_clip_plugin import classFactory

    Processing.initialize()
    plugin = classFactory(None)
    plugin.initProcessing()
    start = time.perf_counter()
    processing.run(
        "overlapclip:clippair",
        {"INPUT_A": job["a"], "INPUT_B": job["b"], "OUTPUT_A": job["out_a"], "OUTPUT_B": job["out_b"]},
    )
    print(json.dumps({"inner": time.perf_counter() - start}))


def job_qgis_process(job: dict) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    params = [f"INPUT_A={job['a']}", f"INPUT_B={job['b']}", f"OUTPUT_A={job['out_a']}", f"OUTPUT_B={job['out_b']}"]
    params.append(f"AREA={job.get('area', 0)}")
    subprocess.run(
        [QGIS_PROCESS, "run", "overlapclip:clippair", "--", *params], env=env, check=True, capture_output=True
    )


def job_qgis_process_start(job: dict) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run([QGIS_PROCESS, "help", "overlapclip:clippair"], env=env, check=True, capture_output=True)


def job_gdal_translate(job: dict) -> None:
    for source, output, window in ((job["a"], job["out_a"], job["win_a"]), (job["b"], job["out_b"], job["win_b"])):
        options = [arg for option in job.get("options", []) for arg in ("-co", option)]
        subprocess.run(["gdal_translate", "-q", "-srcwin", *map(str, window), *options, source, output], check=True)


def job_align(job: dict) -> None:
    _qgis()
    from qgis.analysis import QgsAlignRaster
    from qgis.core import Qgis

    # QGIS 3.34 moved the resampling enum into Qgis.
    resampling = getattr(Qgis, "GdalResampleAlgorithm", None) or QgsAlignRaster.ResampleAlg
    align = QgsAlignRaster()
    items = [QgsAlignRaster.Item(job["a"], job["out_a"]), QgsAlignRaster.Item(job["b"], job["out_b"])]
    for item in items:
        item.resampleMethod = resampling.RA_NearestNeighbour
    align.setRasters(items)
    align.setParametersFromRaster(job["a"])
    align.setClipExtent(*job["extent"])
    if not align.run():
        raise RuntimeError(align.errorMessage())


def job_numpy(job: dict) -> None:
    """What the original script did: read each window whole into memory, then write it."""
    for source, output, (col, row, width, height) in (
        (job["a"], job["out_a"], job["win_a"]),
        (job["b"], job["out_b"], job["win_b"]),
    ):
        dataset = gdal.Open(source)
        data = dataset.ReadAsArray(col, row, width, height)
        out = gdal.GetDriverByName("GTiff").Create(output, width, height, dataset.RasterCount, gdal.GDT_UInt16)
        x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
        out.SetGeoTransform((x0 + col * dx, dx, 0.0, y0 + row * dy, 0.0, dy))
        out.SetProjection(dataset.GetProjection())
        out.WriteRaster(0, 0, width, height, data.tobytes())
        out = None


CLIP_JOBS = {
    "core": job_core,
    "processing": job_processing,
    "qgis_process": job_qgis_process,
    "qgis_process_start": job_qgis_process_start,
    "gdal_translate": job_gdal_translate,
    "align": job_align,
    "numpy": job_numpy,
}
QGIS_PROCESS = "/usr/bin/qgis_process.bin" if os.path.exists("/usr/bin/qgis_process.bin") else "qgis_process"


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


def _read_chars() -> int:
    """Bytes this process has read through system calls so far (``rchar``: page cache or disk alike)."""
    with open("/proc/self/io", encoding="ascii") as handle:
        return int(next(line for line in handle if line.startswith("rchar:")).split()[1])


def bench_plan(folder: str) -> None:
    print(f"\nPlanning a stack of small scenes ({machine()})\n")
    print("| scenes | plan seconds | ms per scene |")
    print("| --- | --- | --- |")
    per_scene = {}
    for count in (96, 384):
        prepare({"kind": "make_small_scenes", "folder": folder, "count": count})
        best = min(
            json.loads(measure({"kind": "plan", "folder": folder, "count": count})[2].splitlines()[-1])["seconds"]
            for _ in range(3)
        )
        per_scene[count] = 1000.0 * best / count
        print(f"| {count} | {best:.3f} | {per_scene[count]:.2f} |")
    print(f"\nPer-scene time at 384 over 96: {per_scene[384] / per_scene[96]:.2f} (1.0 is linear).")


def bench_bytes(folder: str, size: int) -> None:
    print(f"\nBytes read by the core, {size} x {size} scenes with nodata collars ({machine()})\n")
    a = os.path.join(folder, f"collar_a_{size}.tif")
    b = os.path.join(folder, f"collar_b_{size}.tif")
    prepare({"kind": "make_scene", "path": a, "size": size})
    prepare({"kind": "make_scene", "path": b, "size": size, "origin": [300000.0 + 2000.0, 5000000.0 - 2000.0]})
    print("| run | seconds | MB read | bytes over AREA=0 |")
    print("| --- | --- | --- | --- |")
    results = {}
    for label, area, mask in (("AREA=0", 0, False), ("AREA=1", 1, False), ("AREA=1, MASK_COMMON", 1, True)):
        job = {
            "kind": "core_bytes",
            "a": a,
            "b": b,
            "out_a": os.path.join(folder, "bytes_a.tif"),
            "out_b": os.path.join(folder, "bytes_b.tif"),
            "area": area,
            "mask": mask,
        }
        results[label] = json.loads(measure(job)[2].splitlines()[-1])
        ratio = results[label]["bytes"] / results["AREA=0"]["bytes"]
        print(f"| {label} | {results[label]['seconds']:.2f} | {results[label]['bytes'] / 1e6:.0f} | {ratio:.2f} |")


def bench_valid(folder: str, size: int, large: int, repeat: int) -> None:
    """AREA=1 through qgis_process against the core, and a small overlap of two large rasters."""
    print(f"\nclippair with AREA=1 ({machine()})\n")
    a = os.path.join(folder, f"collar_a_{size}.tif")
    b = os.path.join(folder, f"collar_b_{size}.tif")
    prepare({"kind": "make_scene", "path": a, "size": size})
    prepare({"kind": "make_scene", "path": b, "size": size, "origin": [300000.0 + 2000.0, 5000000.0 - 2000.0]})
    base = {"a": a, "b": b, "out_a": os.path.join(folder, "valid_a.tif"), "out_b": os.path.join(folder, "valid_b.tif")}
    core = timed({**base, "kind": "core", "area": 1}, repeat)
    cli = timed({**base, "kind": "qgis_process", "area": 1}, repeat)
    start = timed({**base, "kind": "qgis_process_start"}, repeat)
    beyond = cli["wall"] - start["wall"]
    print("| run | seconds |")
    print("| --- | --- |")
    print(f"| core `clip_pair(area='valid')`, {size} x {size} scenes with collars | {core['seconds']:.2f} |")
    print(f"| `qgis_process run overlapclip:clippair --AREA=1` (whole command) | {cli['wall']:.2f} |")
    print(f"| `qgis_process help overlapclip:clippair` (start-up only) | {start['wall']:.2f} |")
    print(f"\nqgis_process beyond its start-up over the core: {beyond / core['seconds']:.2f}x")
    big_a = os.path.join(folder, f"flat_a_{large}.tif")
    big_b = os.path.join(folder, f"flat_b_{large}.tif")
    prepare({"kind": "make_flat", "path": big_a, "size": large, "origin": [300000.0, 5000000.0]})
    corner = (large - 500) * 10.0
    prepare({"kind": "make_flat", "path": big_b, "size": large, "origin": [300000.0 + corner, 5000000.0 - corner]})
    big = {
        "a": big_a,
        "b": big_b,
        "out_a": os.path.join(folder, "big_a.tif"),
        "out_b": os.path.join(folder, "big_b.tif"),
    }
    big_core = timed({**big, "kind": "core", "area": 1}, repeat)
    big_cli = timed({**big, "kind": "qgis_process", "area": 1}, repeat)
    print(f"\nA 500 x 500 overlap of two {large} x {large} rasters with AREA=1:")
    print(f"core {big_core['seconds']:.2f} s; qgis_process {big_cli['wall']:.2f} s whole command, ")
    print(f"{big_cli['wall'] - start['wall']:.2f} s beyond its start-up.")


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


def timed(job: dict, repeat: int) -> dict:
    """Best of ``repeat`` runs of ``job``: the operation's own seconds, the process's wall seconds and peak MB."""
    best: dict = {}
    for _ in range(repeat):
        wall, peak, output = measure(job)
        inner = json.loads(output.splitlines()[-1])["seconds"]
        for line in output.splitlines():
            if line.startswith('{"inner"'):
                inner = json.loads(line)["inner"]
        result = {"seconds": inner, "wall": wall, "peak": peak}
        if not best or result["seconds"] < best["seconds"]:
            best = result
        if not job.get("keep"):
            for key in ("out_a", "out_b"):
                for suffix in ("", ".aux.xml"):
                    if os.path.exists(job[key] + suffix):
                        os.remove(job[key] + suffix)
    return best


def pair_job(kind: str, folder: str, size: int, b_key: str = "b", extension: str = ".tif") -> dict:
    paths = pair_paths(folder, size)
    shift, common = round(0.4 * size), size - round(0.4 * size)
    x0, y0 = 300000.0, 5000000.0
    return {
        "kind": kind,
        "a": paths["a"],
        "b": paths[b_key],
        "out_a": os.path.join(folder, f"out_{kind}_a{extension}"),
        "out_b": os.path.join(folder, f"out_{kind}_b{extension}"),
        "win_a": [shift, shift, common, common],
        "win_b": [0, 0, common, common],
        "extent": [x0 + shift * 10.0, y0 - size * 10.0, x0 + size * 10.0, y0 - shift * 10.0],
    }


def warm(paths) -> None:
    """Read the inputs once, so that every contender finds them in the page cache alike."""
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(64 * 1024 * 1024):
                pass


def bench_clip(folder: str, sizes: list[int], repeat: int) -> None:
    print(f"\nClipping a pair ({machine()}); best of {repeat}\n")
    largest = max(sizes)
    for size in sizes:
        prepare({"kind": "make_pair", "folder": folder, "size": size})
    warm(pair_paths(folder, largest).values())
    common = largest - round(0.4 * largest)
    print(f"Same grid: two {largest} x {largest} x 4 UInt16 tiled GeoTIFFs, each output {common} x {common} x 4\n")
    print("| contender | seconds | vs gdal_translate | vs QgsAlignRaster | peak MB |")
    print("| --- | --- | --- | --- | --- |")
    results = {}
    for kind in ("gdal_translate", "core", "processing", "qgis_process", "qgis_process_start", "align", "numpy"):
        results[kind] = timed(pair_job(kind, folder, largest), repeat)
    results["qgis_process"]["seconds"] = results["qgis_process"]["wall"]
    results["vrt"] = timed(pair_job("core", folder, largest, extension=".vrt"), repeat)
    floor, align = results["gdal_translate"]["seconds"], results["align"]["seconds"]
    labels = {
        "gdal_translate": "(c) `gdal_translate -srcwin`, each output",
        "core": "(a) core `clip_pair`",
        "processing": "(b) `processing.run('overlapclip:clippair')`",
        "qgis_process": "(b) `qgis_process run overlapclip:clippair` (whole command)",
        "qgis_process_start": "`qgis_process help overlapclip:clippair` (start-up only)",
        "align": "(d) `QgsAlignRaster`",
        "numpy": "(e) whole window into numpy, then written",
        "vrt": "(a) core `clip_pair` to `.vrt` outputs",
    }
    for kind, label in labels.items():
        seconds, peak = results[kind]["seconds"], results[kind]["peak"]
        print(f"| {label} | {seconds:.2f} | {seconds / floor:.2f} | {seconds / align:.2f} | {peak:.0f} |")
    overhead_run = results["processing"]["seconds"] - results["core"]["seconds"]
    overhead_cli = results["qgis_process"]["wall"] - results["qgis_process_start"]["wall"] - results["core"]["seconds"]
    print(
        f"\nPlugin overhead over the core: processing.run {overhead_run:+.2f} s; "
        f"qgis_process beyond its own start-up {overhead_cli:+.2f} s."
    )

    print("\nMemory as inputs grow (same grid, core):\n")
    print("| input size | core seconds | core peak MB | numpy peak MB |")
    print("| --- | --- | --- | --- |")
    for size in sizes:
        warm(pair_paths(folder, size).values())
        core = timed(pair_job("core", folder, size), repeat)
        whole = timed(pair_job("numpy", folder, size), 1)
        print(f"| {size} x {size} x 4 | {core['seconds']:.2f} | {core['peak']:.0f} | {whole['peak']:.0f} |")

    size = min(sizes)
    common = size - round(0.4 * size)
    print(
        f"\nCreation options (same grid, {size} x {size} x 4 inputs, outputs {common} x {common} x 4; "
        "noise compresses poorly, real imagery better):\n"
    )
    print("| options | core seconds | gdal_translate seconds | output MB (both) |")
    print("| --- | --- | --- | --- |")
    warm(pair_paths(folder, size).values())
    for options in (
        [],
        ["COMPRESS=LZW"],
        ["COMPRESS=DEFLATE"],
        ["COMPRESS=DEFLATE", "NUM_THREADS=ALL_CPUS"],
        ["COMPRESS=ZSTD", "NUM_THREADS=ALL_CPUS"],
        ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=2"],
    ):
        job = dict(pair_job("core", folder, size), options=options, keep=True)
        core = timed(job, 1)
        megabytes = sum(os.path.getsize(job[key]) for key in ("out_a", "out_b")) / 2**20
        for key in ("out_a", "out_b"):
            os.remove(job[key])
        translate = timed(dict(pair_job("gdal_translate", folder, size), options=options), 1)
        label = " ".join(options) or "(none)"
        print(f"| {label} | {core['seconds']:.2f} | {translate['seconds']:.2f} | {megabytes:.0f} |")

    print(f"\nResampling: B on a 20 m grid a third of a pixel off, onto A's 10 m grid ({largest} x {largest} A)\n")
    print("| contender | seconds | vs QgsAlignRaster | peak MB |")
    print("| --- | --- | --- | --- |")
    warm([pair_paths(folder, largest)["b20"]])
    core = timed(pair_job("core", folder, largest, "b20"), repeat)
    align = timed(pair_job("align", folder, largest, "b20"), repeat)
    for label, r in (("(a) core `clip_pair`", core), ("(d) `QgsAlignRaster`", align)):
        print(f"| {label} | {r['seconds']:.2f} | {r['seconds'] / align['seconds']:.2f} | {r['peak']:.0f} |")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "_job":
        run_job(json.loads(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["footprint", "clip", "plan", "bytes", "valid", "scale", "all"])
    parser.add_argument("--folder", default=os.path.join(ROOT, "build", "bench"))
    parser.add_argument("--sizes", help="raster sizes (default 10000,40000 for footprint, 5490,10980 for clip)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per contender; the best counts")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    runtime = os.path.join(args.folder, "runtime")
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", runtime)  # Qt asks for one in every QGIS child

    def sizes(default: str) -> list[int]:
        return [int(size) for size in (args.sizes or default).split(",")]

    if args.what in ("clip", "all"):
        bench_clip(args.folder, sizes("5490,10980"), args.repeat)
    if args.what in ("footprint", "all"):
        bench_footprint(args.folder, sizes("10000,40000"))
    if args.what in ("plan", "all"):
        bench_plan(args.folder)
    if args.what in ("valid", "all"):
        bench_valid(args.folder, 10980, 40000, args.repeat)
    if args.what in ("bytes", "all"):
        bench_bytes(args.folder, sizes("5490")[0])
    if args.what in ("scale", "all"):
        from bench_scale import bench_scale

        qgis_process = shutil.which("qgis_process.bin") or shutil.which("qgis_process") or "qgis_process"
        bench_scale(args.folder, args.repeat, qgis_process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
