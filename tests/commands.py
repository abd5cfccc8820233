"""The plugin as users run it, in a subprocess: qgis_process as they type it, and a fresh Python."""

import os
import subprocess
import sys

from conftest import QGIS_PROCESS, ROOT


def qgis_process(env, *args):
    """``qgis_process ARGS...`` in the QGIS profile of ``env`` (a fixture's environment)."""
    return subprocess.run([QGIS_PROCESS, *args], env=env, capture_output=True, text=True, timeout=300)


def clippair(env, **params):
    """`qgis_process --json run overlapclip:clippair -- KEY=VALUE ...`, as a user types it."""
    return qgis_process(env, "--json", "run", "overlapclip:clippair", "--", *(f"{k}={v}" for k, v in params.items()))


def python_output(script: str) -> str:
    """What ``script`` prints, run by a fresh Python with the repository and the tests on its path; the
    script must succeed."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "tests")]))
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout
