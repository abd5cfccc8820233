"""Clear-sky validity from QA bands (issue 22): the presets against their published tables, the rule a user
types, the refusals before anything is written, and the QA values of a block read from real GDAL files."""

import numpy as np
import pytest
from osgeo import gdal
from rasters import A_TRANSFORM, crs_wkt, make_raster

from overlap_clip_plugin.core.errors import QaRuleError, RasterOpenError
from overlap_clip_plugin.core.grid import Window
from overlap_clip_plugin.core.qa import (
    QaRule,
    check_rule,
    clear,
    clear_on_window,
    landsat_c2_qa_pixel,
    parse_rule,
    sentinel2_scl,
)
from overlap_clip_plugin.core.raster import Source, read_raster

# USGS Landsat 8-9 Collection 2 Level-2 Science Product Guide, QA_PIXEL bit index: bit -> (meaning, masked).
QA_PIXEL_BITS = {
    0: ("fill", True),
    1: ("dilated cloud", True),
    2: ("cirrus", True),
    3: ("cloud", True),
    4: ("cloud shadow", True),
    5: ("snow", True),
    6: ("clear", False),
    7: ("water", False),
    8: ("cloud confidence, low bit", False),
    9: ("cloud confidence, high bit", False),
    10: ("cloud shadow confidence, low bit", False),
    11: ("cloud shadow confidence, high bit", False),
    12: ("snow/ice confidence, low bit", False),
    13: ("snow/ice confidence, high bit", False),
    14: ("cirrus confidence, low bit", False),
    15: ("cirrus confidence, high bit", False),
}

# ESA Sen2Cor scene classification (SCL): class -> (meaning, clear sky).
SCL_CLASSES = {
    0: ("no data", False),
    1: ("saturated or defective", False),
    2: ("dark area pixels", True),
    3: ("cloud shadows", False),
    4: ("vegetation", True),
    5: ("not vegetated", True),
    6: ("water", True),
    7: ("unclassified", True),
    8: ("cloud, medium probability", False),
    9: ("cloud, high probability", False),
    10: ("thin cirrus", False),
    11: ("snow or ice", False),
}


def qa_pixel_is_clear(value):
    """The table above applied to one value, bit by bit in plain Python."""
    return not any((value >> bit) & 1 for bit, (_, masked) in QA_PIXEL_BITS.items() if masked)


def whole(raster):
    return Window(0, 0, raster.grid.width, raster.grid.height)


def test_landsat_qa_pixel_preset_follows_the_bit_table_for_every_16_bit_value(tmp_path):
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    path = make_raster(tmp_path / "qa_pixel.tif", A_TRANSFORM, 256, 256, dtype=gdal.GDT_UInt16, data=values)
    raster = read_raster(path)
    rule = landsat_c2_qa_pixel()
    check_rule(rule, raster)

    got = clear_on_window(rule, raster, whole(raster))

    expected = np.array([qa_pixel_is_clear(value) for value in range(65536)]).reshape(256, 256)
    np.testing.assert_array_equal(got, expected)
    # One value in 64 has none of bits 0-5 set.
    assert int(got.sum()) == 65536 // 64
    np.testing.assert_array_equal(clear(rule, values), expected)


@pytest.mark.parametrize(
    ("value", "is_clear"),
    [
        (0x5540, True),  # 21824: bits 6 (clear) and the low bits of each confidence
        (0x55C0, True),  # 21952: bit 7 (water) besides
        (0x5708, False),  # 22280: bit 3 (cloud)
        (0x5D50, False),  # 23888: bit 4 (cloud shadow)
        (0x7560, False),  # 30048: bit 5 (snow)
        (0xD544, False),  # 54596: bit 2 (cirrus)
        (0x5542, False),  # bit 1 (dilated cloud)
        (0x0001, False),  # bit 0 (fill)
    ],
)
def test_landsat_qa_pixel_values_of_real_scenes(value, is_clear):
    assert clear(landsat_c2_qa_pixel(), np.array([value], dtype=np.uint16)).tolist() == [is_clear]


