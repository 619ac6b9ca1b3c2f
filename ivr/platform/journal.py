"""The journal: Twilio's events that arrived while a store was unreachable, kept on local disk
until they can be applied.

Twilio does not retry a status callback, and an action URL requested after a call has ended
cannot be asked again: if Redis or SQL is down when one arrives, it is written here (one JSON
line, fsynced, before the 204 goes back) and the ticker applies it when the stores answer again
(`ivr.voice.outage.replay`). Every process appends to a file of its own under
``<data_dir>/journal``; the replayer claims files by renaming them, so a line is read once.

A writer locks its file while appending and checks, once it holds the lock, that the path still
names the file it opened: a file renamed away (claimed) under it is reopened, so no line lands
in a file already read.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPEN = ".jsonl"
CLAIMED = ".claimed"
SET_ASIDE = "set-aside.jsonl"


@dataclass(frozen=True)
class Entry:
    at: float  # when the event arrived (epoch seconds)
    seq: int  # order within its writer
    path: str  # the webhook it was sent to
    query: str  # the query string it carried
    form: dict[str, str]  # its parameters
    why: str = ""  # what could not be reached

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Entry:
        data = json.loads(line)
        return cls(at=float(data["at"]), seq=int(data["seq"]), path=str(data["path"]),
                   query=str(data.get("query", "")), form=dict(data.get("form") or {}),
                   why=str(data.get("why", "")))


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


class Journal:
    """A folder of append-only JSON-lines files (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._seq = 0

    def _own_file(self) -> Path:
        return self.directory / f"{socket.gethostname()}-{os.getpid()}{OPEN}"

    def append(self, entry_fields: dict[str, Any]) -> Entry:
        """Write one event durably; returns it as written."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        entry = Entry(seq=self._seq, **entry_fields)
        line = (entry.to_json() + "\n").encode()
        path = self._own_file()
        while True:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                with _locked(fd):
                    try:
                        same = os.stat(path).st_ino == os.fstat(fd).st_ino
                    except FileNotFoundError:
                        same = False
                    if not same:
                        continue  # claimed under us: write to a fresh file
                    os.write(fd, line)
                    os.fsync(fd)
                    return entry
            finally:
                os.close(fd)

    def pending(self) -> bool:
        """Anything to apply? (cheap enough to ask every second)"""
        try:
            return any(name.endswith((OPEN, CLAIMED)) and name != SET_ASIDE
                       for name in os.listdir(self.directory))
        except FileNotFoundError:
            return False

    def claim(self) -> list[Path]:
        """Take every open file (and any left claimed by a replayer that died) for replay."""
        claimed: list[Path] = []
        try:
            names = sorted(os.listdir(self.directory))
        except FileNotFoundError:
            return claimed
        for name in names:
            path = self.directory / name
            if name == SET_ASIDE:
                continue
            if name.endswith(CLAIMED):
                claimed.append(path)
            elif name.endswith(OPEN):
                target = path.with_name(f"{path.stem}-{os.getpid()}-{len(claimed)}{CLAIMED}")
                try:
                    os.rename(path, target)
                except FileNotFoundError:
                    continue
                fd = os.open(target, os.O_RDONLY)
                try:
                    with _locked(fd):  # a write in progress ends before we read
                        pass
                finally:
                    os.close(fd)
                claimed.append(target)
        return claimed

    @staticmethod
    def read(paths: list[Path]) -> list[Entry]:
        """The entries of claimed files, in the order they arrived."""
        entries: list[Entry] = []
        for path in paths:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    try:
                        entries.append(Entry.from_json(line))
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn last line of a writer killed mid-write
        return sorted(entries, key=lambda e: (e.at, e.seq))

    def keep(self, entries: list[Entry]) -> None:
        """Put entries back to be applied later (the store went away again mid-replay)."""
        if not entries:
            return
        path = self.directory / f"kept-{os.getpid()}-{entries[0].seq}{OPEN}"
        with open(path, "a", encoding="utf-8") as f:
            for entry in entries:
                f.write(entry.to_json() + "\n")
            f.flush()
            os.fsync(f.fileno())

    def set_aside(self, entry: Entry, why: str) -> None:
        """An entry that cannot be applied: kept for a person to read, never retried."""
        with open(self.directory / SET_ASIDE, "a", encoding="utf-8") as f:
            f.write(json.dumps({**json.loads(entry.to_json()), "failed": why}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    @staticmethod
    def done(paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
