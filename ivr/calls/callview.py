"""What a call-taker sees of a call, and what they write on it.

An offer or a call on the console is the queue's entry (line, language, topic, arrival) joined
with the SQL record of the call (the caller's number, the menu path they took, the notes) and
the caller's earlier calls. Notes and the wrap-up disposition are appended to the call's SQL
events (kinds ``note`` and ``disposition``), like every other step of a call, so reports and
audits read them where they read the rest.

Redis presence forgets the call when it ends (wrap-up has no call id), yet notes and the
disposition are written after that: `LastCalls` keeps, per call-taker, the call they accepted
last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from redis import Redis
from sqlalchemy import Connection, and_, select

from agents.model import Reservation
from ivr.calls import calllog
from ivr.calls.models import Call, CallEvent

calls = Call.__table__
events = CallEvent.__table__

EARLIER_CALLS = 10
MAX_NOTE = 2000
DEFAULT_DISPOSITIONS = {
    "resolved": "Resolved",
    "service-request-created": "Service request created",
    "information-given": "Information given",
    "transferred": "Transferred",
    "callback-promised": "Callback promised",
    "wrong-number": "Wrong number",
    "caller-disconnected": "Caller disconnected",
}


class LastCalls:
    """Per call-taker, the call they accepted last (notes and wrap-up act on it)."""

    def __init__(self, redis: Redis, center: str) -> None:
        self.redis = redis
        self.key = f"web:{{{center}}}:last-call"

    def set(self, agent_id: str, call_id: str) -> None:
        self.redis.hset(self.key, agent_id, call_id)

    def get(self, agent_id: str) -> str | None:
        value = self.redis.hget(self.key, agent_id)
        if isinstance(value, bytes):
            return value.decode()
        return value  # type: ignore[return-value]


def _call_row(conn: Connection, sid: str) -> Any:
    return conn.execute(select(calls).where(calls.c.sid == sid)).first()


def _enqueue_event(conn: Connection, sid: str) -> Mapping[str, Any]:
    query = (select(events.c.data).where(events.c.call_sid == sid, events.c.kind == "enqueue")
             .order_by(events.c.id.desc()).limit(1))
    row = conn.execute(query).first()
    return (row.data or {}) if row is not None else {}


def queueing_recorded(conn: Connection, sid: str) -> bool:
    """Whether the call's ``enqueue`` event (menu path, flow variables) is visible yet."""
    query = select(events.c.id).where(events.c.call_sid == sid, events.c.kind == "enqueue")
    return conn.execute(query.limit(1)).first() is not None


def _notes_and_disposition(conn: Connection, sids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per call: its notes (oldest first) and its latest disposition."""
    out: dict[str, dict[str, Any]] = {}
    wanted = list(sids)
    if not wanted:
        return out
    query = (select(events.c.call_sid, events.c.at, events.c.kind, events.c.detail,
                    events.c.data)
             .where(events.c.call_sid.in_(wanted), events.c.kind.in_(("note", "disposition")))
             .order_by(events.c.id))
    for row in conn.execute(query):
        mine = out.setdefault(row.call_sid, {"notes": [], "disposition": None})
        by = (row.data or {}).get("by")
        if row.kind == "note":
            mine["notes"].append({"at": row.at.isoformat(), "by": by, "text": row.detail})
        else:
            mine["disposition"] = {"code": (row.data or {}).get("code", row.detail),
                                   "by": by, "at": row.at.isoformat()}
    return out


def earlier_calls(conn: Connection, caller: str, before: str,
                  limit: int = EARLIER_CALLS) -> list[dict[str, Any]]:
    """The caller's last `limit` calls other than `before`, newest first, with their outcome,
    disposition and notes. None for withheld or unusable numbers (``anonymous``)."""
    if not caller.startswith("+"):
        return []
    query = (select(calls.c.sid, calls.c.started_at, calls.c.line, calls.c.outcome,
                    calls.c.duration, calls.c.language, calls.c.wait_seconds)
             .where(and_(calls.c.caller == caller, calls.c.sid != before))
             .order_by(calls.c.started_at.desc()).limit(limit))
    rows = conn.execute(query).all()
    extra = _notes_and_disposition(conn, (r.sid for r in rows))
    out = []
    for r in rows:
        more = extra.get(r.sid, {"notes": [], "disposition": None})
        out.append({
            "call": r.sid, "started_at": r.started_at.isoformat(), "line": r.line,
            "outcome": r.outcome, "duration": r.duration, "language": r.language,
            "wait_seconds": r.wait_seconds, "disposition": (more["disposition"] or {}).get("code"),
            "notes": [n["text"] for n in more["notes"]],
        })
    return out


def describe_call(conn: Connection, sid: str, data: Mapping[str, str] | None = None,
                  with_history: bool = True) -> dict[str, Any]:
    """The call `sid` as a call-taker sees it. `data` is the queue entry's own data (line,
    language, topic), which wins over SQL for what the caller chose in the flow."""
    row = _call_row(conn, sid)
    queued = _enqueue_event(conn, sid)
    flow_vars = queued.get("vars") or {}
    data = data or {}
    caller = row.caller if row is not None else ""
    extra = _notes_and_disposition(conn, [sid]).get(sid, {"notes": [], "disposition": None})
    return {
        "call": sid,
        "caller": caller,
        "line": data.get("line") or (row.line if row is not None else None),
        "language": data.get("language") or (row.language if row is not None else None) or "en",
        "topic": data.get("topic") or flow_vars.get("topic") or None,
        "menu_path": list(queued.get("path") or []),
        # None for a call queued before choices were kept in words (its menu_path stands)
        "menu_choices": queued.get("choices"),
        "queue_class": row.queue_class if row is not None else None,
        "started_at": row.started_at.isoformat() if row is not None else None,
        "wait_seconds": row.wait_seconds if row is not None else None,
        "notes": extra["notes"],
        "disposition": extra["disposition"],
        "earlier_calls": earlier_calls(conn, caller, sid) if with_history else [],
    }


def describe_offer(conn: Connection, reservation: Reservation, now: float) -> dict[str, Any]:
    """An open offer: the call as above plus its countdown and how long the caller waited."""
    entry = reservation.entry
    view = describe_call(conn, entry.call_id, entry.data)
    view.update({
        "reservation": reservation.reservation_id,
        "queue_class": entry.queue_class,
        "callback": entry.callback,
        "arrival": entry.arrival,
        "waited_seconds": round(entry.wait(now), 1),
        "offered_at": reservation.offered_at,
        "expires_at": reservation.expires_at,
        "seconds_left": round(max(0.0, reservation.expires_at - now), 1),
    })
    return view


def add_note(conn: Connection, sid: str, at: datetime, by: str, text: str) -> dict[str, Any]:
    body = text.strip()[:MAX_NOTE]
    calllog.add_event(conn, sid, at, "note", body, {"by": by})
    return {"at": at.isoformat(), "by": by, "text": body}


def set_disposition(conn: Connection, sid: str, at: datetime, by: str, code: str,
                    note: str = "") -> dict[str, Any]:
    """Record the wrap-up code (the latest one counts, should a call-taker correct it)."""
    calllog.add_event(conn, sid, at, "disposition", code, {"by": by, "code": code})
    if note.strip():
        add_note(conn, sid, at, by, note)
    return {"code": code, "by": by, "at": at.isoformat()}


def call_exists(conn: Connection, sid: str) -> bool:
    return calllog.exists(conn, sid)
