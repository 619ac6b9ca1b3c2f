"""Reading what happened to an emulated call: its SQL record and its place in the queue."""

from __future__ import annotations

from sqlalchemy import select

from ivr.calls.models import Call, CallEvent


def record(center, sid: str) -> Call:  # type: ignore[no-untyped-def]
    with center.services.sessions() as session:
        call = session.get(Call, sid)
        assert call is not None, f"no SQL record for {sid}"
        return call


def events(center, sid: str, *kinds: str) -> list[tuple[str, str, dict | None]]:  # type: ignore[no-untyped-def]
    with center.services.sessions() as session:
        rows = session.scalars(select(CallEvent).where(CallEvent.call_sid == sid)
                               .order_by(CallEvent.id))
        return [(e.kind, e.detail, e.data) for e in rows if not kinds or e.kind in kinds]


def enqueued(center, sid: str) -> tuple[str, set[str]] | None:  # type: ignore[no-untyped-def]
    """The (queue class, skills) the call was put in line with, or None."""
    found = events(center, sid, "enqueue")
    if not found:
        return None
    _kind, detail, data = found[-1]
    return detail, set((data or {}).get("skills", []))


def all_final(center) -> list[Call]:  # type: ignore[no-untyped-def]
    """Every call the center recorded; the caller asserts none is left without a final state."""
    with center.services.sessions() as session:
        return list(session.scalars(select(Call)))
