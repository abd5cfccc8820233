"""Real GDAL rasters for the tests and the demo, built from a grid and a fill rule."""

from __future__ import annotations

import numpy as np
from osgeo import gdal, osr

UTM33 = 32633
#: Raster A of most tests: 100 x 80 pixels of 10 m in UTM 33N, x 500000..501000, y 4999200..5000000.
A_TRANSFORM = (500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0)
#: Every GDAL data type, by name.
ALL_TYPES = [gdal.GetDataTypeName(code) for code in range(1, gdal.GDT_TypeCount)]


def crs_wkt(epsg: int) -> str:
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    return srs.ExportToWkt()


def make_raster(
    path,
    transform,
    width: int,
    height: int,
    epsg: int | None = UTM33,
    bands: int = 1,
    dtype: int = gdal.GDT_Int16,
    nodata: float | None = None,
    data: np.ndarray | None = None,
    driver: str = "GTiff",
    options: tuple[str, ...] = (),
) -> str:
    """Write a raster; by default band ``b`` holds ``row * width + col + 1000 * b`` (distinct values)."""
    path = str(path)
    ds = gdal.GetDriverByName(driver).Create(path, width, height, bands, dtype, list(options))
    ds.SetGeoTransform(transform)
    if epsg is not None:
        ds.SetProjection(crs_wkt(epsg))
    for index in range(bands):
        band = ds.GetRasterBand(index + 1)
        if data is not None:
            values = data[index] if data.ndim == 3 else data
        else:
            values = np.arange(width * height, dtype=np.float64).reshape(height, width) + 1000 * index
        band.WriteArray(values)
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds.FlushCache()
    ds = None
    return path


def read_array(path) -> np.ndarray:
    """All bands of a raster, shape (bands, rows, cols)."""
    ds = gdal.Open(str(path))
    return np.stack([ds.GetRasterBand(i + 1).ReadAsArray() for i in range(ds.RasterCount)])


def grid_of(path) -> tuple[tuple[float, ...], int, int]:
    ds = gdal.Open(str(path))
    return tuple(ds.GetGeoTransform()), ds.RasterXSize, ds.RasterYSize


def warped_onto(source, grid_path, **options) -> gdal.Dataset:
    """Gdalwarp's own result for ``source`` (a path or a dataset) on the grid of the raster at ``grid_path``:
    its CRS, extent and size, in memory; ``options`` go to ``gdal.Warp``."""
    grid = gdal.Open(str(grid_path))
    x0, dx, _, y0, _, dy = grid.GetGeoTransform()
    width, height = grid.RasterXSize, grid.RasterYSize
    return gdal.Warp(
        "",
        source,
        format="MEM",
        outputBounds=(x0, y0 + dy * height, x0 + dx * width, y0),
        width=width,
        height=height,
        dstSRS=grid.GetProjection(),
        **options,
    )


def _terrain(transform, width, height) -> np.ndarray:
    """A smooth landscape over map coordinates, so that overlapping rasters show the same ground."""
    x0, dx, _, y0, _, dy = transform
    x = x0 + (np.arange(width) + 0.5) * dx
    y = y0 + (np.arange(height) + 0.5) * dy
    xx, yy = np.meshgrid((x - 400000.0) / 1000.0, (y - 4997000.0) / 1000.0)
    return 300.0 + 120.0 * np.exp(-((xx - 2.2) ** 2 + (yy - 1.4) ** 2)) + 40.0 * np.sin(1.7 * xx) * np.cos(2.3 * yy)


#: The sample image's grid: 300 x 200 pixels of 10 m.
_IMAGE_TRANSFORM = (399960.0, 10.0, 0.0, 5000040.0, 0.0, -10.0)


def _image(terrain) -> np.ndarray:
    """A 3-band UInt16 image of ``terrain``."""
    return np.stack([terrain * 20.0, (700.0 - terrain) * 12.0, 2000.0 + terrain * 5.0]).astype(np.uint16)


def _image_raster(path, transform, change=None) -> str:
    """A 3-band UInt16 image of the landscape, 300 x 200 pixels on ``transform`` (nodata 0); ``change``
    edits its array in place first."""
    image = _image(_terrain(transform, 300, 200))
    if change is not None:
        change(image)
    return make_raster(path, transform, 300, 200, bands=3, dtype=gdal.GDT_UInt16, nodata=0, data=image)


def sample_pair(folder) -> tuple[str, str]:
    """Two overlapping UTM rasters on different grids, showing one landscape.

    A: a 3-band UInt16 image at 10 m (nodata 0); B: a Float32 elevation model at 20 m, shifted by a
    third of a pixel (nodata -9999).
    """
    a = _image_raster(f"{folder}/sample_a.tif", _IMAGE_TRANSFORM)
    b_transform = (401003.3333, 20.0, 0.0, 4999040.0, 0.0, -20.0)
    b = make_raster(
        f"{folder}/sample_b.tif",
        b_transform,
        150,
        120,
        dtype=gdal.GDT_Float32,
        nodata=-9999.0,
        data=_terrain(b_transform, 150, 120).astype(np.float32),
    )
    return a, b


def sample_dates(folder) -> tuple[str, str]:
    """Two images of one landscape on two dates, for comparison by eye: the same 3 UInt16 bands at 10 m,
    B on a grid 4.3 pixels to the east and 2.3 to the south of A's (another pixel phase), with a bright new
    patch (a change) that widens B's range of values."""

    def bright_patch(image):
        image[:, 60:100, 150:200] = np.array([11000, 9000, 4500], dtype=np.uint16)[:, None, None]

    a = _image_raster(f"{folder}/date_2020.tif", _IMAGE_TRANSFORM)
    b = _image_raster(f"{folder}/date_2024.tif", (400003.0, 10.0, 0.0, 5000017.0, 0.0, -10.0), bright_patch)
    return a, b


def assert_same_grid(path_a, path_b) -> None:
    """Both rasters have one CRS, one geotransform (to the bit) and one size."""
    a, b = gdal.Open(str(path_a)), gdal.Open(str(path_b))
    assert a.GetGeoTransform() == b.GetGeoTransform()
    assert (a.RasterXSize, a.RasterYSize) == (b.RasterXSize, b.RasterYSize)
    srs_a, srs_b = osr.SpatialReference(a.GetProjection()), osr.SpatialReference(b.GetProjection())
    assert srs_a.IsSame(srs_b)


def assert_copied_from(output, source) -> None:
    """Every output pixel equals the source pixel at the same map coordinate, over the whole array.

    The source block is found from the two geotransforms alone: the output's
    origin must lie on the source lattice.
    """
    out, src = gdal.Open(str(output)), gdal.Open(str(source))
    ox0, odx, _, oy0, _, ody = out.GetGeoTransform()
    sx0, sdx, _, sy0, _, sdy = src.GetGeoTransform()
    assert odx == sdx and ody == sdy
    col, row = (ox0 - sx0) / sdx, (oy0 - sy0) / sdy
    assert abs(col - round(col)) < 1e-6 and abs(row - round(row)) < 1e-6
    col, row = round(col), round(row)
    width, height = out.RasterXSize, out.RasterYSize
    assert out.RasterCount == src.RasterCount
    for index in range(1, src.RasterCount + 1):
        expected = src.GetRasterBand(index).ReadAsArray(col, row, width, height)
        actual = out.GetRasterBand(index).ReadAsArray()
        assert actual.dtype == expected.dtype
        np.testing.assert_array_equal(actual, expected)
        assert out.GetRasterBand(index).DataType == src.GetRasterBand(index).DataType