def test_sentinel2_scl_preset_follows_the_class_table(tmp_path):
    # Every class 0..11, then values no class has (12..255), in a Byte band as Sen2Cor writes it.
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    path = make_raster(tmp_path / "scl.tif", A_TRANSFORM, 16, 16, dtype=gdal.GDT_Byte, data=values)
    raster = read_raster(path)
    rule = sentinel2_scl()
    check_rule(rule, raster)

    got = clear_on_window(rule, raster, whole(raster)).ravel()

    assert {value: bool(got[value]) for value in SCL_CLASSES} == {
        value: keep for value, (_, keep) in SCL_CLASSES.items()
    }
    assert not got[12:].any()


@pytest.mark.parametrize(
    ("dtype", "values", "rule", "expected"),
    [
        # The sign bit of a signed band is bit 15, as in its unsigned twin.
        (np.int16, [-32768, -1, 0, 1, 32767], "bits:15", [False, False, True, True, True]),
        (np.uint32, [0, 1 << 20, (1 << 32) - 1, 1 << 19], "bits:20", [True, False, False, True]),
        (np.int64, [0, -(1 << 63), 1 << 62], "bits:63", [True, False, True]),
        # A bit beyond the values' size is never set.
        (np.uint8, [0, 255], "bits:9", [True, True]),
        (np.float32, [4.0, 4.5, 9.0], "classes:4,5", [True, False, False]),
    ],
)
def test_clear_on_integer_types_of_every_size(dtype, values, rule, expected):
    assert clear(parse_rule(rule), np.array(values, dtype=dtype)).tolist() == expected


def test_clear_keeps_the_shape_of_its_values():
    values = np.array([[0, 8], [16, 64]], dtype=np.uint16)
    np.testing.assert_array_equal(clear(landsat_c2_qa_pixel(), values), [[True, False], [False, True]])


def test_a_bit_rule_refuses_floating_point_values():
    with pytest.raises(ValueError, match="QA values must be integers"):
        clear(parse_rule("bits:0"), np.array([1.0]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bits:0,1,3", QaRule(reject_bits=(0, 1, 3))),
        (" Bits : 3, 1 ,0,1 ", QaRule(reject_bits=(0, 1, 3))),
        ("classes:4,5,6", QaRule(keep_classes=(4, 5, 6))),
        ("CLASSES:6,-1", QaRule(keep_classes=(-1, 6))),
        ("bits:63", QaRule(reject_bits=(63,))),
        ("landsat-c2-qa-pixel", QaRule(reject_bits=(0, 1, 2, 3, 4, 5))),
        ("Sentinel-2-SCL ", QaRule(keep_classes=(2, 4, 5, 6, 7))),
    ],
)
def test_parse_rule_reads_what_a_user_types(text, expected):
    rule = parse_rule(text)
    assert rule == expected
    assert parse_rule(str(rule)) == rule


def test_parse_rule_keeps_band_and_path():
    assert parse_rule("bits:0", band=3, path="/data/qa.tif") == QaRule(reject_bits=(0,), band=3, path="/data/qa.tif")
    assert parse_rule("sentinel-2-scl", band=2, path="scl.tif") == QaRule(
        keep_classes=(2, 4, 5, 6, 7), band=2, path="scl.tif"
    )


