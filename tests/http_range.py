"""A local HTTP server with Range support on 127.0.0.1, counting the bytes it serves: object storage as
GDAL's /vsicurl/ sees it, for the remote-input tests and the benchmark."""

import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from osgeo import gdal


class RangeServer:
    """Serves the files of ``folder`` (GET with one byte range, HEAD) until closed; ``served`` counts the
    bytes of file content sent, ``requests`` the GETs."""

    def __init__(self, folder):
        self.folder = str(folder)
        self.served = 0
        self.requests = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _file(self):
                path = os.path.join(server.folder, self.path.lstrip("/").split("?")[0])
                return path if os.path.isfile(path) else None

            def do_HEAD(self):  # noqa: N802
                path = self._file()
                if path is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(os.path.getsize(path)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

            def do_GET(self):  # noqa: N802
                path = self._file()
                if path is None:
                    self.send_error(404)
                    return
                size = os.path.getsize(path)
                match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                start, end = (int(match.group(1)), int(match.group(2) or size - 1)) if match else (0, size - 1)
                end = min(end, size - 1)
                with open(path, "rb") as handle:
                    handle.seek(start)
                    data = handle.read(end - start + 1)
                self.send_response(206 if match else 200)
                if match:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(data)
                with server._lock:
                    server.served += len(data)
                    server.requests += 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def reset(self):
        with self._lock:
            self.served = 0
            self.requests = 0

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def tile_bytes(path, window):
    """The bytes of the tiles of the GeoTIFF ``path`` that ``window`` (pixels of it) touches."""
    dataset = gdal.Open(str(path))  # kept: a band outlives no dataset
    band = dataset.GetRasterBand(1)
    width, height = band.GetBlockSize()
    total = 0
    for row in range(window.row_off // height, (window.row_off + window.height - 1) // height + 1):
        for col in range(window.col_off // width, (window.col_off + window.width - 1) // width + 1):
            total += int(band.GetMetadataItem(f"BLOCK_SIZE_{col}_{row}", "TIFF"))
    return total


def window_under(path, grid):
    """The pixels of ``path`` under ``grid`` (in the same CRS), one pixel wider each way, inside ``path``."""
    from overlap_clip_plugin.core import Window

    dataset = gdal.Open(str(path))
    x0, dx, _, y0, _, dy = dataset.GetGeoTransform()
    bounds = grid.bounds
    col, row = max(0, int((bounds.xmin - x0) // dx) - 1), max(0, int((bounds.ymax - y0) // dy) - 1)
    right = min(dataset.RasterXSize, int(-(-(bounds.xmax - x0) // dx)) + 1)
    bottom = min(dataset.RasterYSize, int(-(-(bounds.ymin - y0) // dy)) + 1)
    return Window(col, row, right - col, bottom - row)


def overlap_bytes(inputs, plan):
    """The bytes of the tiles of ``inputs`` that ``plan``'s outputs need: a copied output's window, or the
    pixels under a resampled output's grid."""
    return sum(
        tile_bytes(path, output.window if output.copied else window_under(path, output.grid))
        for path, output in zip(inputs, plan.outputs)
    )
