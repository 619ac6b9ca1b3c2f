"""A center of its own for a trial call at a pretended time (`ivr call --at`).

A call made "next Sunday at 11:00" must not land in the real center: its records would be
dated next month in the history, and while it waits the wallboard would count a caller who is
not there. So a trial call on a virtual clock runs in a sandbox: a temporary folder with its own
SQLite file and its own embedded Redis, holding a copy of what shapes a call (each flow's live
version and the lines' storm or closure messages) and none of the center's records. The folder
and its Redis are gone when the call ends.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ivr.bootstrap import prepare_database
from ivr.flows.announcements import Announcement, Announcements
from ivr.flows.records import LineAnnouncement
from ivr.flows.versions import FlowVersions
from ivr.platform.clock import system_clock
from ivr.platform.config import Settings
from ivr.platform.db import make_engine, session_factory, transaction
from ivr.platform.redisconn import stop_embedded


@dataclasses.dataclass(frozen=True)
class Shape:
    """What of a center shapes a new call: the live text of each flow, the lines' messages."""

    flows: dict[str, str]  # "<name>.yaml" -> YAML of the live version
    announcements: list[Announcement]


def _sqlite_missing(url: str) -> bool:
    if not url.startswith("sqlite"):
        return False
    path = url.split("///", 1)[-1]
    return path not in ("", ":memory:") and not Path(path).is_file()


def _read_shape(engine: Engine, center: str) -> Shape:
    versions = FlowVersions(session_factory(engine), center, system_clock)
    flows = {}
    for name in versions.names():
        if versions.draft(name).live_version is not None:
            flows[f"{name}.yaml"] = versions.text_of(name, "live")[1]
    board = Announcements(engine, versions.sessions, center, system_clock)
    return Shape(flows, list(board.current().values()))


def shape_of(settings: Settings) -> Shape:
    """The center's shape, read without changing anything (a center with no database yet, or
    no schema, has the shipped flows and no message: an empty shape)."""
    if _sqlite_missing(settings.database_url):
        return Shape({}, [])
    engine = make_engine(settings.database_url)
    try:
        return _read_shape(engine, settings.center)
    except SQLAlchemyError:
        return Shape({}, [])
    finally:
        engine.dispose()


def _fill(settings: Settings, shape: Shape) -> None:
    engine = make_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        # The center's live versions come in as each flow's version 1 (the shipped flows are
        # added by the app for any flow the center does not have).
        FlowVersions(sessions, settings.center, system_clock,
                     shipped=lambda: shape.flows).ensure_shipped()
        with transaction(sessions) as session:
            for a in shape.announcements:
                session.add(LineAnnouncement(center=settings.center, line=a.line, text=a.text,
                                             set_at=a.set_at, set_by=a.set_by))
    finally:
        engine.dispose()


@contextmanager
def sandbox(settings: Settings) -> Iterator[Settings]:
    """Settings for a center of its own, shaped like `settings`' center, removed at the end."""
    shape = shape_of(settings)
    folder = Path(tempfile.mkdtemp(prefix="ivr-trial-"))
    trial = dataclasses.replace(settings, data_dir=folder, redis_url="embedded",
                                database_url=f"sqlite:///{folder / 'ivr.db'}")
    try:
        prepare_database(trial.database_url)
        _fill(trial, shape)
        yield trial
    finally:
        stop_embedded(folder)
        shutil.rmtree(folder, ignore_errors=True)
