"""The change map (core/change.py, issue 22) on real GDAL files: planted change on real Landsat content found by
each method, the strip-by-strip PCA + k-means against a full-array reference, the same bytes on every executor,
nodata, the bad-input sentences, a cancel, and memory against full arrays."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import tracemalloc

import numpy as np
import pytest
from osgeo import gdal
from rasters import UTM33, make_raster, read_array
from shift_data import SHIFT_TRANSFORM, real_content, texture_spectrum

from overlap_clip_plugin.core import change as change_core
from overlap_clip_plugin.core import validity
from overlap_clip_plugin.core.change import (
    DIFFERENCE,
    MAGNITUDE,
    NODATA,
    PCA_KMEANS,
    ChangeSettings,
    change_map,
    nearer_centre_model,
    pca,
)
from overlap_clip_plugin.core.errors import CancelledError, ChangeInputError, UnsupportedOptionError
from overlap_clip_plugin.core.executors import InlineExecutor

#: The planted pair: rows x columns of real Landsat content (band 1) and a 1/f texture (band 2), UInt16, nodata 0.
SHAPE = (256, 512)


def _stretched(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std()


def planted(shape=SHAPE, noise: float = 0.05, bands: int = 2, seed: int = 0):
    """The two dates (bands x rows x columns, in units of the content's spread) and where change was planted:
    a new bright building-like block, a darkened (cleared) field and a water level that rose over a shore."""
    rows, cols = shape
    before = np.stack(
        [
            _stretched(real_content(0.0, 0.0)[:rows, :cols]),
            _stretched(np.fft.ifft2(texture_spectrum(seed=5)).real)[:rows, :cols],
        ]
    )[:bands]
    after = before.copy()
    truth = np.zeros(shape, dtype=bool)
    block = np.s_[rows // 6 : rows // 6 + 40, cols // 8 : cols // 8 + 50]
    after[(slice(None), *block)] += 4.0
    truth[block] = True
    field = np.s_[rows // 2 : rows // 2 + 60, cols // 2 : cols // 2 + 80]
    after[(slice(None), *field)] = after[(slice(None), *field)] * 0.3 - 3.0
    truth[field] = True
    # The water rises over a shore: a band of land becomes flat water, darker than any land.
    shore = np.s_[rows - 60 : rows - 30, cols - 200 : cols - 40]
    after[(slice(None), *shore)] = -4.0
    truth[shore] = True
    rng = np.random.default_rng(seed)
    before = before + rng.standard_normal(before.shape) * noise
    after = after + rng.standard_normal(after.shape) * noise
    return before, after, truth


def write_dates(folder, before, after, names=("before.tif", "after.tif"), transform=SHIFT_TRANSFORM):
    """The dates as UInt16 rasters (3000 + 600 x, nodata 0) on one grid."""
    paths = []
    for name, image in zip(names, (before, after)):
        values = np.clip(np.rint(3000.0 + 600.0 * image), 1, 65535).astype(np.uint16)
        bands, rows, cols = values.shape
        paths.append(
            make_raster(folder / name, transform, cols, rows, bands=bands, dtype=gdal.GDT_UInt16, nodata=0, data=values)
        )
    return paths


def rates(labels: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Detection rate (changed pixels found) and false-alarm rate (unchanged pixels called change)."""
    return float((labels[truth] == 1).mean()), float((labels[~truth] == 1).mean())


def leftovers(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith(".") or name.startswith("map"))


@pytest.fixture(scope="module")
def dates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dates")
    before, after, truth = planted()
    first, second = write_dates(folder, before, after)
    return first, second, truth


@pytest.mark.parametrize(
    ("settings", "detected", "false_alarms"),
    [
        # Measured: 98.6 % found, 0.13 % false alarms (the issue asks for 95 % and 2 %).
        (ChangeSettings(), 0.98, 0.003),
        # Measured: 100 %, 0 %; 99.5 %, 0 %; 99.9 %, 0 %; 82 % (the new building is brighter), 0 %.
        (ChangeSettings(method=MAGNITUDE), 0.99, 0.001),
        (ChangeSettings(method=DIFFERENCE), 0.99, 0.001),
        (ChangeSettings(method=DIFFERENCE, threshold=1200.0), 0.99, 0.001),
        (ChangeSettings(method=DIFFERENCE, direction="decrease"), 0.80, 0.001),
    ],
    ids=["pca_kmeans", "magnitude_otsu", "difference_otsu", "difference_threshold", "difference_decrease"],
)
def test_each_method_finds_the_planted_change(dates, tmp_path, settings, detected, false_alarms):
    first, second, truth = dates
    result = change_map(first, second, str(tmp_path / "map.tif"), settings, magnitude=str(tmp_path / "magnitude.tif"))
    labels = read_array(tmp_path / "map.tif")[0]
    found, alarms = rates(labels, truth)
    print(
        f"{settings.method} {settings.direction} threshold={result.threshold}: detected {found:.4f}, false {alarms:.4f}"
    )
    assert found >= detected and alarms <= false_alarms
    assert result.valid == labels.size and result.changed == int((labels == 1).sum())
    assert result.changed_percent == pytest.approx(100.0 * result.changed / result.valid)
    # 10 m pixels of UTM near its central meridian: 100 m² each on the plane, over the scale factor squared on
    # the ellipsoid.
    assert result.changed_area_m2 == pytest.approx(result.changed * 100.0 / 0.9996**2, rel=1e-3)
    map_ds, magnitude_ds = gdal.Open(str(tmp_path / "map.tif")), gdal.Open(str(tmp_path / "magnitude.tif"))
    for dataset in (map_ds, magnitude_ds):
        assert dataset.GetGeoTransform() == SHIFT_TRANSFORM
        assert dataset.GetSpatialRef().GetAuthorityCode(None) == str(UTM33)
    assert map_ds.GetRasterBand(1).DataType == gdal.GDT_Byte and map_ds.GetRasterBand(1).GetNoDataValue() == NODATA
    assert magnitude_ds.GetRasterBand(1).DataType == gdal.GDT_Float32
    if settings.method == DIFFERENCE and settings.direction == "decrease":
        # Only the darkened field and the risen water are darker; the new building is not found.
        assert (labels[truth] == 1).mean() < 0.9


def reference_labels(first: np.ndarray, second: np.ndarray, size: int, components: int, seed: int) -> np.ndarray:
    """Celik's method on full arrays, in plain NumPy: |second - first| (one band), PCA by SVD on every
    non-overlapping block, every pixel's neighbourhood (the blocks' mean outside the image) projected, k-means
    (k-means++ start, Lloyd's algorithm) on every pixel's vector; the cluster of larger mean difference is change."""
    difference = np.abs(second.astype(np.float64) - first.astype(np.float64))
    rows, cols = difference.shape
    blocks = difference[: rows // size * size, : cols // size * size].reshape(rows // size, size, cols // size, size)
    blocks = blocks.transpose(0, 2, 1, 3).reshape(-1, size * size)
    mean = blocks.mean(axis=0)
    _, _, axes = np.linalg.svd(blocks - mean, full_matrices=False)
    axes = axes[:components].T
    halo = size // 2
    padded = np.pad(difference, halo, constant_values=np.nan)
    vectors = np.stack(
        [padded[dy : dy + rows, dx : dx + cols].ravel() for dy in range(size) for dx in range(size)], axis=1
    )
    vectors = np.where(np.isnan(vectors), 0.0, vectors - mean) @ axes
    rng = np.random.default_rng(seed)
    centres = vectors[rng.choice(len(vectors), 2, replace=False)]
    labels = None
    while True:
        new = ((vectors[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centres = np.stack([vectors[labels == k].mean(axis=0) for k in (0, 1)])
    flat = difference.ravel()
    change = int(flat[labels == 1].mean() > flat[labels == 0].mean())
    return (labels == change).reshape(rows, cols)


def test_strip_by_strip_agrees_with_the_full_array_reference(tmp_path, monkeypatch):
    before, after, _ = planted((128, 192), bands=1, noise=0.3)
    first, second = write_dates(tmp_path, before, after)
    # Strips of 24 rows, so that the halo and the sampling cross eight strips.
    monkeypatch.setattr(validity, "STRIP_PIXELS", 24 * 192 * 2)
    settings = ChangeSettings(block_size=5, components=3, seed=3, pixel_samples=5000, block_samples=400)
    change_map(first, second, str(tmp_path / "map.tif"), settings)
    ours = read_array(tmp_path / "map.tif")[0] == 1
    theirs = reference_labels(read_array(first)[0], read_array(second)[0], 5, 3, seed=1)
    agreement = float((ours == theirs).mean())
    print(f"agreement with the full-array reference: {agreement:.5f}")
    assert agreement >= 0.99


def test_the_score_labels_each_pixel_as_the_nearer_centre_does(monkeypatch):
    # A strip's frame: the grid's left and right edges, its top (outside the grid) and a cloud, all NaN.
    rng = np.random.default_rng(5)
    size, rows, width = 5, 40, 37
    halo = size // 2
    frame = rng.normal(100.0, 20.0, (rows + 2 * halo, width + 2 * halo)).astype(np.float32)
    frame[:, :halo] = frame[:, -halo:] = frame[:halo] = np.nan
    frame[25:29, 10:14] = np.nan
    mean, axes, _ = pca(rng.normal(100.0, 20.0, (500, size * size)), 3)
    centres = rng.normal(0.0, 30.0, (2, 3))
    # Chunks of 4 rows: some hold the top or the cloud, the rest only the edges.
    monkeypatch.setattr(change_core, "SCORED_AT_ONCE", 4 * width)
    ours = change_core._scores_above(frame, rows, width, size, nearer_centre_model(mean, axes, centres, 1))
    # Every neighbourhood projected in Float64 (a NaN neighbour takes the mean), and its two distances.
    values = frame.astype(np.float64)
    vectors = np.stack([values[dy : dy + rows, dx : dx + width] for dy in range(size) for dx in range(size)], axis=-1)
    features = np.where(np.isnan(vectors), 0.0, vectors - mean) @ axes
    distances = [((features - centre) ** 2).sum(axis=-1) for centre in centres]
    theirs = distances[1] < distances[0]
    # Only pixels all but equidistant (Float32 sums against Float64) may differ.
    clear = np.abs(distances[1] - distances[0]) > 1e-3 * (distances[0] + distances[1])
    assert 0 < (theirs & clear).sum() < clear.sum()
    assert np.array_equal(ours[clear], theirs[clear])
    assert (ours != theirs).sum() <= 2


def _spawned(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    return concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def test_every_executor_writes_the_same_bytes(dates, tmp_path, monkeypatch):
    first, second, _ = dates
    monkeypatch.setattr(validity, "STRIP_PIXELS", 40 * SHAPE[1] * 4)
    written = []
    for name, executor in (
        ("inline", InlineExecutor()),
        ("threads", concurrent.futures.ThreadPoolExecutor(2)),
        ("processes", _spawned(2)),
    ):
        with executor:
            change_map(
                first,
                second,
                str(tmp_path / f"{name}.tif"),
                magnitude=str(tmp_path / f"{name}_m.tif"),
                executor=executor,
            )
        written.append([(tmp_path / f"{name}{suffix}.tif").read_bytes() for suffix in ("", "_m")])
    assert written[1] == written[0] and written[2] == written[0]


def test_nodata_in_either_raster_is_nodata_in_the_map(tmp_path):
    before, after, truth = planted()
    first, second = write_dates(tmp_path, before, after)
    # Nodata in the first date (its nodata value) and NaN in a Float32 copy of the second without a nodata value.
    dataset = gdal.Open(first, gdal.GA_Update)
    for index in (1, 2):
        band = dataset.GetRasterBand(index)
        values = band.ReadAsArray()
        values[10:50, 200:260] = 0
        band.WriteArray(values)
    dataset = None
    floats = read_array(second).astype(np.float32)
    floats[0, 150:170, 20:300] = np.nan
    second = make_raster(
        tmp_path / "after_float.tif", SHIFT_TRANSFORM, SHAPE[1], SHAPE[0], bands=2, dtype=gdal.GDT_Float32, data=floats
    )
    invalid = np.zeros(SHAPE, dtype=bool)
    invalid[10:50, 200:260] = invalid[150:170, 20:300] = True
    for method in (PCA_KMEANS, MAGNITUDE):
        path = tmp_path / f"map_{method}.tif"
        result = change_map(
            first, second, str(path), ChangeSettings(method=method), magnitude=str(tmp_path / f"m_{method}.tif")
        )
        labels = read_array(path)[0]
        assert np.array_equal(labels == NODATA, invalid)
        assert np.array_equal(np.isnan(read_array(tmp_path / f"m_{method}.tif")[0]), invalid)
        assert result.valid == int((~invalid).sum())
        found, alarms = rates(labels[~invalid], truth[~invalid])
        assert found >= 0.95 and alarms <= 0.02


@pytest.mark.parametrize("method", [PCA_KMEANS, MAGNITUDE])
def test_a_magnitude_beyond_float32_is_invalid_and_spoils_no_neighbour(tmp_path, method):
    # Float32 dates whose one pixel differs by 3e38 in each band: its magnitude, 4.2e38, lies beyond Float32's
    # range. It must be invalid like a NaN pixel, and its neighbourhoods labelled as if it were one.
    before, after, _ = planted((64, 96), noise=0.1)
    first = (3000.0 + 600.0 * before).astype(np.float32)
    second = (3000.0 + 600.0 * after).astype(np.float32)
    paths = {}
    for name, value in (("huge", np.float32(3e38)), ("nan", np.float32(np.nan))):
        spoiled = first.copy()
        spoiled[:, 5, 75] = value
        paths[name] = make_raster(
            tmp_path / f"{name}.tif", SHIFT_TRANSFORM, 96, 64, bands=2, dtype=gdal.GDT_Float32, data=spoiled
        )
    later = make_raster(tmp_path / "later.tif", SHIFT_TRANSFORM, 96, 64, bands=2, dtype=gdal.GDT_Float32, data=second)
    maps = {}
    for name, path in paths.items():
        result = change_map(
            path,
            later,
            str(tmp_path / f"map_{name}.tif"),
            ChangeSettings(method=method),
            magnitude=str(tmp_path / f"m_{name}.tif"),
        )
        assert result.valid == 64 * 96 - 1
        maps[name] = read_array(tmp_path / f"map_{name}.tif")[0]
        magnitude = read_array(tmp_path / f"m_{name}.tif")[0]
        assert np.isnan(magnitude[5, 75]) and np.isfinite(np.delete(magnitude.ravel(), 5 * 96 + 75)).all()
    assert maps["huge"][5, 75] == NODATA
    assert np.array_equal(maps["huge"], maps["nan"])
    # Its neighbours are not all called change (as an infinite term in their sums made them).
    assert (maps["huge"][2:9, 72:79] == 0).sum() > 40


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    before, after, _ = planted((64, 96), noise=0.1)
    return folder, write_dates(folder, before, after)


def bad_inputs(folder, first, second):
    """(rasters, settings, error, sentence) of each bad input."""
    moved = make_raster(folder / "moved.tif", (500010.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 96, 64, bands=2)
    one_band = make_raster(folder / "one.tif", SHIFT_TRANSFORM, 96, 64, bands=1)
    holes = np.zeros((2, 64, 96), dtype=np.uint16)
    holes[:, :6, :40] = 3000  # 6 x 40 valid pixels: 8 whole blocks of 5 x 5
    sparse = make_raster(
        folder / "sparse.tif", SHIFT_TRANSFORM, 96, 64, bands=2, dtype=gdal.GDT_UInt16, nodata=0, data=holes
    )
    transform = "(500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)"
    return [
        (
            (first, moved),
            ChangeSettings(),
            ChangeInputError,
            f"'before.tif' (96 x 64 pixels, geotransform {transform}) and 'moved.tif' (96 x 64 pixels, geotransform "
            "(500010.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)) do not lie on one grid in one CRS; clip them as a pair "
            "first (Clip raster pair to common area).",
        ),
        (
            (first, one_band),
            ChangeSettings(),
            ChangeInputError,
            "'before.tif' has 2 bands and 'one.tif' has 1; choose the bands to compare, which both must have.",
        ),
        (
            (first, one_band),
            ChangeSettings(bands=(1, 2)),
            ChangeInputError,
            "'one.tif' has 1 bands, so no band 2 to compare.",
        ),
        (
            (first, sparse),
            ChangeSettings(),
            ChangeInputError,
            "The common valid area is too small to fit the clusters: it holds 8 whole blocks of 5 x 5 valid pixels "
            "and 200 are needed.",
        ),
        (
            (first, sparse),
            ChangeSettings(method=MAGNITUDE, min_samples=500),
            ChangeInputError,
            "The common valid area is too small to set a threshold: it holds 240 valid pixels and 500 are needed.",
        ),
        (
            (first, second),
            ChangeSettings(block_size=4),
            UnsupportedOptionError,
            "The block size must be an odd number of pixels, 3 or more; 4 was given.",
        ),
        (
            (first, second),
            ChangeSettings(method=DIFFERENCE, bands=(1, 2)),
            UnsupportedOptionError,
            "The plain difference compares one band; 2 were chosen.",
        ),
    ]


@pytest.mark.parametrize("case", range(7))
def test_bad_input_gets_its_sentence_and_nothing_is_written(small, case):
    folder, (first, second) = small
    rasters, settings, error, sentence = bad_inputs(folder, first, second)[case]
    with pytest.raises(error) as raised:
        change_map(*rasters, str(folder / "map.tif"), settings, magnitude=str(folder / "map_m.tif"))
    assert str(raised.value) == sentence
    assert leftovers(folder) == []


@pytest.mark.parametrize("stop_at", [0.2, 0.7])
def test_a_cancel_leaves_nothing(dates, tmp_path, monkeypatch, stop_at):
    first, second, _ = dates
    monkeypatch.setattr(validity, "STRIP_PIXELS", 40 * SHAPE[1] * 4)
    asked = []

    def progress(fraction):
        asked.append(fraction)
        return fraction < stop_at

    with pytest.raises(CancelledError, match="Cancelled while mapping change; nothing was written."):
        change_map(first, second, str(tmp_path / "map.tif"), magnitude=str(tmp_path / "map_m.tif"), progress=progress)
    assert leftovers(tmp_path) == []
    assert asked[-1] >= stop_at


def test_memory_stays_with_the_strips(tmp_path, monkeypatch):
    rows, cols = 512, 1024
    before, after, _ = planted((rows, cols), bands=1, noise=0.1)
    first, second = write_dates(tmp_path, before, after)
    monkeypatch.setattr(validity, "STRIP_PIXELS", 64 * cols * 2)
    tracemalloc.start()
    change_map(first, second, str(tmp_path / "map.tif"), ChangeSettings(pixel_samples=20000, block_samples=5000))
    _, strips_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    a, b = read_array(first)[0], read_array(second)[0]
    tracemalloc.start()
    reference_labels(a, b, 5, 3, seed=1)
    _, full_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak memory on {rows} x {cols}: strips {strips_peak / 2**20:.1f} MiB, full arrays {full_peak / 2**20:.1f} MiB"
    )
    assert strips_peak * 4 < full_peak
