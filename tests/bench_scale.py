"""`make bench` beyond one pair: stacks on 1 and 2 workers, the resampling case on every core, batches of
pairs, bytes read from COGs over HTTP; each figure a ratio against GDAL's own tools (or the core in one
process) measured in the same run. Run by tests/benchmark.py (`python tests/benchmark.py scale`).

Every contender runs in a child process of its own; CPU is the child's user and system time (its
waited-for descendants included: a LocalCluster's workers, xargs' gdalwarp) over its wall time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
from osgeo import gdal, osr

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

SCENES, SCENE_SIZE = 24, 1500
PAIRS = 50


def measure(job: dict) -> dict:
    """Run ``job`` in a child: its wall seconds, CPU share (100 = one core) and its last printed line."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), json.dumps(job)], stdout=subprocess.PIPE, text=True
    )
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"benchmark job {job['kind']} failed")
    lines = output.strip().splitlines()
    said = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return {"wall": wall, "cpu": 100.0 * (usage.ru_utime + usage.ru_stime) / wall, **said}


def best(job: dict, repeat: int) -> dict:
    return min((measure(job) for _ in range(repeat)), key=lambda result: result["wall"])


def _scene(path: str, size: int, origin: tuple[float, float], epsg: int, seed: int) -> None:
    if os.path.exists(path):
        return
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    dataset = gdal.GetDriverByName("GTiff").Create(path, size, size, 3, gdal.GDT_UInt16, ["TILED=YES"])
    dataset.SetGeoTransform((origin[0], 10.0, 0.0, origin[1], 0.0, -10.0))
    dataset.SetProjection(srs.ExportToWkt())
    generator = np.random.default_rng(seed)
    for index in range(1, 4):
        dataset.GetRasterBand(index).WriteArray(generator.integers(1, 10000, (size, size), dtype=np.uint16))
    dataset = None


def _in_zone_32(x: float, y: float) -> tuple[float, float]:
    """A UTM 33N point in UTM 32N, on a whole 10 m pixel."""
    source, target = osr.SpatialReference(), osr.SpatialReference()
    source.ImportFromEPSG(32633)
    target.ImportFromEPSG(32632)
    for srs in (source, target):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    east, north, _ = osr.CoordinateTransformation(source, target).TransformPoint(x, y)
    return round(east / 10.0) * 10.0, round(north / 10.0) * 10.0


def stack_scenes(folder: str, mixed: bool) -> list[str]:
    """24 scenes of one place; each a fraction of a pixel off the first (so every one but the first is
    resampled: warp-bound), and with ``mixed`` every other one in the neighbouring UTM zone."""
    paths = []
    for index in range(SCENES):
        zone = 32632 if mixed and index % 2 else 32633
        x0, y0 = 500000.0 + 3.3 * (index % 3) + 20.0 * index, 5000000.0 - 2.7 * (index % 4) - 20.0 * index
        if zone == 32632:
            x0, y0 = _in_zone_32(x0, y0)  # the same ground, seen from the zone to the west
        path = os.path.join(folder, f"{'mixed' if mixed else 'one'}_{index:02d}.tif")
        _scene(path, SCENE_SIZE, (x0, y0), zone, index)
        paths.append(path)
    return paths


