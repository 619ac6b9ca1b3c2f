"""The reconciler: live state held against Twilio's truth, and every difference repaired.

Twilio knows which calls are still up, who waits in its queues and which conferences run. After
a fault (a lost status callback, a Redis restart, a host down, a process killed mid-webhook) our
live state can disagree. Every `INTERVAL` seconds, and once at start-up, an RQ job
(`ivr.worker.reconcile_job`) reads Twilio's REST resources, bounded (a few list requests, paged
as Twilio pages, and at most `MAX_FETCH` single-call reads), and:

* a call live here that Twilio says has ended is ended here, through the same code as its lost
  status callback (out of line, its link closed, its call-taker to wrap-up), never offered
  again;
* a caller in one of the center's Twilio queues that none of our queues holds (parked by the
  safe answer or the fallback URL, or lost with Redis) goes back in line with its class,
  priority and original arrival time;
* a call-taker on a call whose caller, own leg or conference is gone goes to wrap-up;
* a call to one of our lines that Twilio had and that never reached us (the only host down)
  gets its record, as failed.

A fresh offer is also checked with Twilio before it is recorded (`ivr.connect.offers`), so a
call whose hang-up was lost is ended at the offer, not offered, even between two passes.

Every repair is a row of ``repairs`` (`ivr.calls.repairs`), shown on the wallboard. Only what
has been unchanged for `GRACE` seconds is touched: a call a moment old may not be listed yet,
and a callback may be on its way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select
from twilio.base.exceptions import TwilioException

from agents.model import State
from callflows.state import CallState
from ivr.calls import calllog, repairs
from ivr.calls.live import LiveCall
from ivr.calls.models import Call, CallEvent
from ivr.connect import offers
from ivr.connect.outcomes import close
from ivr.platform.phones import normalize
from ivr.services import Services
from ivr.telephony.adapter import LIVE_STATUSES, EndedCall, twilio_queue_name
from ivr.telephony.safe import fallback_queue_name
from ivr.voice.queued import out_of_line
from ivr.voice.status import status_callback

log = logging.getLogger("ivr.reconcile")

INTERVAL = 15.0
GRACE = 5.0
MAX_FETCH = 50
SEEN_WINDOW = 300.0  # seconds back the reconciler looks for calls that never reached us
LIST_LIMIT = 5000


@dataclass
class Reconciled:
    """What one pass found and did."""

    twilio_live: int = 0
    ended: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)
    freed: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)

    @property
    def repairs(self) -> int:
        return len(self.ended) + len(self.requeued) + len(self.freed) + len(self.unrecorded)


def reconcile(svc: Services, *, grace: float = GRACE, max_fetch: int = MAX_FETCH) -> Reconciled:
    """One pass (see the module docstring). Safe to run from several processes at once: every
    repair goes through an idempotent path (a status applied once, a link closed once, a
    queue push that keeps a caller's one place)."""
    done = Reconciled()
    client = svc.telephony.client
    now = svc.clock()
    twilio_live = {c.sid for status in LIVE_STATUSES
                   for c in client.calls.list(status=status, page_size=200, limit=LIST_LIMIT)}
    done.twilio_live = len(twilio_live)
    _end_what_twilio_ended(svc, twilio_live, now, grace, max_fetch, done)
    _bring_back_parked_callers(svc, now, grace, done)
    _record_calls_never_seen(svc, now, done)
    _free_call_takers(svc, twilio_live, now, grace, done)
    if done.repairs:
        log.warning("reconciler: %d call(s) ended, %d caller(s) back in line, %d call-taker(s) "
                    "freed, %d call(s) that never reached us recorded", len(done.ended),
                    len(done.requeued), len(done.freed), len(done.unrecorded))
    return done


# -- calls Twilio has ended -------------------------------------------------------------------

def _end_what_twilio_ended(svc: Services, twilio_live: set[str], now: datetime, grace: float,
                           max_fetch: int, done: Reconciled) -> None:
    since, settled = now - timedelta(days=1), now - timedelta(seconds=grace)
    with svc.engine.connect() as conn:
        ours = conn.execute(
            select(Call.sid).where(Call.outcome == "live", Call.ended_at.is_(None),
                                   Call.started_at >= since, Call.started_at <= settled)
            .order_by(Call.started_at).limit(LIST_LIMIT)).scalars().all()
    for sid in [s for s in ours if s not in twilio_live][:max_fetch]:
        ended = svc.telephony.ended(sid)
        if ended is None:
            continue  # up (started since the list was read), or not Twilio's (a test's own)
        if ended.end_time is not None and ended.end_time > settled:
            continue  # ended a moment ago: its own final status callback is on its way
        end_as_twilio_did(svc, ended, "by the reconciler")
        done.ended.append(sid)


def end_as_twilio_did(svc: Services, call: EndedCall, found: str) -> None:
    """End a call Twilio has ended through its lost final status callback's own code, at
    Twilio's end time (out of line, its link closed, its call-taker to wrap-up; a callback that
    comes late after all changes nothing), and record the repair."""
    now = svc.clock()
    ended_at = call.end_time or now
    form = {"CallSid": call.sid, "CallStatus": call.status, "SequenceNumber": "1000000",
            "From": call.from_, "To": call.to, "CallDuration": call.duration}
    live = svc.live.get(call.sid)
    status_callback(replace(svc, clock=lambda at=ended_at: at), form)
    with svc.engine.begin() as conn:
        repairs.record(
            conn, at=now, kind="call-ended", call_sid=call.sid,
            differed=f"live here ({live.phase if live else 'no live state'}), "
                     f"{call.status} at Twilio since {ended_at:%H:%M:%S}; found {found}",
            done="ended with its final status; out of line and off its call-taker",
            data={"twilio_status": call.status})


# -- calls that never reached us -------------------------------------------------------------

def _record_calls_never_seen(svc: Services, now: datetime, done: Reconciled) -> None:
    """A call to one of our lines that Twilio had and ended while none of its requests reached
    us (the only host down: the caller heard Twilio's application error) gets its record, as
    `failed`, so reports count it and the audit sees it as a repair, not as silence. Looks at
    the calls that ended in the last `SEEN_WINDOW` seconds (one bounded, paged list)."""
    numbers = set(svc.lines.numbers())
    recent = [c for c in svc.telephony.client.calls.list(
                  end_time_after=now - timedelta(seconds=SEEN_WINDOW), page_size=200,
                  limit=LIST_LIMIT)
              if str(c.direction or "").startswith("inbound") and str(c.to or "") in numbers
              and c.status not in LIVE_STATUSES]
    if not recent:
        return
    with svc.engine.connect() as conn:
        known = set(conn.execute(select(Call.sid).where(
            Call.sid.in_([c.sid for c in recent]))).scalars())
    region = svc.settings.default_region
    for c in recent:
        if c.sid in known:
            continue
        start = c.start_time if isinstance(c.start_time, datetime) else now
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
        end = c.end_time if isinstance(c.end_time, datetime) else now
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        dialed = normalize(str(c.to), region)
        with svc.engine.begin() as conn:
            calllog.open_call(conn, sid=c.sid, line=svc.lines.for_number(dialed).name,
                              caller=normalize(str(getattr(c, "_from", "") or ""), region),
                              dialed=dialed, at=start)
            calllog.add_event(conn, c.sid, start, "never-reached", str(c.status))
            calllog.apply_status(conn, c.sid, status=str(c.status), sequence=1_000_000, at=end,
                                 duration=int(c.duration) if c.duration else None,
                                 outcome_if_final="failed")
            repairs.record(
                conn, at=now, kind="call-unrecorded", call_sid=c.sid,
                differed=f"{c.status} at Twilio ({start:%H:%M:%S}-{end:%H:%M:%S}); none of "
                         "its requests reached us",
                done="recorded as failed")
        done.unrecorded.append(c.sid)


# -- callers parked in a Twilio queue that none of ours holds ----------------------------------

def _center_queues(svc: Services) -> dict[str, str | None]:
    """Twilio queue name -> our class (None: the safe answer's queue)."""
    names: dict[str, str | None] = {twilio_queue_name(svc.settings, c): c
                                    for c in svc.settings.raw.get("queues") or {}}
    names[fallback_queue_name(svc.settings)] = None
    return names


def _bring_back_parked_callers(svc: Services, now: datetime, grace: float,
                               done: Reconciled) -> None:
    ours = _center_queues(svc)
    client = svc.telephony.client
    for queue in client.queues.list(page_size=100, limit=1000):
        if queue.friendly_name not in ours:
            continue
        for member in client.queues(queue.sid).members.list(page_size=100, limit=LIST_LIMIT):
            sid = str(member.call_sid)
            if _held_by_us(svc, sid, now) or float(member.wait_time or 0) < grace:
                continue
            live = svc.live.get(sid)
            if _requeue(svc, sid, queue.sid, ours[queue.friendly_name], member, live, now):
                done.requeued.append(sid)
    if done.requeued:
        offers.route(svc, now.timestamp())


def _held_by_us(svc: Services, sid: str, now: datetime) -> bool:
    """In one of our queues, offered to a call-taker, or being connected to one."""
    link = svc.links.for_call(sid)
    return (svc.queues.position(sid, now.timestamp()) is not None
            or svc.router.reservations.for_call(sid) is not None
            or (link is not None and not link.closed))


def _requeue(svc: Services, sid: str, queue_sid: str, queue_class: str | None, member: Any,
             live: LiveCall | None, now: datetime) -> bool:
    """Put a caller found in a Twilio queue back in line; False when they turn out to be gone.

    The list of members is true when Twilio answers it, not when this runs: the caller may
    have hung up since, and their own webhooks (Enqueue action, status callback) taken them
    out of our line already. So a call whose end we recorded is left alone, and after the push
    Twilio is asked once more: a caller gone by then is taken out again. No order escapes: the
    end is in Twilio's records before its webhooks are sent, so either that read sees it or
    the webhooks run after the push and take the caller out themselves."""
    with svc.sessions() as session:
        call = session.get(Call, sid)
        enqueued = session.scalars(
            select(CallEvent.data).where(CallEvent.call_sid == sid, CallEvent.kind == "enqueue")
            .order_by(CallEvent.id.desc()).limit(1)).first() or {}
        session.expunge_all()
    if call is not None and call.ended_at is not None:
        return False  # its final status reached us after Twilio listed it
    before = live
    line_name = (call.line if call else None) or (live.line if live else None)
    caller = call.caller if call else ""
    if line_name is None:
        twilio_call = svc.telephony.client.calls(sid).fetch()
        line_name = svc.lines.for_number(str(twilio_call.to or "")).name
        caller = str(getattr(twilio_call, "_from", "") or "")
    queue_class = (queue_class or (call.queue_class if call else None)
                   or _fallback_class(svc, line_name))
    waited = float(member.wait_time or 0)
    arrival = (call.queued_at if call and call.queued_at else None) or \
        (now - timedelta(seconds=waited))
    priority = int(enqueued.get("priority", 5))
    skills = list(enqueued.get("skills") or [f"line:{line_name}"])
    language = live.state.language if live else (call.language if call and call.language
                                                 else "en")
    svc.queues.push(sid, queue_class, priority, skills, arrival.timestamp(),
                    {"line": line_name, "language": language,
                     "topic": str(live.state.vars.get("topic", "")) if live else ""},
                    with_position=False)
    extra = {**(live.extra if live else {}), "queue_class": queue_class,
             "queued_at": arrival.timestamp(), "queue_sid": queue_sid, "adopted": True}
    if live is None:
        line = svc.lines.get(line_name)
        flow, version = svc.flows.live(line.flow if line else line_name)
        live = LiveCall(sid=sid, line=line_name, state=CallState(
            flow=flow.name, version=version, node=None, language=language,
            vars={"caller": caller, "line": line_name}), phase="queued", extra=extra)
    else:
        live = live.evolve(phase="queued", outcome=None, extra=extra)
    svc.live.put(live)
    if svc.telephony.ended(sid) is not None:  # hung up since the list: out of line again,
        out_of_line(svc, sid, now.timestamp())  # and their live state as it was, so that
        if before is None:  # their final status closes the call as it would have
            svc.live.delete(sid)
        else:
            svc.live.put(before)
        return False
    with svc.engine.begin() as conn:
        calllog.open_call(conn, sid=sid, line=line_name, caller=caller, dialed="", at=arrival)
        calllog.mark_queued(conn, sid, queue_class, arrival)
        calllog.add_event(conn, sid, now, "enqueue", queue_class,
                          {"priority": priority, "skills": skills, "by": "reconciler"})
        repairs.record(
            conn, at=now, kind="caller-requeued", call_sid=sid,
            differed=f"in Twilio queue {member.queue_sid or queue_sid} for {waited:.0f} s, "
                     "in none of ours",
            done=f"back in line in {queue_class}, arrived {arrival:%H:%M:%S}",
            data={"queue_class": queue_class, "waited": waited})
    return True


def _fallback_class(svc: Services, line: str) -> str:
    by_line = (svc.settings.raw.get("fallback") or {}).get("queues") or {}
    return str(by_line.get(line) or svc.settings.fallback_queue)


# -- call-takers on a dead call ----------------------------------------------------------------

def _free_call_takers(svc: Services, twilio_live: set[str], now: datetime, grace: float,
                      done: Reconciled) -> None:
    ts = now.timestamp()
    running: set[str] | None = None
    for presence in svc.agents.all():
        if presence.state != State.ON_CALL or ts - presence.since < grace:
            continue
        call_id = presence.call_id or ""
        link = svc.links.for_call(call_id) if call_id else None
        # The floor was read at the start of the pass: a call that ended since, the usual
        # way, left a closed link and its call-taker in wrap-up. That is no repair.
        current = svc.agents.get(presence.agent_id)
        if current is None or current.state != State.ON_CALL or current.call_id != call_id:
            continue
        if link is not None and link.closed and (link.closed_at or 0.0) > ts - grace:
            continue  # closed a moment ago: whoever closed it is freeing the call-taker now
        why = ""
        if link is None or link.closed:
            why = "no open link to a call"
            svc.agents.end_call(presence.agent_id, ts, presence.call_id)
        elif link.transfer:
            continue  # a warm transfer owns the call; its own watchdog ends it
        # A leg missing from the lists is confirmed by its own read before anything is
        # closed: a paged list read while calls end can skip a live one.
        elif link.caller_leg and link.caller_leg not in twilio_live \
                and svc.telephony.ended(link.caller_leg):
            why = "the caller's call has ended"
            close(svc, link.reservation_id, "caller-gone", "caller", ts, "reconciler")
        elif link.agent_leg and link.agent_leg not in twilio_live \
                and svc.telephony.ended(link.agent_leg):
            why = "the call-taker's own leg has ended"
            close(svc, link.reservation_id, "ended" if link.bridged else "agent-failed",
                  "agent", ts, "reconciler")
        elif link.bridged and link.conference_sid:
            if running is None:
                running = {c.sid for c in svc.telephony.client.conferences.list(
                    status="in-progress", page_size=200, limit=LIST_LIMIT)}
            if link.conference_sid not in running and _conference_over(svc, link.conference_sid):
                why = "the call's conference has ended"
                close(svc, link.reservation_id, "ended", "caller", ts, "reconciler")
        if not why:
            continue
        after = svc.agents.get(presence.agent_id)
        with svc.engine.begin() as conn:
            repairs.record(
                conn, at=now, kind="agent-freed", call_sid=call_id or None,
                agent_id=presence.agent_id,
                differed=f"on call {ts - presence.since:.0f} s: {why}",
                done=f"call closed; now {after.state if after else 'unknown'}")
        done.freed.append(presence.agent_id)


def _conference_over(svc: Services, sid: str) -> bool:
    """Twilio says this conference has completed (read on its own: see `_free_call_takers`)."""
    try:
        return str(svc.telephony.client.conferences(sid).fetch().status) == "completed"
    except (TwilioException, requests.RequestException):
        return False  # unknown or unreachable: nothing is closed on a guess


def lease(svc: Services, seconds: float = INTERVAL) -> bool:
    """True for one process per `seconds`: whose turn it is to reconcile (the ticker of every
    worker asks; one enqueues the job)."""
    key = f"ivr:{{{svc.settings.center}}}:reconcile-lease"
    return bool(svc.redis.set(key, "1", nx=True, px=int(seconds * 1000)))
