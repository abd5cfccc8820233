"""An ILWIS map list output (.mpl: a header, one .mpr map a band, a .grf georeference and a .csy coordinate
system) is what gdal_translate writes for the same window: its CRS, its grid and its pixels.
"""

import numpy as np
import pytest
from files import listing
from osgeo import gdal, osr
from rasters import make_raster, read_array

from overlap_clip_plugin.core import WriteError, clip_pair

UTM31 = 32631


def crs_of(path):
    wkt = gdal.Open(str(path)).GetProjection()
    assert wkt, f"{path} reopens without a CRS"
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    return srs


@pytest.mark.parametrize(("output", "source", "window"), [("oa", "a", [10, 10, 30, 20]), ("ob", "b", [0, 0, 30, 20])])
def test_a_map_list_output_keeps_its_crs_grid_and_pixels_as_gdal_translate_does(output, source, window, tmp_path):
    # A and B on one lattice, B 100 m east and 100 m south of A: their common area is A's window
    # [10, 10, 30, 20] and B's [0, 0, 30, 20], copied as they are.
    a = make_raster(tmp_path / "a.tif", (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 40, 30, epsg=UTM31, bands=3)
    b = make_raster(tmp_path / "b.tif", (500100.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), 40, 30, epsg=UTM31, bands=3)
    out = tmp_path / "out"
    out.mkdir()
    clip_pair(a, b, str(out / "oa.mpl"), str(out / "ob.mpl"))

    ref = tmp_path / "gdal_translate"
    ref.mkdir()
    inputs = {"a": a, "b": b}
    assert gdal.Translate(str(ref / f"{output}.mpl"), inputs[source], format="ILWIS", srcWin=window) is not None

    ours, theirs = out / f"{output}.mpl", ref / f"{output}.mpl"
    assert gdal.Open(str(ours)).GetDriver().ShortName == "ILWIS"
    assert gdal.Open(str(ours)).RasterCount == 3
    expected = osr.SpatialReference()
    expected.ImportFromEPSG(UTM31)
    assert crs_of(theirs).IsSame(expected)
    assert crs_of(ours).IsSame(crs_of(theirs))
    assert gdal.Open(str(ours)).GetGeoTransform() == gdal.Open(str(theirs)).GetGeoTransform()
    np.testing.assert_array_equal(read_array(ours), read_array(theirs))
    np.testing.assert_array_equal(
        read_array(ours), read_array(inputs[source])[:, window[1] : window[1] + 20, window[0] : window[0] + 30]
    )


@pytest.mark.parametrize("names", [("oa.mpl", "ob.mpl"), ("OA.MPL", "OB.MPL")])
def test_an_output_the_driver_names_otherwise_is_refused_and_nothing_is_written(names, tmp_path):
    """GDAL's ILWIS driver writes a one-band raster as .mpr and lower-cases the extension: the path asked
    for would not exist after a run that said it was written."""
    bands = 1 if names[0] == "oa.mpl" else 3
    a = make_raster(tmp_path / "a.tif", (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 40, 30, epsg=UTM31, bands=bands)
    b = make_raster(tmp_path / "b.tif", (500100.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), 40, 30, epsg=UTM31, bands=bands)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(WriteError, match="GDAL's ILWIS driver did not write '.*" + names[0].replace(".", r"\.")):
        clip_pair(a, b, str(out / names[0]), str(out / names[1]))
    assert listing(out) == []
