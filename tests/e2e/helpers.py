"""Reading what happened to an emulated call: its SQL record and its place in the queue; and
waiting, with a deadline, for what a test expects to happen."""

from __future__ import annotations

import time
from collections.abc import Callable

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


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll `condition` until it is truthy (returned) or `timeout` seconds passed (fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)
