"""Proof that a change to the plugin changed no output: digests of everything a fixed set of runs writes.

    python tests/output_digest.py record OUT.json [--repo DIR] [--only TEXT]
    python tests/output_digest.py compare BEFORE.json AFTER.json

``record`` builds the inputs in a temporary folder (fixed grids, fixed seeds), runs the plugin of the
checkout ``DIR`` (default: the one holding this script) on every case through its user-facing entry
points only, ``processing.run("overlapclip:clippair" | "overlapclip:clipstack", ...)`` in one
QgsApplication and ``python3 -m overlap_clip_plugin BATCH.json ...`` in a child process, and writes
one JSON entry per case:

- ``files``: every file the case wrote (side files such as ``.aux.xml``, ``.msk`` and ``.ovr`` too), each
  with the sha256 of its bytes, and for a raster the digest of its metadata (size, geotransform,
  projection, band types, nodata, metadata domains, ...) and of every band's (and mask's) pixels, so that
  a difference is told apart as metadata or pixels; a vector file (the overlap polygon) by its layer,
  geometries (WKB) and attributes, never its bytes (a GeoPackage is not byte-stable);
- ``results`` (the algorithm's outputs), ``error`` (a run that fails: its message), ``log`` (what the
  algorithm said), or for the batch command its ``exit_status`` and output lines;
- ``parameters`` and ``inputs`` (digests of the input files): the case's definition, so that a changed
  test helper shows as such and not as a changed plugin.

Paths are written as ``@OUT@`` (the case's output folder) and ``@WORK@`` (the temporary folder) in every
digest, file bytes included: a VRT names its sources. Every case runs twice; a format whose files differ
between the two runs is listed under ``_about.not_byte_stable`` and its files are compared by decoded
content only. A record takes about a minute on 2 cores; it needs the test venv (``make test`` makes
``.venv``: PyQGIS through the system site packages, pytest and hypothesis for the suite's case
definitions).

``compare`` prints each case and file that differs, and whether in pixels, metadata or elsewhere; its exit
status is 1 on any difference, 0 when all are identical.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FORMAT = "overlap-clip output digest 1"
BATCH_FILE = "batch.json"

#: Pinned for the process and the batch command's child: the plugin's messages in one language.
LOCALE_ENV = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "LANGUAGE": "en", "QT_QPA_PLATFORM": "offscreen"}

#: The benchmark's creation options (tests/benchmark.py, bench_clip), as OPTIONS strings.
BENCH_OPTIONS = [
    "COMPRESS=LZW",
    "COMPRESS=DEFLATE",
    "COMPRESS=DEFLATE|NUM_THREADS=ALL_CPUS",
    "COMPRESS=ZSTD|NUM_THREADS=ALL_CPUS",
    "TILED=YES|COMPRESS=DEFLATE|PREDICTOR=2",
]

#: Raster sizes of the benchmark's cases, shrunk from thousands of pixels so that a record takes minutes.
#: The collared scenes stay large enough that their common extent is scanned and masked in two strips of rows
#: (core.validity.STRIP_PIXELS, 4 Mi pixels a strip).
PAIR_SIZE, SCENE_SIZE, FLAT_SIZE, STACK_SIZE = 256, 2400, 700, 160


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha_json(value) -> str:
    return sha(json.dumps(value, sort_keys=True).encode())


# --- recording -----------------------------------------------------------------------------------------


class Paths:
    """Replaces the run's folders in text and bytes, so that two records in other folders compare."""

    def __init__(self, work: str):
        self.work = work
        self.out = ""

    def text(self, value):
        if isinstance(value, str):
            if self.out:
                value = value.replace(self.out, "@OUT@")
            return value.replace(self.work, "@WORK@")
        if isinstance(value, (list, tuple)):
            return [self.text(item) for item in value]
        if isinstance(value, dict):
            return {str(key): self.text(item) for key, item in value.items()}
        return value

    def data(self, value: bytes) -> bytes:
        if self.out:
            value = value.replace(self.out.encode(), b"@OUT@")
        return value.replace(self.work.encode(), b"@WORK@")


def open_quietly(path: str, kind: int):
    """``path`` opened read-only by GDAL as ``kind`` (gdal.OF_RASTER or OF_VECTOR), or None, saying nothing."""
    from osgeo import gdal

    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        return gdal.OpenEx(path, kind | gdal.OF_READONLY)
    finally:
        gdal.PopErrorHandler()


