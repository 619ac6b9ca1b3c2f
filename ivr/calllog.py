"""The SQL record of each call: one row per call, one row per step.

Webhooks write here in the same request that answers Twilio, so a report or an audit never depends
on Redis. Status callbacks may come late, twice or out of order; `apply_status` is idempotent and
never reopens a call that has ended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ivr.models import Call, CallEvent

FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def open_call(
    session: Session, *, sid: str, line: str, caller: str, dialed: str, at: datetime,
    flow: str | None = None, flow_version: int | None = None, language: str | None = None,
    direction: str = "inbound",
) -> Call:
    """The call's row, created on first sight (a status callback may arrive before the webhook)."""
    call = session.get(Call, sid)
    if call is None:
        call = Call(sid=sid, line=line, caller=caller, dialed=dialed, started_at=at,
                    direction=direction, twilio_status="in-progress", status_sequence=-1,
                    outcome="live")
        session.add(call)
    call.flow = flow or call.flow
    call.flow_version = flow_version or call.flow_version
    call.language = language or call.language
    if at < call.started_at:
        call.started_at = at
    return call


def add_event(
    session: Session, sid: str, at: datetime, kind: str, detail: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    add_events(session, sid, at, ((kind, detail),), data)


def add_events(
    session: Session, sid: str, at: datetime, events: tuple[tuple[str, str], ...],
    data: dict[str, Any] | None = None,
) -> None:
    """Append events in one INSERT: a webhook's hot path, so no unit-of-work bookkeeping."""
    if not events:
        return
    session.flush()  # the call's row first, if this transaction created it
    session.execute(insert(CallEvent), [
        {"call_sid": sid, "at": at, "kind": kind, "detail": detail[:2000], "data": data}
        for kind, detail in events
    ])


def set_language(session: Session, sid: str, language: str) -> None:
    call = session.get(Call, sid)
    if call is not None:
        call.language = language


def mark_queued(session: Session, sid: str, queue_class: str, at: datetime) -> None:
    call = session.get(Call, sid)
    if call is not None:
        call.queue_class = queue_class
        call.queued_at = call.queued_at or at


def left_queue(session: Session, sid: str, at: datetime, wait: float) -> None:
    """The caller left the queue (answered, abandoned, callback, voicemail): keep the wait."""
    call = session.get(Call, sid)
    if call is not None and call.wait_seconds is None:
        call.wait_seconds = round(wait, 1)


def set_outcome(call: Call, outcome: str, disposition: str | None = None) -> None:
    """Record how the call ended; an outcome once final is only replaced by a later, truer one."""
    call.outcome = outcome
    if disposition:
        call.disposition = disposition


def apply_status(
    session: Session, call: Call, *, status: str, sequence: int, at: datetime,
    duration: int | None, outcome_if_final: str,
) -> bool:
    """Apply one status callback. Returns True when it ended the call.

    A callback older than the newest seen (by SequenceNumber) only adds its event; a final status
    closes the call once, whatever arrives after it.
    """
    add_event(session, call.sid, at, "status", status, {"sequence": sequence})
    ended_before = call.ended_at is not None
    if sequence > call.status_sequence and not ended_before:
        call.status_sequence = sequence
        call.twilio_status = status
    if status in FINAL_STATUSES and not ended_before:
        call.twilio_status = status
        call.ended_at = at
        call.duration = duration
        if call.outcome == "live":
            call.outcome = outcome_if_final
        return True
    return False

