"""Which `ivr serve` runs on this machine, and on which data folder.

`ivr serve` announces itself for as long as it runs (a small file per server in a folder of
the user's own), so a command typed in another folder (`ivr agents add`, `ivr call`) finds the
center that is running instead of making a second, empty one where it stands. Only what a
command needs to find the center is written: the folder, the address and the pid; never a
secret or a database URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Running:
    pid: int
    data_dir: Path
    public_url: str


def folder(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """Where the servers of this user announce themselves: ``IVR_RUNTIME_DIR``, else
    ``$XDG_RUNTIME_DIR/ivr311``, else a folder of this user's under the temporary directory."""
    if env.get("IVR_RUNTIME_DIR"):
        return Path(env["IVR_RUNTIME_DIR"])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "ivr311"
    return Path(tempfile.gettempdir()) / f"ivr311-{os.getuid()}"


def _private(path: Path) -> bool:
    """The folder is this user's alone (another user could otherwise point us elsewhere)."""
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and \
        not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:  # a pid reused by another program is not a server (Linux; elsewhere: alive is enough)
        return b"ivr" in cmdline.read_bytes()
    except OSError:
        return True


@contextlib.contextmanager
def announced(data_dir: Path, public_url: str) -> Iterator[None]:
    """Announce this process as a server of `data_dir` while the block runs. A folder that
    cannot be written only loses the announcement (commands elsewhere then ask for a folder)."""
    where = folder()
    path = where / f"serve-{os.getpid()}.json"
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _private(where):
            path.write_text(json.dumps({"pid": os.getpid(), "public_url": public_url,
                                        "data_dir": str(data_dir.resolve())}))
    except OSError:
        pass
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def servers() -> list[Running]:
    """The servers running now (announcements of dead processes are removed)."""
    where = folder()
    if not _private(where):
        return []
    found = []
    for path in sorted(where.glob("serve-*.json")):
        try:
            data = json.loads(path.read_text())
            entry = Running(int(data["pid"]), Path(data["data_dir"]), str(data["public_url"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(entry.pid):
            found.append(entry)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return found
