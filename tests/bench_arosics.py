"""AROSICS's global COREG on pairs of files, for `make bench` part `shift` (tests/benchmark.py).

Run by the Python of a separate venv where ``import arosics`` works (see ../shared/QGIS-NOTES.md, "AROSICS"),
never by QGIS's: ``V/bin/python tests/bench_arosics.py '[["ref.tif", "tgt.tif"], ...]'``. Prints one JSON line:
``{"import_seconds": s, "pairs": [{"success", "x_shift_px", "y_shift_px", "seconds"}, ...]}`` or
``{"error": "why"}``.

COREG runs with its defaults (one 256 x 256 matching window at the overlap's centre, cubic resampling for the
calculation, at most 5 px), computing the shifts only (``calculate_spatial_shifts``), nothing written. Its
``x_shift_px`` / ``y_shift_px`` are the **correction** to the target in its image coordinates (columns east,
rows south): minus the shift of the target's content against the reference's in Overlap Clip's convention.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    pairs = json.loads(sys.argv[1])
    start = time.perf_counter()
    try:
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
