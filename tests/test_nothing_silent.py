"""Nothing silent: what GDAL warns about reaches the user, and what GDAL would write badly is refused first."""

import numpy as np
import processing
import pytest
from commands import clippair
from feedback import RecordingFeedback
from files import listing
from osgeo import gdal, ogr
from rasters import A_TRANSFORM, make_raster, read_array

from overlap_clip_plugin.core import OutputFormatError, OutputPathError, UnsupportedOptionError, clip_pair

SHIFTED = (500203.3, 10.0, 0.0, 4999796.7, 0.0, -10.0)


def test_a_16_bit_dem_into_a_format_of_bytes_is_refused_before_writing(tmp_path):
    dem = make_raster(tmp_path / "dem.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_UInt16)
    b = make_raster(tmp_path / "b.tif", SHIFTED, 100, 80, dtype=gdal.GDT_Byte)
    # GIF would write bytes without a word, as gdal_translate does: the DEM would come out all 255.
    with pytest.raises(OutputFormatError, match=r"\(GIF\) cannot store band 1 of 'dem.tif' as UInt16 .*write Byte"):
        clip_pair(dem, b, str(tmp_path / "dem_common.gif"), str(tmp_path / "b_common.tif"))
    # BMP refuses outright: said in GDAL's words, before anything is written.
    with pytest.raises(OutputFormatError, match=r"GDAL's BMP driver cannot write .*dem_common.bmp.*UInt16"):
        clip_pair(dem, b, str(tmp_path / "dem_common.bmp"), str(tmp_path / "b_common.tif"))
    assert listing(tmp_path, aux=False) == ["b.tif", "dem.tif"]


def test_the_same_refusal_through_qgis_process(profile, tmp_path):
    dem = make_raster(tmp_path / "dem.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_UInt16)
    b = make_raster(tmp_path / "b.tif", SHIFTED, 100, 80, dtype=gdal.GDT_Byte)
    run = clippair(profile, INPUT_A=dem, INPUT_B=b, OUTPUT_A=tmp_path / "x.gif", OUTPUT_B=tmp_path / "y.tif")
    assert run.returncode != 0
    assert "cannot store band 1 of 'dem.tif' as UInt16" in run.stdout + run.stderr
    assert listing(tmp_path, aux=False) == ["b.tif", "dem.tif"]


def test_mixed_band_types_into_a_geotiff_are_refused_and_kept_in_a_vrt(tmp_path):
    mixed = gdal.GetDriverByName("VRT").Create(str(tmp_path / "mixed.vrt"), 100, 80, 0)
    mixed.SetGeoTransform(A_TRANSFORM)
    for dtype in (gdal.GDT_Byte, gdal.GDT_Float32):
        mixed.AddBand(dtype)
    mixed = None
    b = make_raster(tmp_path / "b.tif", SHIFTED, 100, 80, epsg=None)
    with pytest.raises(OutputFormatError, match="cannot store band 2 of 'mixed.vrt' as Float32"):
        clip_pair(str(tmp_path / "mixed.vrt"), b, str(tmp_path / "x.tif"), str(tmp_path / "y.tif"))
    clip_pair(str(tmp_path / "mixed.vrt"), b, str(tmp_path / "x.vrt"), str(tmp_path / "y.tif"))
    out = gdal.Open(str(tmp_path / "x.vrt"))
    assert [out.GetRasterBand(i).DataType for i in (1, 2)] == [gdal.GDT_Byte, gdal.GDT_Float32]


def test_a_palette_is_never_interpolated(tmp_path):
    indices = (np.arange(100 * 80).reshape(80, 100) % 4).astype(np.uint8)
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_Byte)
    classes = make_raster(tmp_path / "classes.tif", SHIFTED, 100, 80, dtype=gdal.GDT_Byte, data=indices)
    dataset = gdal.Open(classes, gdal.GA_Update)
    table = gdal.ColorTable()
    for index, colour in enumerate([(0, 0, 0, 255), (255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)]):
        table.SetColorEntry(index, colour)
    dataset.GetRasterBand(1).SetRasterColorTable(table)
    dataset.GetRasterBand(1).SetRasterColorInterpretation(gdal.GCI_PaletteIndex)
    dataset = None
    out_b = str(tmp_path / "classes_common.tif")
    said = []
    plan = clip_pair(a, classes, str(tmp_path / "a_common.tif"), out_b, resampling="bilinear", warn=said.append)
    assert plan.outputs[1].resampling == "near"
    assert any("holds palette indices, which bilinear resampling would mix" in line for line in said), said
    assert set(np.unique(read_array(out_b))) <= {0, 1, 2, 3}
    written = gdal.Open(out_b)  # kept open while its colour table is read
    kept = written.GetRasterBand(1).GetColorTable()
    assert [kept.GetColorEntry(index) for index in range(4)] == [
        (0, 0, 0, 255),
        (255, 0, 0, 255),
        (0, 255, 0, 255),
        (0, 0, 255, 255),
    ]


def test_gdal_warnings_reach_the_processing_log(provider, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500200.0, 10.0, 0.0, 4999800.0, 0.0, -10.0), 100, 80)
    feedback = RecordingFeedback()
    processing.run(
        "overlapclip:clippair",
        {"INPUT_A": a, "INPUT_B": b, "OUTPUT_A": str(tmp_path / "a.tif.xml"), "OUTPUT_B": str(tmp_path / "b.xml")},
        feedback=feedback,
    )
    # PDS4 fills its label from a template and says which fields it could not fill.
    assert any(w.startswith("GDAL: ") and "could not be substituted" in w for w in feedback.warnings), feedback.warnings


def test_a_geopackage_holding_other_layers_is_never_replaced(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", SHIFTED, 100, 80)
    package = str(tmp_path / "project.gpkg")
    source = ogr.GetDriverByName("GPKG").CreateDataSource(package)
    source.CreateLayer("field_plots", geom_type=ogr.wkbPoint)
    source = None
    before = (tmp_path / "project.gpkg").read_bytes()
    with pytest.raises(
        OutputPathError, match="'.*project.gpkg' is an existing file that holds other data \\(field_plots"
    ):
        clip_pair(a, b, package, str(tmp_path / "b_common.tif"))
    with pytest.raises(UnsupportedOptionError, match="APPEND_SUBDATASET=YES would add the output to an existing file"):
        clip_pair(
            a,
            b,
            str(tmp_path / "new.gpkg"),
            str(tmp_path / "b_common.gpkg"),
            creation_options=["APPEND_SUBDATASET=YES"],
        )
    assert (tmp_path / "project.gpkg").read_bytes() == before
    assert listing(tmp_path, aux=False) == ["a.tif", "b.tif", "project.gpkg"]


def test_an_earlier_single_raster_geopackage_output_is_replaced(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", SHIFTED, 100, 80)
    clip_pair(a, b, str(tmp_path / "a_common.gpkg"), str(tmp_path / "b_common.tif"))
    clip_pair(a, b, str(tmp_path / "a_common.gpkg"), str(tmp_path / "b_common.tif"))
    written = gdal.Open(str(tmp_path / "a_common.gpkg"))
    assert (written.RasterXSize, written.RasterYSize) == (80, 60)