def raster_digest(path: str, paths: Paths) -> dict | None:
    """Metadata and pixel digests of the raster at ``path``, or None if GDAL does not open it as one."""
    from osgeo import gdal

    dataset = open_quietly(path, gdal.OF_RASTER)
    if dataset is None:
        return None
    bands = [dataset.GetRasterBand(index + 1) for index in range(dataset.RasterCount)]
    domains = {
        domain: paths.text(dataset.GetMetadata(domain)) for domain in sorted(dataset.GetMetadataDomainList() or [])
    }
    band_extra = []
    for band in bands:
        table = band.GetColorTable()
        band_extra.append(
            {
                "color_interpretation": band.GetColorInterpretation(),
                "description": band.GetDescription(),
                "scale_offset": [band.GetScale(), band.GetOffset()],
                "unit": band.GetUnitType(),
                "metadata": {d: band.GetMetadata(d) for d in sorted(band.GetMetadataDomainList() or [])},
                "block_size": band.GetBlockSize(),
                "overviews": band.GetOverviewCount(),
                "mask_flags": band.GetMaskFlags(),
                "color_table": [table.GetColorEntry(i) for i in range(table.GetCount())] if table else None,
            }
        )
    metadata = {
        "driver": dataset.GetDriver().ShortName,
        "size": [dataset.RasterXSize, dataset.RasterYSize, dataset.RasterCount],
        "geotransform": list(dataset.GetGeoTransform(can_return_null=True) or []),
        "projection": sha(dataset.GetProjectionRef().encode()),
        "gcps": dataset.GetGCPCount(),
        "types": [gdal.GetDataTypeName(band.DataType) for band in bands],
        # repr keeps NaN and every bit of the value in plain JSON.
        "nodata": [repr(band.GetNoDataValue()) for band in bands],
        "domains": sha_json(domains),
        "bands": sha_json(band_extra),
    }
    pixels, masks = [], []
    for band in bands:
        array = band.ReadAsArray()
        pixels.append(sha(f"{array.dtype.str}{array.shape}".encode() + array.tobytes()))
        if band.GetMaskFlags() != gdal.GMF_ALL_VALID:
            masks.append(sha(band.GetMaskBand().ReadAsArray().tobytes()))
        else:
            masks.append(None)
    dataset = None
    return {
        "metadata_sha256": sha_json(metadata),
        "metadata": metadata,
        "pixels_sha256": sha_json([pixels, masks]),
        "bands": pixels,
        "masks": masks,
    }


def vector_digest(path: str, paths: Paths) -> dict | None:
    """Layers, geometries (exact, as WKB) and attributes of the vector file at ``path``, or None."""
    from osgeo import gdal

    dataset = open_quietly(path, gdal.OF_VECTOR)
    if dataset is None or dataset.GetLayerCount() == 0:
        return None
    layers = []
    for index in range(dataset.GetLayerCount()):
        layer = dataset.GetLayer(index)
        definition = layer.GetLayerDefn()
        fields = [
            [definition.GetFieldDefn(i).GetName(), definition.GetFieldDefn(i).GetTypeName()]
            for i in range(definition.GetFieldCount())
        ]
        srs = layer.GetSpatialRef()
        features, geometries = [], []
        for feature in layer:
            geometry = feature.GetGeometryRef()
            geometries.append(sha(bytes(geometry.ExportToIsoWkb())) if geometry else None)
            features.append([feature.GetField(i) for i in range(definition.GetFieldCount())])
        layers.append(
            {
                "name": layer.GetName(),
                "geometry_type": layer.GetGeomType(),
                "srs": sha(srs.ExportToWkt().encode()) if srs else None,
                "fields": fields,
                "geometries": geometries,
                "attributes": paths.text(features),
            }
        )
    dataset = None
    return {"vector": layers}


def digest_folder(folder: str, paths: Paths, skip: tuple = ()) -> dict:
    """Every file under ``folder`` by its path relative to it; bytes first, before GDAL opens anything."""
    names = sorted(
        os.path.relpath(os.path.join(root, name), folder) for root, _, files in os.walk(folder) for name in files
    )
    names = [name for name in names if name not in skip]
    files = {}
    for name in names:
        with open(os.path.join(folder, name), "rb") as handle:
            files[name] = {"sha256": sha(paths.data(handle.read()))}
    for name in names:
        path = os.path.join(folder, name)
        decoded = vector_digest(path, paths) if name.lower().endswith((".gpkg", ".shp", ".geojson")) else None
        if decoded is not None:
            # A GeoPackage holds times and page layouts of its own: its content is the output.
            files[name] = decoded
            continue
        decoded = raster_digest(path, paths)
        if decoded is not None:
            files[name].update(decoded)
    return files


