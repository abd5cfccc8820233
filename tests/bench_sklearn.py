"""Celik's change map with scikit-learn on full arrays, for `make bench` part `change` (tests/benchmark.py).

Run by the Python of a separate venv where ``import sklearn`` works, never by the project's (scikit-learn pulls a
NumPy that breaks Debian's compiled GDAL bindings): ``V/bin/python tests/bench_sklearn.py '{"before": "b.npy",
"after": "a.npy", "labels": "out.npy", "block": 5, "components": 3, "seed": 0}'``. Imports only NumPy and
scikit-learn. Writes the labels (True where change) at ``labels`` and prints one JSON line: ``{"seconds",
"peak_mb", "explained", "changed", "sklearn"}`` or ``{"error": "why"}``.

The method, as a program with the whole images in memory runs it (Celik 2009, IEEE GRSL 6(4), 772-776): the
difference magnitude ``sqrt(sum_b (after_b - before_b)**2)`` over the bands; ``PCA`` fitted on every
non-overlapping ``h x h`` block (from the image's corner; a partial block at the right or bottom edge is left
out); every pixel's ``h x h`` neighbourhood projected on the leading ``S`` components; ``KMeans(n_clusters=2)``
with scikit-learn's defaults on all of them; the cluster of larger mean difference is change. A neighbour outside
the image takes the blocks' mean there (it adds nothing to the projection), as Overlap Clip's core does, so that
the two differ by sampling and by k-means' start only.

``seconds`` runs from the arrays in memory to the labels (imports and loading excluded); ``peak_mb`` is the
process's peak resident memory (``ru_maxrss``).
"""

from __future__ import annotations

import json
import resource
import sys
import time


def celik_labels(before, after, size: int, components: int, seed: int):
    """The change labels (rows x columns, True for change) and the share of variance the kept components hold."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    difference = np.sqrt(((after.astype(np.float64) - before.astype(np.float64)) ** 2).sum(axis=0))
    rows, cols = difference.shape
    down, across = rows // size, cols // size
    blocks = difference[: down * size, : across * size].reshape(down, size, across, size)
    blocks = blocks.transpose(0, 2, 1, 3).reshape(-1, size * size)
    pca = PCA(n_components=components).fit(blocks)
    halo = size // 2
    padded = np.pad(difference, halo, constant_values=np.nan)
    neighbourhoods = np.empty((rows * cols, size * size))
    for offset in range(size * size):
        dy, dx = divmod(offset, size)
        column = padded[dy : dy + rows, dx : dx + cols].ravel()
        neighbourhoods[:, offset] = np.where(np.isnan(column), pca.mean_[offset], column)
    del padded
    features = pca.transform(neighbourhoods)
    del neighbourhoods
    clusters = KMeans(n_clusters=2, random_state=seed).fit_predict(features)
    flat = difference.ravel()
    means = [flat[clusters == index].mean() if (clusters == index).any() else -np.inf for index in (0, 1)]
    change = clusters == int(means[1] > means[0])
    return change.reshape(rows, cols), float(pca.explained_variance_ratio_.sum())


def main() -> int:
    job = json.loads(sys.argv[1])
    try:
        import numpy as np
        import sklearn
    except ImportError as error:
        print(json.dumps({"error": f"cannot import {error.name}"}))
        return 0
    # Bands x rows x columns, one band too.
    before, after = (np.load(job[key]) for key in ("before", "after"))
    before, after = (image.reshape(-1, *image.shape[-2:]) for image in (before, after))
    start = time.perf_counter()
    labels, explained = celik_labels(before, after, job["block"], job["components"], job["seed"])
    seconds = time.perf_counter() - start
    np.save(job["labels"], labels)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    said = {
        "seconds": seconds,
        "peak_mb": peak,
        "explained": explained,
        "changed": int(labels.sum()),
        "sklearn": sklearn.__version__,
    }
    print(json.dumps(said))
    return 0


if __name__ == "__main__":
    sys.exit(main())
