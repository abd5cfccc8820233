"""Stacks of rasters: the core with N inputs, and overlapclip:clipstack."""

import numpy as np
import processing
import pytest
from files import listing
from osgeo import osr
from qgis.core import QgsProcessingException, QgsProject
from rasters import A_TRANSFORM, UTM33, assert_copied_from, assert_same_grid, grid_of, make_raster, read_array

from overlap_clip_plugin.core import NoOverlapError, clip, output_names
from overlap_clip_plugin.processing.compat import SOURCE_RASTER


def mixed_stack(folder):
    """Six rasters of mixed CRS, resolution and extent over one place; which of them lie on A's lattice."""
    specs = [
        ("a.tif", A_TRANSFORM, 100, 80, UTM33, True),
        ("b.tif", (500100.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), 100, 80, UTM33, True),
        ("c.tif", (500040.0, 20.0, 0.0, 4999960.0, 0.0, -20.0), 45, 35, UTM33, False),
        ("d.tif", (500013.3, 10.0, 0.0, 4999986.7, 0.0, -10.0), 95, 75, UTM33, False),
        ("e.tif", (1669900.0, 15.0, 0.0, 5645650.0, 0.0, -15.0), 80, 70, 3857, False),
        ("f.tif", (15.0005, 0.0001, 0.0, 45.1530, 0.0, -0.0001), 120, 60, 4326, False),
    ]
    paths = [make_raster(folder / name, t, w, h, epsg=epsg, nodata=-1) for name, t, w, h, epsg, _ in specs]
    footprints = [(t, w, h, epsg) for _, t, w, h, epsg, _ in specs]
    return paths, footprints, [copied for *_, copied in specs]


def centres_inside_all(transform, width, height, footprints):
    """For every pixel centre of a UTM grid, whether it is inside every footprint."""
    x0, dx, _, y0, _, dy = transform
    cols, rows = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    points = np.column_stack([(x0 + cols * dx).ravel(), (y0 + rows * dy).ravel()])
    inside = np.ones(len(points), dtype=bool)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(UTM33)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    for (fx0, fdx, _, fy0, _, fdy), fw, fh, epsg in footprints:
        target = osr.SpatialReference()
        target.ImportFromEPSG(epsg)
        target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        moved = np.array(osr.CoordinateTransformation(utm, target).TransformPoints(points.tolist()))
        x, y = moved[:, 0], moved[:, 1]
        inside &= (x >= fx0) & (x <= fx0 + fw * fdx) & (y <= fy0) & (y >= fy0 + fh * fdy)
    return inside.reshape(height, width)


def test_mixed_stack_shares_one_grid_covering_exactly_the_common_area(tmp_path):
    paths, footprints, on_lattice = mixed_stack(tmp_path)
    outputs = [str(tmp_path / name) for name in output_names(paths)]
    plan = clip(paths, outputs, grid=0)

    for output in outputs[1:]:
        assert_same_grid(outputs[0], output)
    assert [o.copied for o in plan.outputs] == on_lattice
    for path, output, copied in zip(paths, outputs, on_lattice):
        if copied:
            assert_copied_from(output, path)

    # The output grid, grown by one pixel on each side: its edge rows and columns hold pixel centres
    # inside every footprint, and the ring just outside holds none.
    (x0, dx, _, y0, _, dy), width, height = grid_of(outputs[0])
    grown = (x0 - dx, dx, 0.0, y0 - dy, 0.0, dy)
    inside = centres_inside_all(grown, width + 2, height + 2, footprints)
    core = inside[1:-1, 1:-1]
    assert core[0].any() and core[-1].any() and core[:, 0].any() and core[:, -1].any()
    assert not (inside[0].any() or inside[-1].any() or inside[:, 0].any() or inside[:, -1].any())


def test_mixed_stack_on_own_grids_copies_every_raster(tmp_path):
    paths, _, _ = mixed_stack(tmp_path)
    outputs = [str(tmp_path / name) for name in output_names(paths)]
    plan = clip(paths, outputs, grid="own")
    assert all(o.copied for o in plan.outputs)
    for path, output in zip(paths, outputs):
        assert_copied_from(output, path)


