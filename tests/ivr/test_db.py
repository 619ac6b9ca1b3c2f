"""The SQLite write lock: one writer at a time across processes, and `writing` is a transaction."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from ivr.db import WriteLock, _write_locks, make_engine, reading, writing

CHILD = """
import sys, time
from ivr.db import WriteLock
with WriteLock(sys.argv[1]).held():
    print(time.time(), flush=True)
"""


def test_another_process_waits_for_the_lock_until_it_is_released(tmp_path: Path) -> None:
    path = str(tmp_path / "db.writelock")
    lock = WriteLock(path)
    with lock.held():
        child = subprocess.Popen([sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE,
                                 text=True, cwd=Path(__file__).resolve().parents[2])
        time.sleep(1.0)
        assert child.poll() is None  # still waiting
        released = time.time()
    out, _ = child.communicate(timeout=30)
    assert child.returncode == 0
    assert float(out) >= released


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    lock = WriteLock(str(tmp_path / "db.writelock"))
    inside: list[int] = []
    overlaps: list[int] = []

    def work() -> None:
        for _ in range(50):
            with lock.held():
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                time.sleep(0.0005)
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not overlaps


def test_writing_commits_or_rolls_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with writing(engine) as conn:
            conn.execute(text("CREATE TABLE t (n INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(RuntimeError), writing(engine) as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
            raise RuntimeError("boom")
        with engine.connect() as conn:
            assert conn.scalars(text("SELECT n FROM t")).all() == [1]
        assert (tmp_path / "x.db.writelock").exists()
    finally:
        engine.dispose()


def test_dispose_lets_the_lock_file_go_and_it_opens_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with writing(engine) as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    lock = _write_locks[engine]
    assert lock._fd is not None
    engine.dispose()
    assert lock._fd is None
    with writing(engine) as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert lock._fd is not None
    engine.dispose()


def test_reading_is_autocommit_on_postgresql_and_leaves_the_pool_as_it_was(services) -> None:  # type: ignore[no-untyped-def]
    engine = services.engine
    postgres = engine.dialect.name == "postgresql"
    with reading(engine) as conn:
        assert conn.scalar(text("SELECT 1")) == 1
        if postgres:
            assert conn.connection.dbapi_connection.autocommit is True
    with engine.connect() as conn:  # the next user of the pooled connection gets a transaction
        conn.scalar(text("SELECT 1"))
        if postgres:
            assert conn.connection.dbapi_connection.autocommit is False