NOT_UNDERSTOOD = (
    "The QA rule '{}' is not understood; give a preset ('landsat-c2-qa-pixel', 'sentinel-2-scl'), or 'bits:' and "
    "the bits to reject, or 'classes:' and the classes to keep, as in 'bits:0,1,3' or 'classes:4,5,6'."
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cloud", NOT_UNDERSTOOD.format("cloud")),
        ("bits 0,1", NOT_UNDERSTOOD.format("bits 0,1")),
        ("pixels:1", NOT_UNDERSTOOD.format("pixels:1")),
        ("", NOT_UNDERSTOOD.format("")),
        ("bits:", "The QA rule 'bits:' lists no number after its colon, as in 'bits:0,1,3' or 'classes:4,5,6'."),
        (
            "bits:0,,1",
            "The QA rule 'bits:0,,1' has '' where a whole number is expected; separate whole numbers with commas, "
            "as in 'bits:0,1,3'.",
        ),
        (
            "classes:4,X",
            "The QA rule 'classes:4,X' has 'X' where a whole number is expected; separate whole numbers with "
            "commas, as in 'bits:0,1,3'.",
        ),
        (
            "bits:1.5",
            "The QA rule 'bits:1.5' has '1.5' where a whole number is expected; separate whole numbers with "
            "commas, as in 'bits:0,1,3'.",
        ),
        ("bits:64", "A QA rule cannot reject bit 64: bits run from 0 to 63."),
        ("bits:2,-1", "A QA rule cannot reject bit -1: bits run from 0 to 63."),
    ],
)
def test_parse_rule_refuses_bad_text_with_a_sentence(text, message):
    with pytest.raises(QaRuleError) as caught:
        parse_rule(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reject_bits": (1,), "keep_classes": (4,)}, "A QA rule rejects bits or keeps classes, not both."),
        ({}, "A QA rule needs the bits to reject or the classes to keep; it has neither."),
        ({"keep_classes": (4,), "band": 0}, "QA bands are numbered from 1, so there is no QA band 0."),
    ],
)
def test_a_rule_is_one_kind_on_a_real_band(fields, message):
    with pytest.raises(QaRuleError) as caught:
        QaRule(**fields)
    assert str(caught.value) == message


@pytest.fixture
def image(tmp_path):
    """A 2-band Int16 image of 100 x 80 pixels of 10 m in UTM 33N (x 500000..501000, y 4999200..5000000)."""
    return read_raster(make_raster(tmp_path / "image.tif", A_TRANSFORM, 100, 80, bands=2))


def qa_file(folder, name, transform, width, height, epsg=32633, dtype=gdal.GDT_Byte, bands=1, data=None):
    values = data if data is not None else np.full((height, width), 4, dtype=np.uint8)
    return make_raster(folder / name, transform, width, height, epsg=epsg, dtype=dtype, bands=bands, data=values)


def refusal(rule, raster):
    with pytest.raises(QaRuleError) as caught:
        check_rule(rule, raster)
    return str(caught.value)


def test_check_rule_refuses_a_band_the_raster_lacks(image):
    assert refusal(QaRule(keep_classes=(4,), band=3), image) == "'image.tif' has 2 bands, so no QA band 3."


def test_check_rule_refuses_a_band_the_companion_lacks(image, tmp_path):
    qa = qa_file(tmp_path, "scl.tif", A_TRANSFORM, 100, 80)
    assert refusal(sentinel2_scl(band=2, path=qa), image) == "'scl.tif' has 1 bands, so no QA band 2."


def test_check_rule_refuses_bits_the_band_does_not_have(image, tmp_path):
    qa = qa_file(tmp_path, "scl.tif", A_TRANSFORM, 100, 80)
    assert (
        refusal(QaRule(reject_bits=(3, 8), path=qa), image)
        == "The QA rule rejects bit 8, but band 1 of 'scl.tif' is Byte, with bits 0 to 7."
    )
    check_rule(QaRule(reject_bits=(3, 7), path=qa), image)


def test_check_rule_refuses_bits_of_floating_point_values(tmp_path):
    raster = read_raster(make_raster(tmp_path / "float.tif", A_TRANSFORM, 10, 10, dtype=gdal.GDT_Float32))
    assert refusal(QaRule(reject_bits=(0,)), raster) == (
        "Band 1 of 'float.tif' holds Float32 values, which have no bits to test; give its QA rule as classes to "
        "keep ('classes:')."
    )
    check_rule(QaRule(keep_classes=(4,)), raster)


