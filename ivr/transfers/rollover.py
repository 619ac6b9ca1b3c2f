"""Rollover: a waiting caller of a line is put through to an alternate PSAP (one of the
``dispatch_centers``) when this floor cannot answer in time.

A line names the center and when to roll (``lines.<name>.rollover``): nobody on duty with the
call's skills (signed in and not on break) after ``no_staff_after`` seconds of waiting, any
wait past ``max_wait``, or every call-taker with the skills busy after ``all_busy_after``.

The check runs in the floor's one-second tick (`sweep`, through `ivr.services.CallHooks`), not
in the hold loop: a hold loop turns only when its music ends, a tick comes every second. Each
roll is claimed once (`LiveCalls.first_time`, per attempt) and the caller is taken out of our
line before anything is dialed, so two ticks, two workers or a replayed callback never dial
twice. Then, as a cold transfer does: the transfer row (mode ``rollover``, origin the reason),
the call's event and the EIDO hand-off (outbox) in one transaction; the caller is moved by REST
out of Twilio's queue to `dial_twiml` (a `<Dial>` of the center); its action (`result`) ends the
call if the center answered, or puts the caller back in line at the front of their class if it
was busy, unanswered or failed, never to silence. A failed rollover is tried again after
``retry_after`` seconds back in line, at most ``attempts`` times per call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from agents import TelephonyError
from agents.model import State
from ivr.calls import calllog, callview
from ivr.calls.live import LiveCall
from ivr.connect import offers
from ivr.platform import outbox, outbox_jobs
from ivr.services import Services
from ivr.telephony.adapter import twilio_queue_name
from ivr.telephony.safe import safe_twiml
from ivr.transfers import eido, locations, records
from ivr.transfers.centers import Rollover as Rule
from ivr.transfers.events import HANDOFF, at_, config, hook_url, set_outcome
from ivr.transfers.twiml import dial_center, say
from queues import Entry

log = logging.getLogger("ivr.rollover")

ON_DUTY = frozenset({State.AVAILABLE, State.RESERVED, State.ON_CALL, State.WRAP_UP})


# -- the tick ----------------------------------------------------------------------------------

def sweep(svc: Services, now: float) -> list[str]:
    """Roll over every waiting call that is due (see `Rule.reason`). Returns the transfer ids
    begun. Safe to run from several processes at once."""
    by_line = config(svc).rollover
    if not by_line:
        return []
    due = svc.queues.due_overflow(now, limit=50,
                                  waited=min(r.earliest for r in by_line.values()))
    presences = None
    begun = []
    for entry in due:
        rule = by_line.get(str(entry.data.get("line", "")))
        if rule is None or entry.callback:
            continue
        if presences is None:
            presences = [p for p in svc.agents.all() if p.state in ON_DUTY]
        able = [p for p in presences if entry.skills <= p.skills]
        reason = rule.reason(entry.wait(now), len(able),
                             sum(1 for p in able if p.state is State.AVAILABLE))
        if reason is None:
            continue
        tid = begin(svc, entry, rule, reason, now)
        if tid is not None:
            begun.append(tid)
    return begun


def begin(svc: Services, entry: Entry, rule: Rule, reason: str, now: float) -> str | None:
    """Roll `entry`'s caller over to the rule's center (once per attempt); the transfer id,
    or None when it is not (yet) theirs to roll: retried too often or too recently, offered
    to a call-taker meanwhile, gone, or another process rolled it."""
    sid = entry.call_id
    live = svc.live.get(sid)
    if live is None or live.phase != "queued":
        return None
    done = int(live.extra.get("rollovers", 0))
    back_at = live.extra.get("rollover_back_at")
    if done >= rule.attempts or (back_at is not None and now - float(back_at) < rule.retry_after):
        return None
    center = config(svc).center(rule.center)
    if center is None:
        log.error("line %s rolls over to %r, which is not a dispatch center", rule.line,
                  rule.center)
        return None
    if not svc.live.first_time(f"rollover:{sid}:{done}"):
        return None
    if svc.router.reservations.for_call(sid) is not None:
        return None  # offered to a call-taker since it was listed: theirs
    gone = svc.router.reservations.caller_gone(sid, now)  # out of line, atomically
    if gone.status == "unknown":
        return None  # answered or gone meanwhile
    if gone.status == "offered" and gone.reservation is not None:
        offers.cancelled(svc, gone.reservation, now)  # offered in the last instant: freed
    tid = records.new_id()
    at = at_(now)
    try:
        with svc.engine.begin() as conn:
            message = _record(svc, conn, tid, live, center, reason, entry.wait(now), at)
    except Exception:  # nothing dialed: back in line at the front, the attempt not spent
        svc.queues.push_front(sid, entry.queue_class, entry.priority, entry.skills, now,
                              entry.data)
        svc.live.forget(f"rollover:{sid}:{done}")
        raise
    svc.live.put(live.evolve(phase="transfer", extra={
        **live.extra, "transfer": tid, "rollovers": done + 1,
        "rollover_entry": {"class": entry.queue_class, "priority": entry.priority,
                           "skills": sorted(entry.skills), "data": dict(entry.data)}}))
    if message is not None:
        outbox_jobs.kick(svc.settings, message)
    try:
        moved = svc.telephony.redirect(sid, hook_url(svc, "rollover", t=tid))
    except TelephonyError as exc:
        log.warning("rollover of %s: the phone network refused the redirect (%s)", sid, exc)
        _back_in_line(svc, tid, f"network: {exc}"[:64], now)
        return tid
    if not moved:  # the caller hung up meanwhile; their status callback closes the call
        with svc.engine.begin() as conn:
            if records.advance(conn, tid, ("dialing",), "abandoned", at,
                               "the caller was gone before the dial"):
                calllog.add_event(conn, sid, at, "abandoned-during-transfer", center.name,
                                  {"transfer": tid})
    log.info("call %s rolls over to %s (%s)", sid, center.name, reason)
    return tid


def _record(svc: Services, conn: Any, tid: str, live: LiveCall, center: Any, reason: str,
            waited: float, at: datetime) -> int | None:
    """The transfer row, the call's event and the EIDO hand-off, in `conn`'s transaction.
    Returns the outbox message to kick (None when the center pulls its hand-offs)."""
    cfg = config(svc)
    sid = live.sid
    view = callview.describe_call(conn, sid, with_history=False)
    records.create(conn, id=tid, call_sid=sid, mode="rollover", origin=reason,
                   center=center.name, destination="primary", dialed=center.number,
                   agent=None, reservation=None, incident=eido.incident_id(sid, cfg.agency),
                   at=at)
    calllog.add_event(conn, sid, at, "rollover", f"{reason} to {center.name}",
                      {"transfer": tid, "reason": reason, "center": center.name,
                       "waited": round(waited, 1)})
    calllog.left_queue(conn, sid, at, waited)
    started = datetime.fromisoformat(view["started_at"]) if view["started_at"] else at
    notes = [(datetime.fromisoformat(n["at"]), n["by"] or "call-taker", n["text"])
             for n in view["notes"]]
    doc = eido.build(eido.Handoff(
        transfer_id=tid, mode="rollover", origin=reason, call_sid=sid,
        line=str(view["line"] or live.line), caller=str(view["caller"] or ""),
        started_at=started, answered_at=None, at=at, our_agency=cfg.agency,
        dispatch_agency=center.agency, dispatch_label=center.label, notes=notes,
        location=locations.of_call(conn, sid), civic_defaults=cfg.civic,
        topic=view["topic"], menu_path=view["menu_path"],
        language=live.state.language or view["language"] or "en"))
    outbox.add(conn, kind=HANDOFF, destination=center.handoff_url,
               secret_name=center.secret_env, payload=doc, idempotency_key=f"transfer-{tid}",
               at=at, subject=tid)
    message = outbox.by_key(conn, f"transfer-{tid}") if center.handoff_url else None
    return message.id if message else None


# -- the caller's TwiML ------------------------------------------------------------------------

def _language(live: LiveCall | None) -> str:
    return live.state.language if live is not None else "en"


def dial_twiml(svc: Services, tid: str) -> str:
    """Where the redirect brings the caller: a word, then the `<Dial>` of the center."""
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    if t is None:
        return str(safe_twiml(svc.settings))
    live = svc.live.get(t.call_sid)
    if t.state != "dialing":  # a replayed request after the dial ended: keep the caller
        return _enqueue(svc, live, "requeued") if live and live.phase == "queued" else \
            str(safe_twiml(svc.settings))
    response = VoiceResponse()
    say(response, _language(live), "rollover")
    dial_center(response, t.dialed, hook_url(svc, "rollover-done", t=tid),
                config(svc).ring_seconds, answered_url=hook_url(svc, "rollover-leg", t=tid))
    return str(response)


def result(svc: Services, tid: str, form: Mapping[str, str], now: float) -> str:
    """The `<Dial>` ended: the other PSAP answered (the call is theirs; hang up when they are
    done), the caller hung up, or busy / no answer / failed: back in line at the front."""
    status = form.get("DialCallStatus", "")
    hung_up = form.get("CallStatus") in ("completed", "busy", "failed", "no-answer", "canceled")
    response = VoiceResponse()
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    if t is None:
        response.hangup()
        return str(response)
    live = svc.live.get(t.call_sid)
    at = at_(now)
    if status in ("completed", "answered"):
        try:
            talked = float(form.get("DialCallDuration") or 0)
        except ValueError:
            talked = 0.0
        answered(svc, tid, at - timedelta(seconds=max(0.0, talked)))
        response.hangup()
        return str(response)
    if hung_up:
        with svc.engine.begin() as conn:
            if records.advance(conn, tid, ("dialing",), "abandoned", at,
                               "the caller hung up during the rollover"):
                calllog.add_event(conn, t.call_sid, at, "abandoned-during-transfer",
                                  t.center, {"transfer": tid})
        if live is not None:
            svc.live.put(live.evolve(outcome="abandoned"))
        response.hangup()
        return str(response)
    _back_in_line(svc, tid, status or "failed", now)
    return _enqueue(svc, svc.live.get(t.call_sid), "requeued")


def leg_status(svc: Services, tid: str, form: Mapping[str, str], now: float) -> None:
    """The other PSAP's leg reports ``in-progress``: it answered now."""
    if form.get("CallStatus") == "in-progress":
        answered(svc, tid, at_(now))


