"""AROSICS's global COREG on pairs of files, for `make bench` part `shift` (tests/benchmark.py).

Run by the Python of a separate venv where ``import arosics`` works (see ../shared/QGIS-NOTES.md, "AROSICS"),
never by QGIS's: ``V/bin/python tests/bench_arosics.py '[["ref.tif", "tgt.tif"], ...]'``. Prints one JSON line:
``{"import_seconds": s, "pairs": [{"success", "x_shift_px", "y_shift_px", "seconds"}, ...]}`` or
``{"error": "why"}``.

COREG runs with its defaults (one 256 x 256 matching window at the overlap's centre, cubic resampling for the
calculation, at most 5 px), computing the shifts only (``calculate_spatial_shifts``), nothing written. Its
``x_shift_px`` / ``y_shift_px`` are the **correction** to the target in its image coordinates (columns east,
rows south): minus the shift of the target's content against the reference's in Overlap Clip's convention.

GDAL 3.6's Python bindings (the recipe's ``GDAL==3.6.2``, Debian 12's) lack two things of GDAL 3.8's API that
the geoarray (>= 0.18) and py_tools_ds (>= 0.22) which AROSICS 1.13.2 needs use: a dataset as a context
manager (``with gdal.Open(path) as ds``) and ``gdal.config_options``. Without them every COREG failed
("'Dataset' object does not support the context manager protocol"), each pair a "no match".
:func:`_gdal_38_api` adds both, as GDAL 3.8 defines them, when they are missing; it changes no computation.

Why AROSICS is about 0.2 px off the truth on tests/shift_data.py's pairs (measured, issue 21) -- its defaults
are kept on purpose, no COREG setting helps: the sign convention is right (errors of 0.3 px at most on shifts of
up to 3 px, of either sign), and ``ws`` 128/512/1024, ``binary_ws=False``, ``max_iter``/``max_shift`` 10,
``nodata=(0, 0)``, ``resamp_alg_calc="nearest"``, ``align_grids``/``match_gsd`` all leave the same error
(RMSE 0.18 to 0.20 px), as does the mean of COREG_LOCAL's 81 windows (0.14 px). The error is AROSICS's
sub-pixel estimator: whitened phase correlation without a taper or low-pass, and the peak refined by
``side / (peak + side)``, which is exact only for a correlation peak whose neighbours are 0 at a whole-pixel
shift (content with signal up to the Nyquist frequency). The test texture has nothing above 0.8 of Nyquist, so
whitening gives the peak the shape of a disk's transform (neighbours at 2 J1(0.8 pi) / (0.8 pi) = 0.39 of the
peak) and the frequencies above carry only noise: a whole-pixel shift is read 0.28 px off (measured 0.29),
its sign set by the noise, and the fractional part is squeezed towards the middle of the pixel. So the
difference between our estimate and AROSICS's on these pairs is AROSICS's own bias, not our use of it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time


def _gdal_38_api() -> None:
    """Give GDAL < 3.8's bindings the parts of GDAL 3.8's Python API that geoarray and py_tools_ds use: a dataset
    (raster or OGR) as a context manager (flushed on leaving; closed when its last reference goes) and
    ``gdal.config_options``."""
    from osgeo import gdal, ogr

    def _enter(self):
        return self

    def _exit(self, *exc) -> bool:
        self.FlushCache()
        return False

    # OGR's data sources too: py_tools_ds opens one so for a footprint with nodata (real scenes have some).
    for kind in (gdal.Dataset, ogr.DataSource):
        if not hasattr(kind, "__enter__"):
            kind.__enter__ = _enter
            kind.__exit__ = _exit
    if not hasattr(gdal, "config_options"):

        @contextlib.contextmanager
        def config_options(options: dict, thread_local: bool = True):
            set_option = gdal.SetThreadLocalConfigOption if thread_local else gdal.SetConfigOption
            get_option = gdal.GetThreadLocalConfigOption if thread_local else gdal.GetConfigOption
            previous = {key: get_option(key) for key in options}
            for key, value in options.items():
                set_option(key, value)
            try:
                yield
            finally:
                for key, value in previous.items():
                    set_option(key, value)

        gdal.config_options = config_options


def main() -> int:
    pairs = json.loads(sys.argv[1])
    start = time.perf_counter()
    try:
        _gdal_38_api()
        from arosics import COREG
    except Exception as error:  # any failure to import is a reason to print, not to fail
        print(json.dumps({"error": f"import arosics failed: {type(error).__name__}: {error}"}))
        return 0
    imported = time.perf_counter() - start
    results = []
    for reference, target in pairs:
        start = time.perf_counter()
        try:
            coreg = COREG(reference, target, q=True, progress=False, ignore_errors=True)
            coreg.calculate_spatial_shifts()
            success = bool(coreg.success)
            x, y = coreg.x_shift_px, coreg.y_shift_px
        except Exception as error:  # COREG's own failures are a result too
            success, x, y = False, None, None
            print(f"COREG failed on {target}: {error}", file=sys.stderr)
        results.append(
            {
                "success": success and x is not None,
                "x_shift_px": None if x is None else float(x),
                "y_shift_px": None if y is None else float(y),
                "seconds": time.perf_counter() - start,
            }
        )
    print(json.dumps({"import_seconds": imported, "pairs": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