def test_four_tiles_meeting_in_one_pixel_give_a_one_pixel_area(tmp_path):
    # Four 10 x 10 tiles, each shifted by 9 pixels: they share exactly the pixel at column 9, row 9 of the first.
    tiles = [
        make_raster(
            tmp_path / f"t{i}.tif", (500000.0 + 90.0 * dc, 10.0, 0.0, 5000000.0 - 90.0 * dr, 0.0, -10.0), 10, 10
        )
        for i, (dc, dr) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)])
    ]
    outputs = [str(tmp_path / f"out{i}.tif") for i in range(4)]
    clip(tiles, outputs)
    for output, tile, (col, row) in zip(outputs, tiles, [(9, 9), (0, 9), (9, 0), (0, 0)]):
        assert grid_of(output) == ((500090.0, 10.0, 0.0, 4999910.0, 0.0, -10.0), 1, 1)
        assert read_array(output)[0, 0, 0] == read_array(tile)[0, row, col]


def test_no_common_area_names_the_input_that_empties_it(tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (500500.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 100, 80)
    c = make_raster(tmp_path / "c.tif", A_TRANSFORM, 40, 80)
    with pytest.raises(NoOverlapError) as raised:
        clip([a, b, c], [str(tmp_path / f"{n}_out.tif") for n in "abc"])
    message = str(raised.value)
    assert message.startswith("The rasters have no common area: 'c.tif' (covering [500000, 4999200 : 500400, 5000000]")
    assert (
        "does not overlap the area [500500, 4999200 : 501000, 5000000] in EPSG:32633 common to 'a.tif', 'b.tif'"
        in message
    )
    assert listing(tmp_path) == ["a.tif", "b.tif", "c.tif"]


def test_output_names_never_collide():
    names = output_names(["/x/scene.tif", "/y/scene.tif", "/z/SCENE.jp2", "/w/other.img"])
    assert names == ["scene_common.tif", "scene_common_2.tif", "SCENE_common_3.tif", "other_common.tif"]


@pytest.fixture
def same_named_stack(tmp_path):
    for folder in ("2020", "2024", "dem"):
        (tmp_path / folder).mkdir()
    return [
        make_raster(tmp_path / "2020" / "scene.tif", A_TRANSFORM, 100, 80),
        make_raster(tmp_path / "2024" / "scene.tif", (500100.0, 10.0, 0.0, 4999900.0, 0.0, -10.0), 100, 80),
        make_raster(tmp_path / "dem" / "dem.tif", (500033.3, 20.0, 0.0, 4999966.7, 0.0, -20.0), 50, 40),
    ]


def test_clipstack_through_processing_run(provider, same_named_stack, tmp_path):
    out = tmp_path / "out"
    result = processing.run(
        "overlapclip:clipstack", {"INPUTS": same_named_stack, "REFERENCE": 2, "OUTPUT_FOLDER": str(out)}
    )
    expected = [str(out / "scene_common.tif"), str(out / "scene_common_2.tif"), str(out / "dem_common.tif")]
    assert result["OUTPUT_LAYERS"] == expected
    assert result["OUTPUT_FOLDER"] == str(out)
    for path in expected[1:]:
        assert_same_grid(expected[0], path)
    # The reference is the second input: its lattice, and it and the first are copied.
    assert_copied_from(expected[1], same_named_stack[1])
    assert_copied_from(expected[0], same_named_stack[0])
    assert grid_of(expected[0])[0][0] == 500100.0


def test_clipstack_loads_every_output_with_its_name(provider, same_named_stack, tmp_path, layer_tree):
    project = QgsProject.instance()
    project.removeAllMapLayers()
    processing.runAndLoadResults(
        "overlapclip:clipstack", {"INPUTS": same_named_stack, "OUTPUT_FOLDER": str(tmp_path / "out")}
    )
    # Two inputs named "scene" give two layers told apart by their place in the list.
    names = sorted(layer.name() for layer in project.mapLayers().values())
    assert names == ["dem (3, common area)", "scene (1, common area)", "scene (2, common area)"]
    project.removeAllMapLayers()


def test_clipstack_refuses_a_reference_outside_the_list(provider, same_named_stack, tmp_path):
    with pytest.raises(QgsProcessingException, match="reference raster is number 4, but there are 3 inputs"):
        processing.run(
            "overlapclip:clipstack",
            {"INPUTS": same_named_stack, "REFERENCE": 4, "OUTPUT_FOLDER": str(tmp_path / "out")},
        )
    assert not (tmp_path / "out").exists()


def test_clipstack_error_leaves_no_folder_behind(provider, tmp_path):
    a = make_raster(tmp_path / "a.tif", A_TRANSFORM, 100, 80)
    b = make_raster(tmp_path / "b.tif", (600000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0), 10, 10)
    with pytest.raises(QgsProcessingException, match="do not overlap"):
        processing.run("overlapclip:clipstack", {"INPUTS": [a, b], "OUTPUT_FOLDER": str(tmp_path / "out")})
    assert not (tmp_path / "out").exists()


def test_clipstack_as_a_step_of_a_model(provider, same_named_stack, tmp_path):
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterMultipleLayers,
    )

    model = QgsProcessingModelAlgorithm("stack model", "tests")
    model.addModelParameter(
        QgsProcessingParameterMultipleLayers("scenes", "scenes", SOURCE_RASTER), QgsProcessingModelParameter("scenes")
    )
    child = QgsProcessingModelChildAlgorithm("overlapclip:clipstack")
    child.setChildId("stack")
    child.addParameterSources("INPUTS", [QgsProcessingModelChildParameterSource.fromModelParameter("scenes")])
    output = QgsProcessingModelOutput("folder")
    output.setChildId("stack")
    output.setChildOutputName("OUTPUT_FOLDER")
    child.setModelOutputs({"folder": output})
    model.addChildAlgorithm(child)
    result = processing.run(model, {"scenes": same_named_stack, "stack:folder": str(tmp_path / "model")})
    assert result["stack:folder"] == str(tmp_path / "model")
    assert listing(tmp_path / "model") == ["dem_common.tif", "scene_common.tif", "scene_common_2.tif"]
    assert_copied_from(tmp_path / "model" / "scene_common.tif", same_named_stack[0])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("missing.tif", r"The raster '.*missing\.tif' does not exist\."),
        ("notes.tif", r"GDAL cannot open '.*notes\.tif' as a raster"),
    ],
)
def test_clipstack_bad_input_leaves_earlier_results_untouched(provider, same_named_stack, tmp_path, bad, message):
    (tmp_path / "notes.tif").write_text("not a raster")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scene_common.tif").write_bytes(b"an earlier result")
    with pytest.raises(QgsProcessingException, match=message):
        processing.run(
            "overlapclip:clipstack",
            {"INPUTS": [*same_named_stack, str(tmp_path / bad)], "OUTPUT_FOLDER": str(out)},
        )
    assert listing(out) == ["scene_common.tif"]
    assert (out / "scene_common.tif").read_bytes() == b"an earlier result"


def test_stack_names_keep_a_subdatasets_name_and_drop_a_urls_query():
    assert output_names(
        [
            'NETCDF:"/data/era5.nc":t2m',
            'NETCDF:"/data/era5.nc":tp',
            'HDF5:"/data/s.h5"://group/sub/ndvi',
            'HDF4_EOS:EOS_GRID:"/data/m.hdf":MODIS_Grid:sur_refl_b01',
            "/vsicurl/https://bucket.s3.amazonaws.com/x/scene.tif?X-Amz-Signature=abc&X-Amz-Date=1",
            "https://host/q/s2.tif?sig=1",
            "/data/a.tif",
            "/other/a.tif",
        ]
    ) == [
        "era5_t2m_common.tif",
        "era5_tp_common.tif",
        "s_ndvi_common.tif",
        "m_sur_refl_b01_common.tif",
        "scene_common.tif",
        "s2_common.tif",
        "a_common.tif",
        "a_common_2.tif",
    ]
