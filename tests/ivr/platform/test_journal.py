"""The journal keeps every event once: writers in several processes append while a replayer
claims files, and each line is read exactly once; a torn last line is skipped."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from ivr.platform.journal import Journal


def _write(directory: str, writer: int, count: int) -> None:
    journal = Journal(Path(directory))
    for n in range(count):
        journal.append({"at": float(n), "path": "/voice/status", "query": "",
                        "form": {"CallSid": f"CA{writer}-{n}"}})


def test_writers_and_a_claimer_at_once_lose_no_line_and_read_none_twice(tmp_path: Path) -> None:
    writers = [multiprocessing.get_context("fork").Process(
        target=_write, args=(str(tmp_path), w, 400)) for w in range(3)]
    for p in writers:
        p.start()
    journal = Journal(tmp_path)
    seen: list[str] = []
    while any(p.is_alive() for p in writers) or journal.pending():
        paths = journal.claim()
        seen += [e.form["CallSid"] for e in journal.read(paths)]
        journal.done(paths)
    for p in writers:
        p.join()
        assert p.exitcode == 0
    expected = {f"CA{w}-{n}" for w in range(3) for n in range(400)}
    assert len(seen) == len(expected) and set(seen) == expected


def test_a_torn_last_line_is_skipped_and_the_rest_read_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    for at in (3.0, 1.0, 2.0):
        journal.append({"at": at, "path": "/voice/status", "query": "", "form": {}})
    with open(next(tmp_path.glob("*.jsonl")), "a") as f:
        f.write('{"at": 4.0, "path": "/voice/st')  # a writer killed mid-line
    entries = journal.read(journal.claim())
    assert [e.at for e in entries] == [1.0, 2.0, 3.0]


def test_files_a_dead_replayer_had_claimed_are_claimed_again(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append({"at": 1.0, "path": "/voice/status", "query": "", "form": {}})
    first = journal.claim()  # ... and the replayer dies before `done`
    assert journal.pending()
    again = journal.claim()
    assert again == first and len(journal.read(again)) == 1
    journal.done(again)
    assert not journal.pending() and os.listdir(tmp_path) == []