def test_check_rule_refuses_a_companion_that_does_not_cover_its_input(image, tmp_path):
    # On the lattice, but its east edge 3 pixels short of the image's.
    qa = qa_file(tmp_path, "scl.tif", (499950.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 102, 80)
    assert refusal(sentinel2_scl(path=qa), image) == (
        "The QA raster 'scl.tif' covers [499950, 4999200 : 500970, 5000000] but 'image.tif' covers "
        "[500000, 4999200 : 501000, 5000000] in EPSG:32633; a QA raster must cover all of its input."
    )


@pytest.mark.parametrize(
    ("transform", "epsg", "pixels"),
    [
        # Another CRS, the same numbers.
        (A_TRANSFORM, 32634, "10 x 10 from (500000, 5000000) in EPSG:32634"),
        # Another pixel size, covering the image.
        ((500000.0, 20.0, 0.0, 5000000.0, 0.0, -20.0), 32633, "20 x 20 from (500000, 5000000) in EPSG:32633"),
        # Another pixel phase: half a pixel east.
        ((499995.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 32633, "10 x 10 from (499995, 5000000) in EPSG:32633"),
    ],
)
def test_check_rule_refuses_a_companion_on_another_grid(image, tmp_path, transform, epsg, pixels):
    qa = qa_file(tmp_path, "scl.tif", transform, 101, 81, epsg=epsg)
    assert refusal(sentinel2_scl(path=qa), image) == (
        f"The QA raster 'scl.tif' is not on the grid of 'image.tif': its pixels are {pixels}, those of "
        "'image.tif' 10 x 10 from (500000, 5000000) in EPSG:32633; resample the QA raster onto the grid of its "
        "input first (nearest neighbour)."
    )


def test_check_rule_refuses_a_companion_that_does_not_exist(image, tmp_path):
    missing = str(tmp_path / "missing.tif")
    with pytest.raises(RasterOpenError) as caught:
        check_rule(sentinel2_scl(path=missing), image)
    assert str(caught.value) == f"The raster '{missing}' does not exist."


def test_companion_offset_on_the_lattice_gives_the_matching_block(image, tmp_path):
    # The SCL companion reaches 7 columns west and 5 rows north of the image and past its other edges.
    rng = np.random.default_rng(22)
    scl = rng.integers(0, 13, size=(100, 120)).astype(np.uint8)
    qa = qa_file(tmp_path, "scl.tif", (499930.0, 10.0, 0.0, 5000050.0, 0.0, -10.0), 120, 100, data=scl)
    rule = sentinel2_scl(path=qa)
    check_rule(rule, image)
    keep = {value for value, (_, kept) in SCL_CLASSES.items() if kept}
    expected = np.isin(scl, list(keep))

    # Image pixel (col, row) is companion pixel (col + 7, row + 5).
    np.testing.assert_array_equal(clear_on_window(rule, image, whole(image)), expected[5:85, 7:107])
    np.testing.assert_array_equal(clear_on_window(rule, image, Window(30, 20, 25, 12)), expected[25:37, 37:62])
    # A block reaching 10 columns west of the image: the 3 beyond the companion are not clear.
    reaching = clear_on_window(rule, image, Window(-10, 0, 15, 4))
    assert not reaching[:, :3].any()
    np.testing.assert_array_equal(reaching[:, 3:], expected[5:9, 0:12])


def test_own_band_block_and_outside_the_raster(tmp_path):
    qa = np.array([[0, 8, 16, 64], [1, 2, 32, 128]], dtype=np.uint16)
    data = np.stack([np.ones((2, 4), dtype=np.uint16) * 500, qa])
    raster = read_raster(
        make_raster(tmp_path / "scene.tif", A_TRANSFORM, 4, 2, bands=2, dtype=gdal.GDT_UInt16, data=data)
    )
    rule = landsat_c2_qa_pixel(band=2)
    check_rule(rule, raster)
    np.testing.assert_array_equal(
        clear_on_window(rule, raster, Window(1, 0, 5, 3)),
        [[False, False, True, False, False], [False, False, True, False, False], [False] * 5],
    )


def test_a_qa_pixel_without_a_value_is_not_clear(image, tmp_path):
    # A QA_PIXEL companion whose fill (1) is its nodata: a rule that forgets bit 0 still keeps fill out.
    values = np.full((80, 100), 0x5540, dtype=np.uint16)
    values[10:20, 30:40] = 1
    qa = make_raster(tmp_path / "qa_pixel.tif", A_TRANSFORM, 100, 80, dtype=gdal.GDT_UInt16, nodata=1, data=values)
    rule = QaRule(reject_bits=(3,), path=qa)
    check_rule(rule, image)
    np.testing.assert_array_equal(clear_on_window(rule, image, whole(image)), values != 1)


def test_a_moved_raster_keeps_its_qa_pixels(tmp_path):
    # A shift corrected by 2.5 pixels east moves the image off the companion's lattice; its QA flags go with it.
    path = make_raster(tmp_path / "image.tif", A_TRANSFORM, 20, 10)
    moved = read_raster(Source(path, geotransform=(500025.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)))
    scl = np.tile(np.arange(20, dtype=np.uint8) % 12, (10, 1))
    qa = qa_file(tmp_path, "scl.tif", A_TRANSFORM, 20, 10, data=scl)
    rule = sentinel2_scl(path=qa)
    check_rule(rule, moved)
    np.testing.assert_array_equal(clear_on_window(rule, moved, Window(0, 0, 20, 10)), np.isin(scl, [2, 4, 5, 6, 7]))


def test_a_moved_raster_is_matched_on_the_lattice_of_its_file(tmp_path):
    path = make_raster(tmp_path / "image.tif", A_TRANSFORM, 20, 10)
    moved = read_raster(Source(path, geotransform=(500025.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)))
    # A companion put where the image was moved to is not where the image's own flags lie.
    qa = qa_file(tmp_path, "scl.tif", (500025.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 20, 10)
    assert refusal(sentinel2_scl(path=qa), moved) == (
        "The QA raster 'scl.tif' is not on the grid of 'image.tif': its pixels are 10 x 10 from (500025, 5000000) "
        "in EPSG:32633, those of 'image.tif' 10 x 10 from (500000, 5000000) in EPSG:32633; resample the QA raster "
        "onto the grid of its input first (nearest neighbour)."
    )


def test_an_empty_block_has_no_pixel(image, tmp_path):
    qa = qa_file(tmp_path, "scl.tif", A_TRANSFORM, 100, 80)
    assert clear_on_window(sentinel2_scl(path=qa), image, Window(5, 5, 0, 3)).shape == (3, 0)


def gcp_raster(path, data, epsg=32633):
    """A raster placed by four GCPs (no geotransform), as a Level-1 product without terrain correction is."""
    height, width = data.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), width, height, 1, gdal.GDT_Byte)
    dataset.GetRasterBand(1).WriteArray(data)
    gcps = [
        gdal.GCP(500000.0 + 10.0 * col + 2.0 * row, 5000000.0 - 10.0 * row + 1.0 * col, 0.0, col, row)
        for col, row in ((0, 0), (width, 0), (0, height), (width, height))
    ]

    dataset.SetGCPs(gcps, crs_wkt(epsg))
    dataset = None
    return str(path)


def test_a_raster_placed_by_gcps_takes_a_companion_placed_alike_pixel_for_pixel(tmp_path):
    scl = (np.arange(30 * 40).reshape(30, 40) % 12).astype(np.uint8)
    image = read_raster(gcp_raster(tmp_path / "image.tif", np.ones((30, 40), dtype=np.uint8)))
    assert image.warped
    rule = sentinel2_scl(path=gcp_raster(tmp_path / "scl.tif", scl))
    check_rule(rule, image)
    np.testing.assert_array_equal(
        clear_on_window(rule, image, Window(3, 2, 10, 5)), np.isin(scl, [2, 4, 5, 6, 7])[2:7, 3:13]
    )

    # A companion on a geotransform is not on the pixels of a raster placed by GCPs.
    on_a_grid = qa_file(tmp_path, "grid_scl.tif", A_TRANSFORM, 40, 30)
    with pytest.raises(QaRuleError, match="^The QA raster 'grid_scl.tif' is not on the grid of 'image.tif'"):
        check_rule(sentinel2_scl(path=on_a_grid), image)
