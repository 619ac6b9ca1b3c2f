"""Twilio's status callbacks of a caller's own call (``/voice/status``): the call's record is
closed once, whatever order and however often they come, and a call that ended while queued or
connected is taken out of line or off its link."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.calls import calllog
from ivr.calls.live import LiveCall
from ivr.connect.bridging import caller_ended
from ivr.platform.db import Pending
from ivr.platform.phones import normalize
from ivr.services import Services
from ivr.voice.queued import caller_gone


def status_callback(svc: Services, form: Mapping[str, str]) -> None:
    """Close the call's record from Twilio's status callback (idempotent, any order)."""
    sid = form.get("CallSid", "")
    status = form.get("CallStatus", "")
    if not sid or not status:
        return
    try:
        sequence = int(form.get("SequenceNumber", "0") or 0)
    except ValueError:
        sequence = 0
    token = f"status:{sid}:{sequence}:{status}"
    if not svc.live.first_time(token):
        return
    try:
        _apply(svc, form, sid, status, sequence)
    except Exception:
        svc.live.forget(token)
        raise


def _apply(svc: Services, form: Mapping[str, str], sid: str, status: str, sequence: int) -> None:
    try:
        duration = int(form["CallDuration"]) if form.get("CallDuration") else None
    except ValueError:
        duration = None
    live = svc.live.get(sid)
    now = svc.clock()
    region = svc.settings.default_region
    with svc.engine.begin() as conn:
        dialed = normalize(form.get("To", ""), region)
        line = live.line if live else svc.lines.for_number(dialed).name
        calllog.open_call(conn, sid=sid, line=line, caller=normalize(form.get("From", ""), region),
                          dialed=dialed, at=now)
        ended = calllog.apply_status(
            conn, sid, status=status, sequence=sequence, at=now, duration=duration,
            outcome_if_final=final_outcome(live, status))
    if ended and live is not None:
        if live.phase == "queued":
            pending = Pending(svc.engine)  # Redis first, then one short write
            caller_gone(svc, pending, live)
            pending.apply(svc.engine)
        elif live.phase in ("connecting", "connected"):
            caller_ended(svc, sid, now.timestamp())
        svc.live.put(live.evolve(phase="ended"), ttl=3600)


def final_outcome(live: LiveCall | None, status: str) -> str:
    """How a call ended, from where it stood when Twilio said it was over."""
    if status in ("busy", "failed", "no-answer"):
        return "failed"
    if live is None or live.phase in ("flow", "queued", "transfer"):
        return live.outcome if live and live.outcome == "voicemail" else "abandoned"
    return live.outcome or "self-service"