class Recorder:
    """Builds the inputs, runs every case twice, and keeps the digests of the first run."""

    def __init__(self, repo: str, work: str):
        self.repo = repo
        self.work = work
        self.paths = Paths(work)
        self.made: dict = {}
        self.input_digests: dict = {}
        self.unstable_formats: dict = {}
        self.unstable: list = []

    # Inputs, each group built once into WORK/in/GROUP by the suite's and the benchmark's own makers.
    def inputs(self, group: str, key=None):
        if group not in self.made:
            folder = os.path.join(self.work, "in", group.replace(" ", "_"))
            os.makedirs(folder, exist_ok=True)
            self.made[group] = make_inputs(group, folder)
        made = self.made[group]
        return made if key is None else made[key]

    def digest_inputs(self, inputs) -> dict:
        result = {}
        for path in inputs:
            if path not in self.input_digests:
                with open(path, "rb") as handle:
                    self.input_digests[path] = sha(self.paths.data(handle.read()))
            result[self.paths.text(path)] = self.input_digests[path]
        return result

    def record(self, cases) -> dict:
        records = {}
        for number, case in enumerate(cases, start=1):
            start = time.perf_counter()
            first = self.run(case, "run1")
            second = self.run(case, "run2")
            self.check_stable(case["name"], first, second)
            records[case["name"]] = first
            print(f"[{number}/{len(cases)}] {case['name']}: {time.perf_counter() - start:.1f} s", flush=True)
        for record in records.values():
            for name, entry in record.get("files", {}).items():
                if file_format(name) in self.unstable_formats and "sha256" in entry:
                    entry["sha256"] = None
        return records

    def check_stable(self, name: str, first: dict, second: dict) -> None:
        """Note what differs between two runs of one case: a format's bytes, or anything else."""
        files_1, files_2 = first.get("files", {}), second.get("files", {})
        for file_name in sorted(set(files_1) | set(files_2)):
            entry_1, entry_2 = files_1.get(file_name, {}), files_2.get(file_name, {})
            if entry_1.get("sha256") != entry_2.get("sha256"):
                self.unstable_formats.setdefault(file_format(file_name), f"{name}: {file_name}")
            decoded_1 = {k: v for k, v in entry_1.items() if k != "sha256"}
            decoded_2 = {k: v for k, v in entry_2.items() if k != "sha256"}
            if decoded_1 != decoded_2 or (file_name in files_1) != (file_name in files_2):
                self.unstable.append(f"{name}: {file_name}: decoded content differs between two runs")
        for key in sorted(set(first) | set(second)):
            if key != "files" and first.get(key) != second.get(key):
                self.unstable.append(f"{name}: {key} differs between two runs")

    def run(self, case: dict, run: str) -> dict:
        out = os.path.join(self.work, run, slug(case["name"]))
        os.makedirs(out)
        self.paths.out = out
        try:
            if case["kind"] == "batch":
                record = self.run_batch(case, out)
            else:
                record = self.run_algorithm(case, out)
            # The batch file is the case's input, written beside its outputs so that relative paths are tried.
            record["files"] = digest_folder(out, self.paths, skip=(BATCH_FILE,))
        finally:
            self.paths.out = ""
        return record

    def run_algorithm(self, case: dict, out: str) -> dict:
        import processing
        from feedback import RecordingFeedback
        from qgis.core import QgsMapLayer
        from qgis.PyQt.QtCore import QVariant

        class Feedback(RecordingFeedback):
            def reportError(self, error, fatalError=False):  # noqa: N802, N803
                self.messages.append("ERROR: " + error)
                super().reportError(error, fatalError)

        parameters = {key: at_out(value, out) for key, value in case["parameters"].items()}
        record = {
            "algorithm": case["algorithm"],
            "parameters": self.paths.text(parameters),
            "inputs": self.digest_inputs(case["inputs"]),
        }
        feedback = Feedback()
        try:
            results = processing.run(case["algorithm"], parameters, feedback=feedback)
        except Exception as err:  # every failure is an output: its type and its message
            record["error"] = self.paths.text(f"{type(err).__name__}: {err}")
        else:
            plain = {}
            for key, value in sorted(results.items()):
                if isinstance(value, QgsMapLayer):
                    value = value.source()
                elif isinstance(value, QVariant):  # an empty number (no area on the ellipsoid) may come as NULL
                    value = None if value.isNull() else value.value()
                elif isinstance(value, list):
                    value = [item.source() if isinstance(item, QgsMapLayer) else item for item in value]
                plain[key] = value
            record["results"] = self.paths.text(plain)
            # The layers processing.run made of the outputs hold them open: let them go before reading.
            results = value = None
        # QGIS's own "Results: {...}" line shows object addresses; the results are recorded above.
        record["log"] = self.paths.text([line for line in feedback.messages if not line.startswith("Results: ")])
        return record

    def run_batch(self, case: dict, out: str) -> dict:
        batch = os.path.join(out, BATCH_FILE)
        with open(batch, "w", encoding="utf-8") as handle:
            json.dump({"jobs": case["jobs"]}, handle, indent=1)
        for job in case["jobs"]:
            for output in job.get("outputs", []):
                os.makedirs(os.path.dirname(os.path.join(out, output)), exist_ok=True)
        env = dict(os.environ, PYTHONPATH=self.repo, **LOCALE_ENV)
        # The child's folder is the output folder: ``-m`` puts it first on sys.path, and it holds no plugin.
        where = subprocess.run(
            [sys.executable, "-c", "import overlap_clip_plugin; print(overlap_clip_plugin.__file__)"],
            cwd=out,
            env=env,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not os.path.abspath(where).startswith(self.repo + os.sep):
            raise SystemExit(f"the batch command would import overlap_clip_plugin from {where!r}, not {self.repo}")
        child = subprocess.run(
            [sys.executable, "-m", "overlap_clip_plugin", batch, *case["options"]],
            cwd=out,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        lines = []
        for line in child.stdout.splitlines():
            if line.startswith("Took "):
                continue  # a duration
            if line.startswith("[") and "] job " in line:
                line = "job " + line.split("] job ", 1)[1]  # jobs end in any order: their count is not output
            lines.append(line)
        return {
            "command": self.paths.text(["python3", "-m", "overlap_clip_plugin", batch, *case["options"]]),
            "parameters": self.paths.text(case["jobs"]),
            "inputs": self.digest_inputs(sorted({p for job in case["jobs"] for p in job["inputs"]})),
            "exit_status": child.returncode,
            "stdout": self.paths.text(sorted(lines)),
            "stderr": self.paths.text(child.stderr.splitlines()),
        }


def file_format(name: str) -> str:
    """What a file is for byte stability: its extension, side files by their last two (``.tif.aux.xml``)."""
    base = os.path.basename(name).lower()
    parts = base.split(".")
    if base.endswith(".aux.xml"):
        return "." + ".".join(parts[-3:])
    return "." + parts[-1] if len(parts) > 1 else base


def slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80] + "_" + sha(name.encode())[:8]


def at_out(value, out: str):
    """A parameter value with ``@OUT@`` standing for the case's output folder."""
    if isinstance(value, str) and value.startswith("@OUT@"):
        return out + value[len("@OUT@") :]
    return value


# --- the cases -----------------------------------------------------------------------------------------


def make_inputs(group: str, folder: str) -> dict:
    """The input files of ``group``, built in ``folder`` by the suite's and the benchmark's own makers."""
    if group == "sample":
        from rasters import sample_dates, sample_pair

        a, b = sample_pair(folder)
        c, d = sample_dates(folder)
        return {"a": a, "b": b, "c": c, "d": d}
    if group == "globe":
        return {}  # made one by one (see globe_raster)
    if group == "bench pair":
        from benchmark import make_pair, pair_paths

        make_pair(folder, PAIR_SIZE)
        return pair_paths(folder, PAIR_SIZE)
    if group == "bench collars":
        from benchmark import make_flat, make_scene

        corner = (FLAT_SIZE - 500) * 10.0  # bench_valid: a 500 x 500 overlap of two larger rasters
        return {
            "a": make_scene(os.path.join(folder, "collar_a.tif"), SCENE_SIZE),
            "b": make_scene(os.path.join(folder, "collar_b.tif"), SCENE_SIZE, (302000.0, 4998000.0)),
            "flat_a": make_flat(os.path.join(folder, "flat_a.tif"), FLAT_SIZE, (300000.0, 5000000.0)),
            "flat_b": make_flat(os.path.join(folder, "flat_b.tif"), FLAT_SIZE, (300000.0 + corner, 5000000.0 - corner)),
        }
    if group == "stack":
        import bench_scale

        # bench_stacks' scenes of one place, every other one in UTM zone 32, fewer and smaller.
        bench_scale.SCENES, bench_scale.SCENE_SIZE = 4, STACK_SIZE
        return {"scenes": bench_scale.stack_scenes(folder, True)}
    raise ValueError(group)


def globe_raster(recorder: Recorder, name: str) -> str:
    import pathlib

    import test_globe

    made = recorder.inputs("globe")
    if name not in made:
        made[name] = test_globe.make(pathlib.Path(os.path.join(recorder.work, "in", "globe")), name)
    return made[name]


def pair(name, a, b, **parameters) -> dict:
    """A clippair case; outputs a_out.tif and b_out.tif unless given."""
    values = {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": "@OUT@/a_out.tif", "OUTPUT_B": "@OUT@/b_out.tif", **parameters}
    return {
        "name": name,
        "kind": "algorithm",
        "algorithm": "overlapclip:clippair",
        "inputs": [a, b],
        "parameters": values,
    }


def stack(name, inputs, **parameters) -> dict:
    values = {"INPUTS": list(inputs), "OUTPUT_FOLDER": "@OUT@/stack", **parameters}
    return {
        "name": name,
        "kind": "algorithm",
        "algorithm": "overlapclip:clipstack",
        "inputs": inputs,
        "parameters": values,
    }


def all_cases(recorder: Recorder) -> list[dict]:
    import test_globe

    cases = []
    sample = recorder.inputs("sample")
    a, b, c, d = sample["a"], sample["b"], sample["c"], sample["d"]
    # 1. `make demo`: the sample pair with every parameter at its default, its outputs named as the demo names them.
    cases.append(
        pair("demo: sample pair, defaults", a, b, OUTPUT_A="@OUT@/a_common.tif", OUTPUT_B="@OUT@/b_common.tif")
    )
    cases.append(pair("demo: sample pair, overlap polygon", a, b, OVERLAP="@OUT@/overlap.gpkg"))
    cases.append(pair("demo: sample pair, B's grid, bilinear", a, b, GRID=1, RESAMPLING=1))
    cases.append(pair("demo: sample pair, own grids, valid data, mask common", a, b, GRID=2, AREA=1, MASK_COMMON=True))
    cases.append(
        pair(
            "demo: sample dates, valid data, mask common, whole-input percents, overlap polygon",
            c,
            d,
            AREA=1,
            MASK_COMMON=True,
            WHOLE_INPUT_PERCENTS=True,
            OVERLAP="@OUT@/overlap.gpkg",
        )
    )

    # 2. The globe suite's pairs on every grid choice it runs them on (CASES leaves out NO_REFERENCE).
    grids = {0: 0, 1: 1, None: 2}
    for name_a, name_b, choice in test_globe.CASES:
        first, second = globe_raster(recorder, name_a), globe_raster(recorder, name_b)
        cases.append(pair(f"globe: {name_a} | {name_b}, {choice}", first, second, GRID=grids[test_globe.GRIDS[choice]]))

    # 3. The benchmark's cases, small: same grid, its creation options, .vrt, the 20 m grid a third of a pixel off.
    bench = recorder.inputs("bench pair")
    cases.append(pair("bench: same grid", bench["a"], bench["b"]))
    cases.append(
        pair("bench: same grid, .vrt outputs", bench["a"], bench["b"], OUTPUT_A="@OUT@/a.vrt", OUTPUT_B="@OUT@/b.vrt")
    )
    cases.append(
        pair("bench: same grid, .img outputs", bench["a"], bench["b"], OUTPUT_A="@OUT@/a.img", OUTPUT_B="@OUT@/b.img")
    )
    # GeoPackage takes no 4-band UInt16 raster: the refusal's message is the output.
    cases.append(pair("bench: same grid, .gpkg raster A, refused", bench["a"], bench["b"], OUTPUT_A="@OUT@/a.gpkg"))
    for options in BENCH_OPTIONS:
        cases.append(pair(f"bench: same grid, {options}", bench["a"], bench["b"], OPTIONS=options))
    cases.append(pair("bench: same grid, mask common without nodata", bench["a"], bench["b"], MASK_COMMON=True))
    for label, parameters in (
        ("A's grid, nearest", {}),
        ("A's grid, bilinear", {"RESAMPLING": 1}),
        ("A's grid, cubic, COMPRESS=DEFLATE", {"RESAMPLING": 2, "OPTIONS": "COMPRESS=DEFLATE"}),
        ("B's grid, bilinear", {"GRID": 1, "RESAMPLING": 1}),
        ("own grids", {"GRID": 2}),
        ("A's grid, .vrt outputs", {"OUTPUT_A": "@OUT@/a.vrt", "OUTPUT_B": "@OUT@/b.vrt"}),
    ):
        cases.append(pair(f"bench: 20 m B a third of a pixel off, {label}", bench["a"], bench["b20"], **parameters))
    collars = recorder.inputs("bench collars")
    for label, parameters in (
        ("extents", {}),
        ("extents, mask common", {"MASK_COMMON": True}),
        ("extents, .gpkg raster outputs", {"OUTPUT_A": "@OUT@/a.gpkg", "OUTPUT_B": "@OUT@/b.gpkg"}),
        ("valid data", {"AREA": 1}),
        ("valid data, mask common", {"AREA": 1, "MASK_COMMON": True}),
        (
            "valid data, mask common, B's grid, COMPRESS=DEFLATE",
            {"AREA": 1, "MASK_COMMON": True, "GRID": 1, "OPTIONS": "COMPRESS=DEFLATE"},
        ),
        (
            "valid data, overlap polygon, whole-input percents",
            {"AREA": 1, "OVERLAP": "@OUT@/overlap.gpkg", "WHOLE_INPUT_PERCENTS": True},
        ),
    ):
        cases.append(pair(f"bench: scenes with nodata collars, {label}", collars["a"], collars["b"], **parameters))
    cases.append(
        pair("bench: small overlap of two flat rasters, valid data", collars["flat_a"], collars["flat_b"], AREA=1)
    )

    # 4. Stacks: scenes in two UTM zones (other CRS, resampled), on the second's grid and on their own.
    scenes = recorder.inputs("stack")["scenes"]
    cases.append(
        pair("other CRS: UTM 33N scene and UTM 32N scene, A's grid, bilinear", scenes[0], scenes[1], RESAMPLING=1)
    )
    cases.append(stack("stack: 4 scenes in two UTM zones, reference 2", scenes, REFERENCE=2))
    cases.append(
        stack(
            "stack: 4 scenes in two UTM zones, reference 2, bilinear, valid data",
            scenes,
            REFERENCE=2,
            RESAMPLING=1,
            AREA=1,
        )
    )
    cases.append(stack("stack: 4 scenes in two UTM zones, own grids", scenes, GRID=1))
    cases.append(
        stack("stack: 3 scenes in two UTM zones, reference 2, mask common", scenes[:3], REFERENCE=2, MASK_COMMON=True)
    )
    cases.append(
        stack(
            "stack: sample pair and dates, reference 2, valid data, mask common",
            [a, b, c, d],
            REFERENCE=2,
            AREA=1,
            MASK_COMMON=True,
        )
    )

    # 5. The batch command, as tests/test_batch.py runs it: two pairs and a stack.
    cases.append(
        {
            "name": "batch: 2 pairs and 1 stack, --area valid --mask-common",
            "kind": "batch",
            "jobs": [
                {"inputs": [a, b], "outputs": ["pairs/ab_a.tif", "pairs/ab_b.tif"]},
                {"inputs": [c, d], "outputs": ["pairs/cd_c.tif", "pairs/cd_d.tif"]},
                {"inputs": [a, b, c, d], "folder": "stack"},
            ],
            "options": ["--area", "valid", "--mask-common"],
        }
    )
    return cases


def start_qgis(work: str):
    """One QgsApplication with QGIS's processing and the plugin's provider, as the suite's fixtures set it up."""
    os.environ["QGIS_CUSTOM_CONFIG_PATH"] = os.path.join(work, "qgis-profile")  # never the user's settings
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    plugins = os.path.join(QgsApplication.pkgDataPath(), "python", "plugins")
    if plugins not in sys.path:
        sys.path.append(plugins)
    from processing.core.Processing import Processing

    from overlap_clip_plugin import classFactory

    Processing.initialize()
    plugin = classFactory(None)
    plugin.initProcessing()
    if QgsApplication.processingRegistry().providerById("overlapclip") is None:
        raise RuntimeError("the overlapclip provider did not register")
    return app, plugin


def git_state(repo: str) -> dict:
    def git(*arguments):
        run = subprocess.run(["git", "-C", repo, *arguments], capture_output=True, text=True)
        return run.stdout.strip() if run.returncode == 0 else None

    status = git("status", "--porcelain", "--", "overlap_clip_plugin")
    return {"head": git("rev-parse", "HEAD"), "plugin_changed_since_head": bool(status) if status is not None else None}


def record(out_json: str, repo: str, only: str | None) -> int:
    repo = os.path.abspath(repo)
    os.environ.update(LOCALE_ENV)
    # The checkout under test comes first, then its tests folder (the suite's helpers and case definitions,
    # which import its core), then this script's folder for a helper that checkout lacks.
    sys.path[:0] = [repo, os.path.join(repo, "tests"), HERE]
    import overlap_clip_plugin

    if not os.path.abspath(overlap_clip_plugin.__file__).startswith(repo + os.sep):
        raise SystemExit(f"overlap_clip_plugin comes from {overlap_clip_plugin.__file__}, not from {repo}")
    started = time.perf_counter()
    work = tempfile.mkdtemp(prefix="overlap-clip-digest-")
    try:
        app, plugin = start_qgis(work)
        from osgeo import gdal
        from qgis.core import Qgis

        recorder = Recorder(repo, work)
        cases = [case for case in all_cases(recorder) if not only or only in case["name"]]
        names = [case["name"] for case in cases]
        if len(set(names)) != len(names):
            raise SystemExit("two cases have one name")
        records = recorder.record(cases)
        foreign = sorted(
            module.__file__
            for name, module in sys.modules.items()
            if name.split(".")[0] == "overlap_clip_plugin"
            and getattr(module, "__file__", None)
            and not os.path.abspath(module.__file__).startswith(repo + os.sep)
        )
        if foreign:
            raise SystemExit(f"plugin modules loaded from outside {repo}: {foreign}")
        plugin.unload()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - started
    about = {
        "format": FORMAT,
        "repo": repo,
        "git": git_state(repo),
        "qgis": Qgis.QGIS_VERSION,
        "gdal": gdal.__version__,
        "python": sys.version.split()[0],
        "seconds": round(seconds, 1),
        "cases": len(records),
        "paths": "@OUT@ is each case's output folder and @WORK@ the temporary folder, in every digest and text",
        "not_byte_stable": {
            extension: f"bytes differ between two runs (first seen in {where}); its files are compared by decoded "
            "content only (sha256 is null)"
            for extension, where in sorted(recorder.unstable_formats.items())
        },
        "not_deterministic": recorder.unstable,
        "helpers": {
            name: sys.modules[name].__file__
            for name in ("rasters", "test_globe", "benchmark", "bench_scale", "feedback")
            if name in sys.modules
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
    with open(out_json, "w", encoding="utf-8") as handle:
        json.dump({"_about": about, **records}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    files = sum(len(entry.get("files", {})) for entry in records.values())
    print(f"Recorded {len(records)} cases, {files} files, in {seconds:.0f} s: {out_json}")
    if recorder.unstable_formats:
        print(
            "Not byte-stable run to run (compared by decoded content): " + ", ".join(sorted(recorder.unstable_formats))
        )
    for line in recorder.unstable:
        print("NOT DETERMINISTIC: " + line)
    del app
    return 0


# --- comparing -----------------------------------------------------------------------------------------


def file_differences(before: dict, after: dict) -> list[str]:
    """How one file's digests differ: pixels, metadata, vector content, or its bytes alone."""
    found = []
    if "vector" in before or "vector" in after:
        layers_1, layers_2 = before.get("vector") or [], after.get("vector") or []
        if len(layers_1) != len(layers_2):
            return ["vector layers differ"]
        for layer_1, layer_2 in zip(layers_1, layers_2):
            for key in ("geometries", "attributes"):
                if layer_1.get(key) != layer_2.get(key):
                    found.append(f"vector {key} differ")
            if any(layer_1.get(k) != layer_2.get(k) for k in layer_1.keys() - {"geometries", "attributes"}):
                found.append("vector layer metadata (name, type, CRS, fields) differs")
        return found
    if ("metadata_sha256" in before) != ("metadata_sha256" in after):
        return ["a raster on one side only"]
    if before.get("pixels_sha256") != after.get("pixels_sha256"):
        changed = [
            str(index)
            for index, (one, two) in enumerate(zip(before.get("bands", []), after.get("bands", [])), start=1)
            if one != two
        ]
        masks = before.get("masks") != after.get("masks")
        found.append(
            "pixels differ"
            + (f" (band {', '.join(changed)})" if changed else "")
            + (" (mask)" if masks else "")
            + (" (band count)" if len(before.get("bands", [])) != len(after.get("bands", [])) else "")
        )
    if before.get("metadata_sha256") != after.get("metadata_sha256"):
        meta_1, meta_2 = before.get("metadata", {}), after.get("metadata", {})
        keys = sorted(key for key in set(meta_1) | set(meta_2) if meta_1.get(key) != meta_2.get(key))
        found.append(f"metadata differs ({', '.join(keys)})")
    if before.get("sha256") and after.get("sha256") and before["sha256"] != after["sha256"] and not found:
        found.append("bytes differ, decoded content the same (layout or encoding)")
    return found


def changes(before: dict, after: dict, key: str) -> list[str]:
    """The lines of ``key`` that differ (a log, a command's output), or the two values whole."""
    one, two = before.get(key), after.get(key)
    if isinstance(one, list) and isinstance(two, list):
        diff = difflib.unified_diff([str(line) for line in one], [str(line) for line in two], lineterm="", n=0)
        return [line for line in diff if not line.startswith(("---", "+++", "@@"))]
    return [f"before: {one!r}", f"after:  {two!r}"]


def compare(before_json: str, after_json: str) -> int:
    with open(before_json, encoding="utf-8") as handle:
        before = json.load(handle)
    with open(after_json, encoding="utf-8") as handle:
        after = json.load(handle)
    for name, record_ in (("BEFORE", before), ("AFTER", after)):
        if record_.get("_about", {}).get("format") != FORMAT:
            print(f"{name} is not an output digest of this format ({FORMAT})")
            return 2
    unstable = set(before["_about"]["not_byte_stable"]) | set(after["_about"]["not_byte_stable"])
    cases = sorted((set(before) | set(after)) - {"_about"})
    differences, files_compared = [], 0
    for case in cases:
        if case not in after or case not in before:
            differences.append(f"{case}: only in {'BEFORE' if case in before else 'AFTER'}")
            continue
        one, two = before[case], after[case]
        for key in ("parameters", "inputs", "algorithm", "command"):
            if one.get(key) != two.get(key):
                differences.append(f"{case}: the case's {key} differ (its definition changed, not only the plugin)")
        for key in ("error", "results", "log", "exit_status", "stdout", "stderr"):
            if one.get(key) != two.get(key):
                lines = "".join(f"\n      {line}" for line in changes(one, two, key))
                differences.append(f"{case}: {key} differs:{lines}")
        files_1, files_2 = one.get("files", {}), two.get("files", {})
        for file_name in sorted(set(files_1) | set(files_2)):
            files_compared += 1
            if file_name not in files_2 or file_name not in files_1:
                differences.append(f"{case}: {file_name}: written only {'BEFORE' if file_name in files_1 else 'AFTER'}")
                continue
            entry_1, entry_2 = dict(files_1[file_name]), dict(files_2[file_name])
            if file_format(file_name) in unstable:
                entry_1.pop("sha256", None)
                entry_2.pop("sha256", None)
            for found in file_differences(entry_1, entry_2):
                differences.append(f"{case}: {file_name}: {found}")
            if not file_differences(entry_1, entry_2) and entry_1 != entry_2:
                differences.append(f"{case}: {file_name}: digests differ")
    for line in differences:
        print("DIFFERS " + line)
    note = f" ({', '.join(sorted(unstable))} compared by decoded content only)" if unstable else ""
    both = sum(1 for case in cases if case in before and case in after)
    one_side = f" ({len(cases) - both} more in one record only)" if both != len(cases) else ""
    print(
        f"Compared {both} cases{one_side} and {files_compared} files{note}: "
        + (f"{len(differences)} differences." if differences else "all identical.")
    )
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record", help="run every case and write the digests of its outputs")
    recording.add_argument("out", help="the JSON file to write")
    recording.add_argument("--repo", default=os.path.dirname(HERE), help="the checkout whose plugin runs")
    recording.add_argument("--only", help="only the cases whose name contains this text (a quick look)")
    comparing = commands.add_parser("compare", help="say what differs between two records")
    comparing.add_argument("before")
    comparing.add_argument("after")
    args = parser.parse_args()
    if args.command == "record":
        return record(args.out, args.repo, args.only)
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
