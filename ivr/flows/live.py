"""The flows calls run, read from SQL: every web process sees a publish at its next call.

A new call asks SQL for its line's live version number (one indexed row by primary lookup, no
cache to invalidate, so no process can run a stale version after a publish). The parsed flow of a
published version is kept in the process once loaded: versions never change, so that cache needs
no invalidation either. A call in progress asks for its own (name, version) and gets it, even
after a publish or rollback, in any process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from callflows.model import Flow
from callflows.parse import load_flow
from ivr.flows.records import FlowRecord, FlowVersion
from ivr.flows.store import FlowNotFound, FlowStore
from ivr.flows.versions import FlowVersions, filename_of
from ivr.platform.clock import Clock
from ivr.platform.db import reading

# Built once: every new call runs this lookup, and building a select cost more than running it.
_LIVE_VERSION = select(FlowRecord.live_version).where(
    FlowRecord.center == bindparam("center"), FlowRecord.name == bindparam("name"))


class SqlFlowStore(FlowStore):
    """`FlowStore` over the SQL versions of one center (see the module docstring).

    `prepare` runs once, before the first lookup (it imports the shipped flows on a new center).
    """

    def __init__(self, engine: Engine, center: str, prepare: Callable[[], object]) -> None:
        super().__init__()
        self._engine = engine
        self._center = center
        self._prepare = prepare
        self._ready = False
        self._lock = threading.Lock()

    def _ensure_ready(self) -> None:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self._prepare()
                    self._ready = True

    def live(self, name: str) -> tuple[Flow, int]:
        self._ensure_ready()
        with reading(self._engine) as conn:
            version = conn.scalar(_LIVE_VERSION, {"center": self._center, "name": name})
        if version is None:
            raise FlowNotFound(f"flow {name!r} has no live version")
        return self.get(name, version), version

    def get(self, name: str, version: int) -> Flow:
        flow = self._versions.get((name, version))
        if flow is not None:
            return flow
        self._ensure_ready()
        with self._engine.connect() as conn:
            text = conn.scalar(select(FlowVersion.text).where(
                FlowVersion.center == self._center, FlowVersion.name == name,
                FlowVersion.version == version))
        if text is None:
            raise FlowNotFound(f"flow {name!r} version {version} does not exist")
        flow = load_flow(text, filename_of(name))
        self.add(flow, version, live=False)
        return flow

    def names(self) -> list[str]:
        self._ensure_ready()
        with self._engine.connect() as conn:
            return list(conn.scalars(select(FlowRecord.name).where(
                FlowRecord.center == self._center, FlowRecord.live_version.is_not(None),
            ).order_by(FlowRecord.name)))


def sql_flows(engine: Engine, sessions: sessionmaker[Session], center: str,
              clock: Clock) -> SqlFlowStore:
    """The store a process runs calls on; the shipped flows are imported on first use."""
    versions = FlowVersions(sessions, center, clock)
    return SqlFlowStore(engine, center, versions.ensure_shipped)
