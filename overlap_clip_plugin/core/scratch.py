"""The hidden files and folders a run keeps beside its outputs, and the ones a killed run left there.

A run writes nothing under an output's name until it commits. Each output is written in a hidden
staging folder beside it; the local copies of remote inputs and the format probe live in such folders
too; a file the commit replaces waits under a hidden name until every new file is in place. A run that
ends, fails or is cancelled removes them. A run killed outright (SIGKILL, a power cut) cannot, so
each name carries its owner: ``.overlapclip-<kind>-<random>~<pid>@<host>``. The next run that writes
into the folder (:func:`remove_stale`) removes those whose process is gone, on this host, or that are
older than a day, wherever they come from; a replaced file whose output path is empty is put back
instead (the commit was cut short before the new file took its place).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
import uuid

#: The start of every hidden name a run uses beside its outputs.
PREFIX = ".overlapclip-"

#: Seconds after which a hidden entry whose owner cannot be asked (another host, an older version) is stale.
STALE_AFTER = 24 * 3600.0

_REPLACED = PREFIX + "replaced-"


def _owner() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


def scratch_folder(beside: str, kind: str) -> str:
    """A new hidden folder of this process, for ``kind`` of work, in the folder of the path ``beside``."""
    folder = os.path.dirname(os.path.abspath(beside))
    return tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-", suffix=f"~{_owner()}", dir=folder)


def aside_name(path: str) -> str:
    """The hidden name beside ``path`` under which the file there waits while a commit replaces it."""
    folder, name = os.path.split(path)
    return os.path.join(folder, f"{_REPLACED}{uuid.uuid4().hex[:12]}-{name}~{_owner()}")


def _is_stale(path: str, name: str) -> bool:
    pid, _, host = name.rpartition("~")[2].partition("@") if "~" in name else ("", "", "")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return False
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except OSError:
            pass  # Alive, and another user's.
        return False
    try:
        return time.time() - os.lstat(path).st_mtime > STALE_AFTER
    except OSError:
        return False


def remove_stale(folder: str) -> list[str]:
    """Remove the hidden entries in ``folder`` that runs no longer alive left there; put back a replaced
    file whose output path is empty. Returns the names removed or put back. Entries it cannot remove
    (another user's) stay, as do replaced files of an older version, whose output name is unknown."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    done = []
    for name in names:
        path = os.path.join(folder, name)
        if not name.startswith(PREFIX) or not _is_stale(path, name):
            continue
        with contextlib.suppress(OSError):
            if name.startswith(_REPLACED):
                original = name[len(_REPLACED) + 13 :].rpartition("~")[0]
                if not original or "~" not in name:
                    continue
                target = os.path.join(folder, original)
                if os.path.lexists(target):
                    os.remove(path)
                else:
                    os.replace(path, target)
            elif os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            done.append(name)
    return done
