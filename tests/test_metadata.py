"""What outputs keep of their sources' description, against what gdal_translate and gdalwarp keep, and VRT
outputs that name their sources relative to themselves (issue 20, items 11 and 12a)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import PurePath

import numpy as np
import processing
import pytest
from osgeo import gdal
from rasters import A_TRANSFORM, assert_copied_from, make_raster, read_array

from overlap_clip_plugin.core import RESAMPLING_METHODS, clip_pair, views
from overlap_clip_plugin.core.views import NEW_VALUES

#: Domains that describe a file, not its data (and the VRT driver's pixel queries): no output copies them.
OWN_DOMAINS = {"IMAGE_STRUCTURE", "DERIVED_SUBDATASETS", "LocationInfo"}

CLASSES = ["water", "forest", "field", "town"]
COLOURS = [(0, 0, 255, 255), (0, 255, 0, 255), (255, 255, 0, 255), (255, 0, 0, 255)]


def described_raster(path, paletted: bool = True) -> str:
    """A 40 x 30 class raster at 10 m (A's origin) with every kind of description: metadata in the default
    domain, in a domain of its own and as XMP, band metadata in two domains, category names, an attribute
    table, a description, a unit, scale and offset, and (``paletted``) a colour table; Int16 without one."""
    classes = (np.arange(30)[:, None] // 4 + np.arange(40)[None, :] // 6) % 4
    dtype = gdal.GDT_Byte if paletted else gdal.GDT_Int16
    make_raster(path, A_TRANSFORM, 40, 30, dtype=dtype, data=classes)
    ds = gdal.Open(str(path), gdal.GA_Update)
    ds.SetMetadata({"AUTHOR": "survey office", "YEAR": "2024"})
    ds.SetMetadata({"KEY": "value", "OTHER": "2"}, "MY_DOMAIN")
    ds.SetMetadata(["<x:xmpmeta xmlns:x='adobe:ns:meta/'><title>land</title></x:xmpmeta>"], "xml:XMP")
    band = ds.GetRasterBand(1)
    band.SetDescription("land cover")
    band.SetMetadata({"SENSOR": "field survey"})
    band.SetMetadata({"LEGEND": "v3"}, "BAND_DOMAIN")
    band.SetCategoryNames(CLASSES)
    band.SetUnitType("class")
    band.SetScale(2.0)
    band.SetOffset(1.0)
    table = gdal.RasterAttributeTable()
    table.CreateColumn("VALUE", gdal.GFT_Integer, gdal.GFU_MinMax)
    table.CreateColumn("NAME", gdal.GFT_String, gdal.GFU_Name)
    for row, name in enumerate(CLASSES):
        table.SetValueAsInt(row, 0, row)
        table.SetValueAsString(row, 1, name)
    band.SetDefaultRAT(table)
    if paletted:
        colours = gdal.ColorTable()
        for index, colour in enumerate(COLOURS):
            colours.SetColorEntry(index, colour)
        band.SetColorTable(colours)
        band.SetColorInterpretation(gdal.GCI_PaletteIndex)
    ds = None
    return str(path)


def other_raster(path) -> str:
    """A raster at 15 m over part of the described one, on another lattice."""
    return make_raster(path, (500055.0, 15.0, 0.0, 4999950.0, 0.0, -15.0), 20, 15)


def _domains(item) -> dict:
    """Every metadata domain of a dataset or band but the file's own: a dict, or XML documents as GDAL writes
    them (one document, however quoted)."""
    kept = {}
    for domain in item.GetMetadataDomainList() or []:
        if domain in OWN_DOMAINS:
            continue
        if domain.startswith("xml:"):
            kept[domain] = [gdal.SerializeXMLTree(gdal.ParseXMLString(doc)) for doc in item.GetMetadata(domain)]
        else:
            kept[domain] = item.GetMetadata(domain)
    return kept


def described(path) -> dict:
    """What a raster says of its data: metadata per domain (dataset and band), category names, colour entries,
    attribute table rows, description, unit, scale and offset."""
    ds = gdal.Open(str(path))
    band = ds.GetRasterBand(1)
    colours, table = band.GetColorTable(), band.GetDefaultRAT()
    return {
        "dataset": _domains(ds),
        "band": _domains(band),
        "categories": band.GetCategoryNames() or [],
        "colours": [colours.GetColorEntry(i) for i in range(colours.GetCount())] if colours else [],
        "attributes": {
            table.GetNameOfCol(col): [table.GetValueAsString(row, col) for row in range(table.GetRowCount())]
            for col in range(table.GetColumnCount())
        }
        if table
        else {},
        "nodata": band.GetNoDataValue(),
        "description": band.GetDescription(),
        "unit": band.GetUnitType(),
        "scale": band.GetScale(),
        "offset": band.GetOffset(),
    }


def assert_keeps(ours: dict, reference: dict) -> None:
    """``ours`` says at least what ``reference`` says: each of its metadata items in the same domain, its
    colour entries (but the one of our nodata index, transparent in GDAL's eyes), the values of each column of
    its attribute table (a format adds columns and names them its way: HFA adds the colours, calls the names
    Class_Names), and its categories, description, unit, scale and offset where it has any."""
    for level in ("dataset", "band"):
        for domain, items in reference[level].items():
            mine = ours[level].get(domain)
            if isinstance(items, dict):
                assert items.items() <= (mine or {}).items(), (level, domain)
            else:
                assert mine == items, (level, domain)
    colours = [entry for index, entry in enumerate(reference["colours"]) if index != ours["nodata"]]
    assert [entry for index, entry in enumerate(ours["colours"]) if index != ours["nodata"]][: len(colours)] == colours
    for values in reference["attributes"].values():
        assert values in ours["attributes"].values()
    for key in ("categories", "description", "unit", "scale", "offset"):
        if reference[key]:
            assert ours[key] == reference[key], key


def translated(source, output, path, fmt: str) -> str:
    """gdal_translate -srcwin of ``source`` at ``path``: the block of it that ``output`` covers."""
    src, out = gdal.Open(str(source)), gdal.Open(str(output))
    sx, sdx, _, sy, _, sdy = src.GetGeoTransform()
    ox, _, _, oy, _, _ = out.GetGeoTransform()
    window = [round((ox - sx) / sdx), round((oy - sy) / sdy), out.RasterXSize, out.RasterYSize]
    gdal.Translate(str(path), src, format=fmt, srcWin=window)
    return str(path)


def warped(source, output, path, fmt: str, resampling: str = "near") -> str:
    """Gdalwarp's own result for ``source`` on ``output``'s grid, at ``path``."""
    out = gdal.Open(str(output))
    x0, dx, _, y0, _, dy = out.GetGeoTransform()
    width, height = out.RasterXSize, out.RasterYSize
    bounds = (x0, y0 + dy * height, x0 + dx * width, y0)
    gdal.Warp(
        str(path), str(source), format=fmt, outputBounds=bounds, width=width, height=height, resampleAlg=resampling
    )
    return str(path)


@pytest.fixture
def inputs(tmp_path):
    return described_raster(tmp_path / "land.tif"), other_raster(tmp_path / "other.tif")


@pytest.mark.parametrize(
    "extension, driver",
    [("tif", "GTiff"), ("img", "HFA")],
)
def test_a_copied_window_keeps_what_gdal_translate_keeps_and_every_domain(inputs, tmp_path, extension, driver):
    land, other = inputs
    out = str(tmp_path / f"land_common.{extension}")
    clip_pair(land, other, out, str(tmp_path / "other_common.tif"), grid="a")
    reference = translated(land, out, tmp_path / f"reference.{extension}", driver)
    assert_copied_from(out, land)
    np.testing.assert_array_equal(read_array(out), read_array(reference))
    ours = described(out)
    assert_keeps(ours, described(reference))
    assert_keeps(ours, described(land))


@pytest.mark.parametrize("extension, driver", [("tif", "GTiff"), ("img", "HFA")])
def test_a_resampled_output_keeps_what_gdalwarp_keeps_and_every_domain(inputs, tmp_path, extension, driver):
    land, other = inputs
    out = str(tmp_path / f"land_common.{extension}")
    clip_pair(land, other, out, str(tmp_path / "other_common.tif"), grid="b")
    reference = warped(land, out, tmp_path / f"reference.{extension}", driver)
    np.testing.assert_array_equal(read_array(out), read_array(reference))
    ours = described(out)
    assert_keeps(ours, described(reference))
    # Nearest neighbour picks the source's values: its categories and table still name them.
    assert_keeps(ours, described(land))


def test_a_masked_output_keeps_what_gdal_translate_keeps_and_every_domain(inputs, tmp_path):
    land, other = inputs
    out = str(tmp_path / "land_common.tif")
    clip_pair(land, other, out, str(tmp_path / "other_common.tif"), grid="a", mask_common=True)
    reference = translated(land, out, tmp_path / "reference.tif", "GTiff")
    # The other raster is valid everywhere: the mask keeps every pixel of the window.
    assert_copied_from(out, land)
    ours = described(out)
    assert_keeps(ours, described(reference))
    assert_keeps(ours, described(land))


@pytest.mark.parametrize("grid", ["a", "b"])
def test_vrt_outputs_keep_what_gdal_keeps_and_every_domain(inputs, tmp_path, grid):
    land, other = inputs
    out = str(tmp_path / "land_common.vrt")
    clip_pair(land, other, out, str(tmp_path / "other_common.vrt"), grid=grid)
    if grid == "a":
        reference = translated(land, out, tmp_path / "reference.vrt", "VRT")
        assert_copied_from(out, land)
    else:
        reference = warped(land, out, tmp_path / "reference.vrt", "VRT")
    np.testing.assert_array_equal(read_array(out), read_array(reference))
    ours = described(out)
    assert_keeps(ours, described(reference))
    assert_keeps(ours, described(land))


@pytest.mark.parametrize("method", RESAMPLING_METHODS)
def test_categories_and_attribute_table_are_kept_where_resampling_picks_source_values(tmp_path, method):
    land = described_raster(tmp_path / "land.tif", paletted=False)
    out = str(tmp_path / "land_common.vrt")
    clip_pair(
        land, other_raster(tmp_path / "other.tif"), out, str(tmp_path / "other_common.vrt"), grid="b", resampling=method
    )
    ours, source = described(out), described(land)
    picked = method not in NEW_VALUES
    assert ours["categories"] == (source["categories"] if picked else [])
    assert ours["attributes"] == (source["attributes"] if picked else {})
    # The rest describes the data whatever the method.
    assert ours["dataset"] == source["dataset"]
    assert ours["band"] == source["band"]
    assert (ours["description"], ours["unit"], ours["scale"], ours["offset"]) == ("land cover", "class", 2.0, 1.0)


def test_an_interpolated_geotiff_keeps_what_gdalwarp_keeps_but_no_categories(tmp_path):
    land = described_raster(tmp_path / "land.tif", paletted=False)
    out = str(tmp_path / "land_common.tif")
    clip_pair(
        land,
        other_raster(tmp_path / "other.tif"),
        out,
        str(tmp_path / "other_common.tif"),
        grid="b",
        resampling="bilinear",
    )
    reference = warped(land, out, tmp_path / "reference.tif", "GTiff", "bilinear")
    np.testing.assert_array_equal(read_array(out), read_array(reference))
    ours = described(out)
    assert_keeps(ours, described(reference))
    assert (ours["categories"], ours["attributes"]) == ([], {})
    assert ours["dataset"]["MY_DOMAIN"] == {"KEY": "value", "OTHER": "2"}
    assert ours["band"]["BAND_DOMAIN"] == {"LEGEND": "v3"}


def test_the_algorithm_keeps_every_domain_categories_and_colours(provider, inputs, tmp_path):
    land, other = inputs
    out_a, out_b = str(tmp_path / "land_common.tif"), str(tmp_path / "other_common.tif")
    # GRID 1 is B's grid: the land raster is resampled onto it (by nearest neighbour).
    processing.run(
        "overlapclip:clippair", {"INPUT_A": land, "INPUT_B": other, "GRID": 1, "OUTPUT_A": out_a, "OUTPUT_B": out_b}
    )
    reference = warped(land, out_a, tmp_path / "reference.tif", "GTiff")
    np.testing.assert_array_equal(read_array(out_a), read_array(reference))
    ours = described(out_a)
    assert_keeps(ours, described(reference))
    assert_keeps(ours, described(land))


def with_rpcs(path) -> str:
    """The described raster, with rational polynomial coefficients beside its geotransform (which places it)."""
    described_raster(path)
    coefficients = " ".join(["1"] + ["0"] * 19)
    rpcs = {"LINE_OFF": "15", "SAMP_OFF": "20", "LAT_OFF": "45.1", "LONG_OFF": "15.0", "HEIGHT_OFF": "100"}
    rpcs.update(
        {"LINE_SCALE": "15", "SAMP_SCALE": "20", "LAT_SCALE": "0.01", "LONG_SCALE": "0.01", "HEIGHT_SCALE": "50"}
    )
    rpcs.update(
        {name: coefficients for name in ("LINE_NUM_COEFF", "LINE_DEN_COEFF", "SAMP_NUM_COEFF", "SAMP_DEN_COEFF")}
    )
    gdal.Open(str(path), gdal.GA_Update).SetMetadata(rpcs, "RPC")
    return str(path)


@pytest.mark.parametrize("mask_common", [False, True])
def test_rpcs_move_with_a_window_as_gdal_translate_moves_them_and_a_warp_has_none(tmp_path, mask_common):
    land, other = with_rpcs(tmp_path / "land.tif"), other_raster(tmp_path / "other.tif")
    copied, resampled = str(tmp_path / "copied.tif"), str(tmp_path / "resampled.tif")
    clip_pair(land, other, copied, str(tmp_path / "other_a.tif"), grid="a", mask_common=mask_common)
    clip_pair(land, other, resampled, str(tmp_path / "other_b.tif"), grid="b", mask_common=mask_common)
    reference = gdal.Open(translated(land, copied, tmp_path / "reference.tif", "GTiff")).GetMetadata("RPC")
    assert reference["LINE_OFF"] != "15"  # moved with the window
    assert gdal.Open(copied).GetMetadata("RPC") == reference
    assert gdal.Open(warped(land, resampled, tmp_path / "warped.tif", "GTiff")).GetMetadata("RPC") == {}
    assert gdal.Open(resampled).GetMetadata("RPC") == {}


@pytest.mark.parametrize(
    "name, folder, expected",
    [
        ("/data/project/in/a.tif", "/data/project/out", "../in/a.tif"),
        ("/data/project/out/a.tif", "/data/project/out", "a.tif"),
        ("/data/a.tif", "/data/project/out/deep", "../../../a.tif"),
        ("/mnt/usb/a.tif", "/data/project/out", None),
        ("/vsimem/a.tif", "/vsimem", None),
        ("/vsizip//data/project/a.zip/a.tif", "/data/project/out", None),
        ("https://example.com/a.tif", "/data/project/out", None),
        ("GPKG:/data/project/a.gpkg:table", "/data/project/out", None),
    ],
)
def test_relative_name_within_one_top_folder_only(name, folder, expected):
    assert views.relative_name(name, folder) == expected


def _sources(vrt) -> list[tuple[str, str]]:
    """Each source a VRT file names, with its relativeToVRT flag."""
    found = []

    def walk(node):
        if node[0] == gdal.CXT_Element and node[1] in ("SourceFilename", "SourceDataset"):
            flags = [child[2][1] for child in node[2:] if child[0] == gdal.CXT_Attribute]
            texts = [child[1] for child in node[2:] if child[0] == gdal.CXT_Text]
            found.append((texts[0], flags[0]))
        for child in node[2:]:
            if child[0] == gdal.CXT_Element:
                walk(child)

    with open(vrt, encoding="utf-8") as file:
        walk(gdal.ParseXMLString(file.read()))
    return found


def test_vrt_outputs_name_their_sources_relative_and_work_after_the_folder_moves(tmp_path):
    project = tmp_path / "project"
    (project / "inputs").mkdir(parents=True)
    (project / "outputs").mkdir()
    land = described_raster(project / "inputs" / "land.tif")
    other = other_raster(project / "inputs" / "other.tif")
    # A's grid: the land raster's window is copied (simple sources), the other one warped (a warped VRT).
    clip_pair(land, other, str(project / "outputs" / "land.vrt"), str(project / "outputs" / "other.vrt"), grid="a")
    before = {name: read_array(project / "outputs" / name) for name in ("land.vrt", "other.vrt")}
    assert _sources(project / "outputs" / "land.vrt") == [("../inputs/land.tif", "1")]
    assert set(_sources(project / "outputs" / "other.vrt")) == {("../inputs/other.tif", "1")}

    moved = tmp_path / "moved elsewhere"
    shutil.move(str(project), str(moved))
    assert not project.exists()
    assert_copied_from(moved / "outputs" / "land.vrt", moved / "inputs" / "land.tif")
    expected = warped(
        moved / "inputs" / "other.tif", moved / "outputs" / "other.vrt", tmp_path / "reference.tif", "GTiff"
    )
    np.testing.assert_array_equal(read_array(moved / "outputs" / "other.vrt"), read_array(expected))
    for name, values in before.items():
        np.testing.assert_array_equal(read_array(moved / "outputs" / name), values)
    assert described(moved / "outputs" / "land.vrt")["categories"] == CLASSES


def _folder_under_another_top(path) -> str | None:
    """A new writable folder under a top-level folder other than ``path``'s, or None."""
    top = PurePath(os.path.abspath(path)).parts[:2]
    for candidate in ("/var/tmp", "/dev/shm", tempfile.gettempdir(), os.path.expanduser("~")):
        if os.path.isdir(candidate) and PurePath(os.path.abspath(candidate)).parts[:2] != top:
            try:
                return tempfile.mkdtemp(prefix="overlapclip-test-", dir=candidate)
            except OSError:
                continue
    return None


def test_a_source_under_another_top_folder_or_in_memory_keeps_its_absolute_name(tmp_path):
    elsewhere = _folder_under_another_top(tmp_path)
    if elsewhere is None:
        pytest.skip("no writable folder under another top-level folder than the test's")
    try:
        land = described_raster(os.path.join(elsewhere, "land.tif"))
        memory = "/vsimem/test_metadata/other.tif"
        gdal.Translate(memory, other_raster(tmp_path / "other.tif"))
        out_a, out_b = str(tmp_path / "land.vrt"), str(tmp_path / "other.vrt")
        clip_pair(land, memory, out_a, out_b, grid="a")
        assert _sources(out_a) == [(land, "0")]
        assert set(_sources(out_b)) == {(memory, "0")}
        assert_copied_from(out_a, land)
    finally:
        shutil.rmtree(elsewhere, ignore_errors=True)
        gdal.Unlink("/vsimem/test_metadata/other.tif")
