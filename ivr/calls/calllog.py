"""The SQL record of each call: one row per call, one row per step.

Webhooks write here in the same request that answers Twilio, so a report or an audit never depends
on Redis. This is the hot path of every webhook, so it is plain Core SQL on a connection (no ORM
unit of work). Status callbacks may come late, twice or out of order; `apply_status` is idempotent
and never reopens a call that has ended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ivr.calls.models import Call, CallEvent
from ivr.platform.db import Writer

FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}

calls = Call.__table__
call_events = CallEvent.__table__


def _upsert(dialect: Any) -> Any:
    stmt = dialect.insert(calls)
    return stmt.on_conflict_do_update(index_elements=["sid"], set_={
        name: func.coalesce(getattr(stmt.excluded, name), calls.c[name])
        for name in ("flow", "flow_version", "language")
    })


# Every statement of the hot path is built once, with bound parameters: building one per call
# (an upsert's `excluded` alias copies the whole table) cost more than running it.
_OPEN_CALL = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}
_ADD_EVENTS = insert(call_events)
_SID = bindparam("b_sid")  # not "sid": that name is the SET clause's own for the column
_SET_FIELDS = update(calls).where(calls.c.sid == _SID)
_MARK_QUEUED = update(calls).where(calls.c.sid == _SID, calls.c.queued_at.is_(None))
_LEFT_QUEUE = update(calls).where(calls.c.sid == _SID, calls.c.wait_seconds.is_(None))
_EXISTS = select(calls.c.sid).where(calls.c.sid == _SID)
_STATUS_ROW = select(calls.c.ended_at, calls.c.status_sequence, calls.c.outcome) \
    .where(calls.c.sid == _SID)
_STATUS_ROW_LOCKED = _STATUS_ROW.with_for_update()




def open_call(
    conn: Writer, *, sid: str, line: str, caller: str, dialed: str, at: datetime,
    flow: str | None = None, flow_version: int | None = None, language: str | None = None,
    direction: str = "inbound",
) -> None:
    """The call's row, created on first sight (a status callback may arrive before the webhook,
    and the webhook then fills in the flow). One statement, no read: an upsert."""
    row = {"sid": sid, "line": line, "caller": caller, "dialed": dialed, "started_at": at,
           "direction": direction, "twilio_status": "in-progress", "status_sequence": -1,
           "outcome": "live", "flow": flow, "flow_version": flow_version, "language": language}
    conn.execute(_OPEN_CALL["postgresql" if conn.dialect.name == "postgresql" else "sqlite"], row)


def add_event(
    conn: Writer, sid: str, at: datetime, kind: str, detail: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    add_events(conn, sid, at, ((kind, detail),), data)


def add_events(
    conn: Writer, sid: str, at: datetime, events: tuple[tuple[str, str], ...],
    data: dict[str, Any] | None = None,
) -> None:
    """Append events in one INSERT."""
    if events:
        conn.execute(_ADD_EVENTS, [
            {"call_sid": sid, "at": at, "kind": kind, "detail": detail[:2000], "data": data}
            for kind, detail in events
        ])


def set_fields(conn: Writer, sid: str, **values: Any) -> None:
    conn.execute(_SET_FIELDS, {"b_sid": sid, **values})


def set_language(conn: Writer, sid: str, language: str) -> None:
    set_fields(conn, sid, language=language)


def mark_queued(conn: Writer, sid: str, queue_class: str, at: datetime) -> None:
    conn.execute(_MARK_QUEUED, {"b_sid": sid, "queue_class": queue_class, "queued_at": at})


def left_queue(conn: Writer, sid: str, at: datetime, wait: float) -> None:
    """The caller left the queue (answered, abandoned, callback, voicemail): keep the wait."""
    conn.execute(_LEFT_QUEUE, {"b_sid": sid, "wait_seconds": round(wait, 1)})


def exists(conn: Connection, sid: str) -> bool:
    return conn.execute(_EXISTS, {"b_sid": sid}).first() is not None


def apply_status(
    conn: Connection, sid: str, *, status: str, sequence: int, at: datetime,
    duration: int | None, outcome_if_final: str,
) -> bool:
    """Apply one status callback to an existing call row. Returns True when it ended the call.

    A callback older than the newest seen (by SequenceNumber) only adds its event; a final status
    closes the call once, whatever arrives after it. The row is locked while this runs, so two
    callbacks handled at once by two processes cannot both close it.
    """
    add_event(conn, sid, at, "status", status, {"sequence": sequence})
    query = _STATUS_ROW_LOCKED if conn.dialect.name == "postgresql" else _STATUS_ROW
    row = conn.execute(query, {"b_sid": sid}).one()
    if row.ended_at is not None:
        return False
    changes: dict[str, Any] = {}
    if sequence > row.status_sequence:
        changes.update(status_sequence=sequence, twilio_status=status)
    ended = status in FINAL_STATUSES
    if ended:
        changes.update(twilio_status=status, ended_at=at, duration=duration)
        if row.outcome == "live":
            changes["outcome"] = outcome_if_final
    if changes:
        set_fields(conn, sid, **changes)
    return ended
