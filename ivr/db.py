"""SQL access: one engine per process, sessions per unit of work, schema through Alembic.

SQLite is the embedded default (WAL mode, so web workers read while one writes); PostgreSQL is
the production choice. Nothing here knows about calls: see `ivr/models.py`.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # not POSIX: threads of one process are still serialized
    fcntl = None  # type: ignore[assignment]


class WriteLock:
    """Serializes the webhooks' write transactions on one SQLite file, across threads and processes.

    SQLite has one write lock, and a writer that finds it taken sleeps in growing steps (up to
    100 ms) before trying again, however soon the lock is freed: under load that made the slow
    tail of every webhook. Waiting here instead (a mutex, then `flock` on a file beside the
    database) wakes the next writer as soon as the last one commits. Other writers still get
    SQLite's own locking, so this only ever shortens waits.
    """

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None or fcntl is None:
            return None
        if self._pid != os.getpid():  # a forked worker opens its own (flock is per open file)
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def close(self) -> None:
        """Let the file go (with the engine's pool); the next `held` opens it again."""
        with self._mutex:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd, self._pid = None, 0

    def __del__(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._mutex:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


_write_locks: weakref.WeakKeyDictionary[Engine, WriteLock] = weakref.WeakKeyDictionary()


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A short write transaction; on SQLite it holds the engine's `WriteLock` from its first
    statement to its commit (the connection is taken from the pool before, not while, waiting)."""
    lock = _write_locks.get(engine)
    if lock is None:
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn, lock.held(), conn.begin():
        yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for one read of a webhook: on PostgreSQL in autocommit, so a lone SELECT is
    one round trip, not three (BEGIN, SELECT, ROLLBACK). SQLite's driver never opens a
    transaction for a read, so there it is a plain connection."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        on_disk = bool(path) and path != ":memory:"
        if on_disk:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})
        lock = _write_locks[engine] = WriteLock(f"{path}.writelock" if on_disk else None)
        event.listen(engine, "engine_disposed", lambda _engine: lock.close())

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("ivr") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (``ivr db upgrade``)."""
    command.upgrade(alembic_config(url), revision)


def prepare(url: str) -> None:
    """Schema at head, then the data every center starts with (the service catalogue).

    Idempotent and safe when several processes start at once.
    """
    from ivr.service_types import sync_catalogue

    upgrade(url)
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            sync_catalogue(session)
    finally:
        engine.dispose()