def answered(svc: Services, tid: str, at: datetime) -> None:
    """The other PSAP answered at `at`: the call is theirs (recorded once, whichever of the
    leg's status callback and the Dial's action comes first)."""
    with svc.engine.begin() as conn:
        t = records.get(conn, tid)
        if t is None or not records.advance(conn, tid, ("dialing",), "connected", at,
                                            f"{t.center} answered", answered_at=at):
            return
        calllog.add_event(conn, t.call_sid, at, "rollover-answered", t.center,
                          {"transfer": tid,
                           "answer": round((at - t.started_at).total_seconds(), 1)})
        set_outcome(conn, t.call_sid, "transferred")
    live = svc.live.get(t.call_sid)
    if live is not None:
        svc.live.put(live.evolve(phase="done", outcome="transferred"))


def _back_in_line(svc: Services, tid: str, why: str, now: float) -> None:
    """The rollover failed: the caller is back in line at the front of their class (once:
    only the move to ``failed`` does it)."""
    with svc.engine.begin() as conn:
        t = records.get(conn, tid)
        won = t is not None and records.advance(conn, tid, ("dialing",), "failed", at_(now),
                                                why)
        if won and t is not None:
            calllog.add_event(conn, t.call_sid, at_(now), "rollover-failed", why,
                              {"transfer": tid, "center": t.center})
    if not won or t is None:
        return
    live = svc.live.get(t.call_sid)
    if live is None:
        return
    spec = live.extra.get("rollover_entry") or {}
    queue_class = str(spec.get("class") or live.extra.get("queue_class") or "")
    pushed = svc.queues.push_front(t.call_sid, queue_class, int(spec.get("priority", 1)),
                                   list(spec.get("skills") or ()), now,
                                   {k: str(v) for k, v in (spec.get("data") or {}).items()})
    with svc.engine.begin() as conn:
        if pushed.status == "queued":
            calllog.add_event(conn, t.call_sid, at_(now), "requeued",
                              "front of the line after a failed rollover",
                              {"transfer": tid, "class": queue_class})
    svc.live.put(live.evolve(phase="queued", outcome=None, extra={
        **live.extra, "rollover_back_at": now}))
    offers.route(svc, now)


def _enqueue(svc: Services, live: LiveCall | None, key: str) -> str:
    if live is None:
        return str(safe_twiml(svc.settings))
    response = VoiceResponse()
    say(response, _language(live), key)
    base = svc.settings.public_url
    response.enqueue(twilio_queue_name(svc.settings, str(live.extra.get("queue_class", ""))),
                     wait_url=f"{base}/voice/queue/wait", wait_url_method="POST",
                     action=f"{base}/voice/queue/result", method="POST")
    return str(response)
