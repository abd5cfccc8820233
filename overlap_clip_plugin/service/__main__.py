"""``python -m overlap_clip_plugin.service``: start the service (see :mod:`overlap_clip_plugin.service.app`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from overlap_clip_plugin.service.app import MAX_BYTES, Settings, configure, create_app, recover, start_expiry
from overlap_clip_plugin.service.inputs import MAX_VALUES
from overlap_clip_plugin.service.processes import STOPPING, wait_for_jobs

#: Seconds a stop waits for the jobs it cancels (podman and docker kill after 10).
STOP_WAIT = 8.0


def _arguments(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m overlap_clip_plugin.service",
        description="Serve Overlap Clip's processes (OGC API - Processes, on pygeoapi) and its page.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--folder", default="build/service", help="where uploads, jobs and results are kept (default: %(default)s)"
    )
    parser.add_argument("--public-url", default="", help="the service's URL as clients reach it (default: from host)")
    parser.add_argument(
        "--max-upload", type=int, default=MAX_BYTES, help="bytes an upload may hold (default: %(default)s, 1 GiB)"
    )
    parser.add_argument(
        "--max-values",
        type=int,
        default=MAX_VALUES,
        help="values (width x height x bands) an input may hold (default: %(default)s)",
    )
    parser.add_argument("--max-jobs", type=int, default=2, help="jobs run at once; the rest queue (default: 2)")
    parser.add_argument(
        "--keep", type=float, default=24.0, help="hours a job and an upload are kept (default: %(default)s)"
    )
    parser.add_argument(
        "--sync-upload",
        type=int,
        default=64 << 20,
        help="inputs up to this many bytes in all run at once without a preference; larger ones as a job",
    )
    parser.add_argument(
        "--allow-url",
        action="append",
        default=[],
        metavar="PREFIX",
        help="read http(s) inputs whose URL starts with PREFIX (repeat it; default: no URL is read)",
    )
    parser.add_argument(
        "--allow-private", action="store_true", help="let URLs reach loopback and private addresses too"
    )
    options = parser.parse_args(argv)
    return Settings(
        folder=os.path.abspath(options.folder),
        host=options.host,
        port=options.port,
        public_url=options.public_url,
        max_bytes=options.max_upload,
        max_jobs=options.max_jobs,
        keep=options.keep * 3600.0,
        sync_bytes=options.sync_upload,
        allow_urls=tuple(options.allow_url),
        allow_private=options.allow_private,
        max_values=options.max_values,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Start the service with the options of ``argv`` and serve until interrupted."""
    # SIGTERM (podman stop, systemd, kill) stops the service as Ctrl-C does, from its first moment.
    signal.signal(signal.SIGTERM, _interrupt)
    settings = _arguments(argv)
    configure(settings)
    app = create_app(settings)
    cut = recover(settings)
    if cut:
        print(f"Overlap Clip service: {cut} job(s) cut off by the last stop failed, their files removed.")
    start_expiry(settings)
    print(
        f"Overlap Clip service: {settings.root}/api (processes), uploads and results in {settings.folder}", flush=True
    )
    try:
        app.run(host=settings.host, port=settings.port, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        # No new job; the running ones cancel and fail with a sentence, within podman's and docker's 10 s.
        STOPPING.set()
        if not wait_for_jobs(STOP_WAIT):
            print(
                f"Overlap Clip service: jobs still running after {STOP_WAIT:.0f} s; stopping without them.", flush=True
            )
            os._exit(1)
        recover(settings)
    return 0


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
