"""`make demo`: clip a built-in sample pair with qgis_process and print what it produced."""

import argparse
import json
import os
import subprocess
import sys

from osgeo import gdal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rasters import sample_pair

gdal.UseExceptions()  # this script owns its process: it chooses GDAL 4's default


def describe(path: str) -> str:
    ds = gdal.Open(path)
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    x1, y1 = x0 + dx * ds.RasterXSize, y0 + dy * ds.RasterYSize
    band = ds.GetRasterBand(1)
    return (
        f"{path}\n    {ds.RasterXSize} x {ds.RasterYSize} pixels, {ds.RasterCount} band(s) of "
        f"{gdal.GetDataTypeName(band.DataType)}, pixel {dx:g} x {-dy:g}, nodata {band.GetNoDataValue()}\n"
        f"    extent x {x0:.4f} .. {x1:.4f}, y {y1:.4f} .. {y0:.4f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qgis-process", default="qgis_process")
    parser.add_argument("--out", default="build/demo")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    a, b = sample_pair(args.out)
    out_a, out_b = os.path.join(args.out, "a_common.tif"), os.path.join(args.out, "b_common.tif")
    command = [
        args.qgis_process,
        "--json",
        "run",
        "overlapclip:clippair",
        "--",
        f"INPUT_A={a}",
        f"INPUT_B={b}",
        f"OUTPUT_A={out_a}",
        f"OUTPUT_B={out_b}",
    ]
    profile = os.environ.get("QGIS_CUSTOM_CONFIG_PATH")
    if profile:
        print(f"QGIS profile: {profile} (this project's own; your QGIS profile is not touched)")
    print("Inputs:")
    print("  " + describe(a))
    print("  " + describe(b))
    print("Running: " + " ".join(command))
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout, run.stderr, file=sys.stderr)
        return run.returncode
    answer = json.loads(run.stdout[run.stdout.index("{") :])
    results = answer["results"]
    print("The algorithm's log:")
    for line in answer.get("log", {}).get("info", []):
        print("  " + line)
    print("Outputs:")
    for key in ("OUTPUT_A", "OUTPUT_B"):
        print(f"  {key}: " + describe(results[key]))
    print(
        f"Overlap: {results['OVERLAP_AREA_M2']:.0f} m² on the ellipsoid "
        f"({results['WIDTH']} x {results['HEIGHT']} pixels), "
        f"{results['PERCENT_A']:.1f}% of A, {results['PERCENT_B']:.1f}% of B"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
