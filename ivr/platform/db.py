"""SQL access: one engine per process, sessions per unit of work, schema through Alembic.

SQLite is the embedded default (WAL mode, so web workers read while one writes); PostgreSQL is
the production choice. Nothing here knows about calls: each room keeps its own tables
(`ivr.calls.models`, ...) on `ivr.platform.sql.Base`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for one read of a webhook: on PostgreSQL in autocommit, so a lone SELECT is
    one round trip, not three (BEGIN, SELECT, ROLLBACK). SQLite's driver never opens a
    transaction for a read, so there it is a plain connection."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


class Pending:
    """SQL writes gathered while a webhook runs, applied in one short transaction at its end.

    The webhook first does its Redis work and renders its TwiML; SQLite's single write lock is
    then held only for the writes themselves, not across network round trips. Quacks like the
    part of a `Connection` that the writers here use (`execute`, `dialect`).
    """

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self._ops: list[tuple[Any, Any]] = []

    def execute(self, statement: Any, params: Any = None) -> None:
        if isinstance(params, list) and self._ops:
            last, last_params = self._ops[-1]
            if last is statement and isinstance(last_params, list):
                last_params.extend(params)  # rows of the same INSERT in a row: one executemany
                return
        self._ops.append((statement, params))

    def apply(self, engine: Engine) -> None:
        if not self._ops:
            return
        with engine.begin() as conn:
            for statement, params in self._ops:
                if params is None:
                    conn.execute(statement)
                else:
                    conn.execute(statement, params)
        self._ops.clear()


Writer = Connection | Pending


def _sqlite_folder(url: str) -> None:
    """The folder of an SQLite file, made if missing (a fresh machine has no var/ yet)."""
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _sqlite_folder(url)
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

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
    if url.startswith("sqlite"):
        _sqlite_folder(url)
    command.upgrade(alembic_config(url), revision)


def prepare(url: str, seed: Callable[[Session], None] | None = None) -> None:
    """Schema at head, then `seed` (the data every center starts with) in one transaction.

    Idempotent and safe when several processes start at once (so must `seed` be). The
    composition root names the seed: `ivr.bootstrap.prepare_database`.
    """
    upgrade(url)
    if seed is None:
        return
    engine = make_engine(url)
    try:
        with transaction(session_factory(engine)) as session:
            seed(session)
    finally:
        engine.dispose()