def run(job: dict) -> None:
    """The child side of :func:`measure`."""
    import concurrent.futures

    from overlap_clip_plugin.core import clip, clip_pair, output_names, plan_clip

    kind = job["kind"]
    start = time.perf_counter()
    if kind == "stack":
        outputs = [os.path.join(job["out"], name) for name in output_names(job["inputs"])]
        os.makedirs(job["out"], exist_ok=True)
        if job["executor"] == "none":
            clip(job["inputs"], outputs, 0, resampling="bilinear")
        elif job["executor"] == "threads":
            with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
                clip(job["inputs"], outputs, 0, resampling="bilinear", executor=pool)
        else:
            import distributed

            workers = int(job["executor"])
            with (
                distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                distributed.Client(cluster) as client,
            ):
                start = time.perf_counter()  # the cluster's start-up is not the run's
                clip(job["inputs"], outputs, 0, resampling="bilinear", executor=client.get_executor())
    elif kind == "stack_commands":
        os.makedirs(job["out"], exist_ok=True)
        plan = plan_clip(job["inputs"], [os.path.join(job["out"], f"{i}.tif") for i in range(len(job["inputs"]))], 0)
        print(json.dumps({"commands": [_gdal_command(output, job["out"]) for output in plan.outputs]}))
        return
    elif kind == "shell":
        subprocess.run(job["command"], shell=True, check=True)
    elif kind == "batch":
        env = dict(os.environ, PYTHONPATH=ROOT)
        said = subprocess.run(
            [sys.executable, "-m", "overlap_clip_plugin", job["batch"], "--quiet"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        took = float(said.strip().splitlines()[-1].split()[1])
        print(json.dumps({"seconds": time.perf_counter() - start, "own": took}))
        return
    elif kind == "pairs_core":
        for a, b, out_a, out_b in job["pairs"]:
            clip_pair(a, b, out_a, out_b)
    elif kind == "resample":
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
            clip_pair(job["a"], job["b"], job["out_a"], job["out_b"], resampling=job["method"], executor=pool)
    elif kind == "cog_bytes":
        from http_range import RangeServer

        gdal.SetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
        with RangeServer(job["folder"]) as server:
            clip_pair(
                f"/vsicurl/{server.url}/cog_a.tif",
                f"/vsicurl/{server.url}/cog_b.tif",
                job["out_a"],
                job["out_b"],
                grid=job["grid"],
                area=job["area"],
            )
            print(json.dumps({"served": server.served}))
        return
    print(json.dumps({"seconds": time.perf_counter() - start}))


def _gdal_command(output, folder: str) -> str:
    """The GDAL command that makes ``output`` as a user would: gdal_translate -srcwin where the source
    lies on the grid, gdalwarp onto the grid elsewhere."""
    target = os.path.join(folder, "gdal_" + os.path.basename(output.source.path))
    if output.copied:
        w = output.window
        return f"gdal_translate -q -srcwin {w.col_off} {w.row_off} {w.width} {w.height} {output.source.path} {target}"
    b = output.grid.bounds
    srs = osr.SpatialReference(output.crs.wkt)
    code = f"EPSG:{srs.GetAuthorityCode(None)}"
    return (
        f"gdalwarp -q -overwrite -multi -wo NUM_THREADS=ALL_CPUS -r bilinear -t_srs {code} "
        f"-te {b.xmin!r} {b.ymin!r} {b.xmax!r} {b.ymax!r} -ts {output.grid.width} {output.grid.height} "
        f"{output.source.path} {target}"
    )


def bench_stacks(folder: str, repeat: int) -> None:
    print(f"\nA stack of {SCENES} scenes of {SCENE_SIZE} x {SCENE_SIZE} x 3, all but the first resampled (bilinear)\n")
    print("| stack | contender | seconds | CPU % | vs gdalwarp loop | vs loop, 2 at a time |")
    print("| --- | --- | --- | --- | --- | --- |")
    for mixed in (False, True):
        inputs = stack_scenes(folder, mixed)
        out = os.path.join(folder, "stack_out")
        commands = measure({"kind": "stack_commands", "inputs": inputs, "out": out})["commands"]
        script = os.path.join(folder, "commands.txt")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write("\n".join(commands) + "\n")
        results = {
            "loop": best({"kind": "shell", "command": f"sh {script}"}, repeat),
            "xargs": best({"kind": "shell", "command": f"xargs -P 2 -I CMD sh -c CMD < {script}"}, repeat),
        }
        for executor in ("none", "threads", "1", "2"):
            shutil.rmtree(out, ignore_errors=True)
            results[executor] = best({"kind": "stack", "inputs": inputs, "out": out, "executor": executor}, repeat)
        labels = {
            "loop": "gdalwarp / gdal_translate, one after another",
            "xargs": "the same, two at a time (`xargs -P 2`)",
            "none": "core, no executor",
            "threads": "core, thread pool (as QGIS runs it)",
            "1": "core, LocalCluster of 1 worker process",
            "2": "core, LocalCluster of 2 worker processes",
        }
        loop, pairwise = results["loop"]["seconds"], results["xargs"]["seconds"]
        for key, label in labels.items():
            seconds = results[key]["seconds"]
            print(
                f"| {'mixed CRS' if mixed else 'one CRS'} | {label} | {seconds:.2f} | {results[key]['cpu']:.0f} | "
                f"{seconds / loop:.2f} | {seconds / pairwise:.2f} |"
            )
        one, two = results["1"]["seconds"], results["2"]["seconds"]
        print(f"| {'mixed CRS' if mixed else 'one CRS'} | 2 workers over 1 | {one / two:.2f}x faster | | | |")


def bench_resampling(folder: str, size: int, repeat: int) -> None:
    from benchmark import make_pair, pair_paths

    make_pair(folder, size)
    paths = pair_paths(folder, size)
    print(f"\nResampling case: A {size} x {size} x 4 at 10 m copied, B at 20 m a third of a pixel off resampled\n")
    print("| method | core (thread pool) s | CPU % | gdal_translate + gdalwarp -multi s | CPU % | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    from overlap_clip_plugin.core import plan_clip

    for method in ("near", "bilinear"):
        outputs = [os.path.join(folder, "rs_a.tif"), os.path.join(folder, "rs_b.tif")]
        plan = plan_clip([paths["a"], paths["b20"]], outputs, 0, resampling=method)
        commands = " && ".join(
            _gdal_command(output, folder).replace("-r bilinear", f"-r {method}") for output in plan.outputs
        )
        gdal_run = best({"kind": "shell", "command": commands}, repeat)
        core = best(
            {
                "kind": "resample",
                "a": paths["a"],
                "b": paths["b20"],
                "out_a": outputs[0],
                "out_b": outputs[1],
                "method": method,
            },
            repeat,
        )
        for path in outputs:
            if os.path.exists(path):
                os.remove(path)
        ratio = core["seconds"] / gdal_run["wall"]
        cells = [f"{core['seconds']:.2f}", f"{core['cpu']:.0f}", f"{gdal_run['wall']:.2f}", f"{gdal_run['cpu']:.0f}"]
        print(f"| {method} | {' | '.join(cells)} | {ratio:.2f} |")


def bench_pairs(folder: str, qgis_process: str) -> None:
    a_folder = os.path.join(folder, "pairs")
    os.makedirs(a_folder, exist_ok=True)
    pairs = []
    for index in range(PAIRS):
        a, b = os.path.join(a_folder, f"p{index}_a.tif"), os.path.join(a_folder, f"p{index}_b.tif")
        _scene(a, 200, (500000.0, 5000000.0), 32633, index)
        _scene(b, 200, (500500.0 + index, 4999500.0 - index), 32633, 100 + index)
        pairs.append([a, b, os.path.join(a_folder, f"o{index}_a.tif"), os.path.join(a_folder, f"o{index}_b.tif")])
    batch = os.path.join(folder, "pairs.json")
    with open(batch, "w", encoding="utf-8") as handle:
        json.dump([{"inputs": p[:2], "outputs": p[2:]} for p in pairs], handle)
    core = best({"kind": "pairs_core", "pairs": pairs}, 2)
    command = best({"kind": "batch", "batch": batch}, 2)
    calls = " ; ".join(
        f"{qgis_process} run overlapclip:clippair -- INPUT_A={a} INPUT_B={b} OUTPUT_A={oa} OUTPUT_B={ob}"
        " > /dev/null 2>&1"
        for a, b, oa, ob in pairs
    )
    process = measure({"kind": "shell", "command": calls})
    print(f"\n{PAIRS} small pairs (200 x 200 x 3)\n")
    print("| contender | seconds | vs core calls in one process |")
    print("| --- | --- | --- |")
    print(f"| {PAIRS} core calls in one process | {core['seconds']:.2f} | 1.00 |")
    print(
        f"| the batch command, whole (Python's start-up included) | {command['seconds']:.2f} | "
        f"{command['seconds'] / core['seconds']:.2f} |"
    )
    print(
        f"| the batch command's own run (its 'Took') | {command['own']:.2f} | {command['own'] / core['seconds']:.2f} |"
    )
    print(f"| {PAIRS} `qgis_process` calls | {process['wall']:.2f} | {process['wall'] / core['seconds']:.2f} |")


def bench_cog(folder: str) -> None:
    from http_range import overlap_bytes

    from overlap_clip_plugin.core import clip_pair

    bucket = os.path.join(folder, "bucket")
    os.makedirs(bucket, exist_ok=True)
    generator = np.random.default_rng(7)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32633)
    for name, x0, y0 in (("cog_a", 500000.0, 5000000.0), ("cog_b", 520003.3, 4979996.7)):
        path = os.path.join(bucket, f"{name}.tif")
        if os.path.exists(path):
            continue
        memory = gdal.GetDriverByName("MEM").Create("", 4096, 4096, 1, gdal.GDT_UInt16)
        memory.SetGeoTransform((x0, 10.0, 0.0, y0, 0.0, -10.0))
        memory.SetProjection(srs.ExportToWkt())
        memory.GetRasterBand(1).WriteArray(generator.integers(1, 60000, (4096, 4096), dtype=np.uint16))
        gdal.Translate(
            path, memory, format="COG", creationOptions=["BLOCKSIZE=512", "COMPRESS=DEFLATE", "OVERVIEWS=NONE"]
        )
    print("\nA COG pair (4096 x 4096 UInt16, 512-pixel tiles, DEFLATE) over HTTP with byte ranges\n")
    print("| run | bytes served | bytes of the overlap's tiles | ratio |")
    print("| --- | --- | --- | --- |")
    a, b = os.path.join(bucket, "cog_a.tif"), os.path.join(bucket, "cog_b.tif")
    for grid, area, label in (
        ("own", "extents", "own grids, extents"),
        ("own", "valid", "own grids, valid data"),
        ("a", "valid", "A's grid, valid data"),
    ):
        out = [os.path.join(folder, "cog_x.tif"), os.path.join(folder, "cog_y.tif")]
        plan = clip_pair(a, b, *out, grid=grid, area=area)
        needed = overlap_bytes((a, b), plan)
        served = measure(
            {"kind": "cog_bytes", "folder": bucket, "out_a": out[0], "out_b": out[1], "grid": grid, "area": area}
        )
        print(f"| {label} | {served['served']} | {needed} | {served['served'] / needed:.3f} |")


def bench_scale(folder: str, repeat: int, qgis_process: str) -> None:
    os.makedirs(folder, exist_ok=True)
    bench_resampling(folder, 5490, repeat)
    bench_stacks(folder, repeat)
    bench_pairs(folder, qgis_process)
    bench_cog(folder)


if __name__ == "__main__":
    run(json.loads(sys.argv[1]))
