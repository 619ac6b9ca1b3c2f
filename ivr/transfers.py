"""Transfers of a live call to a dispatch center: warm, cold, from the menu; and 911 -> 311.

Warm transfer, in the call's conference (the hub every call already has):

1. `start_warm`: the transfer, its first step and its hand-off (outbox) are written in one
   transaction; the caller is put on hold (Participants ``Hold``/``HoldUrl``: they hear
   `hold_twiml`); the dispatch line is added to the conference (Participants create, with a
   ring timeout and status callbacks to `leg_status`).
2. The dispatch line answers (``briefing``): the call-taker briefs the dispatcher.
3. `complete`: the caller is taken off hold and the call-taker's leg leaves; caller and
   dispatcher stay. `cancel`: the dispatch leg is dropped and the caller is back.
4. Busy, no answer, failed leg, or the dispatcher hanging up while briefed: the caller is taken
   off hold, back with the call-taker, who is offered the secondary destination
   (`start_warm(destination="secondary")`) or a cold transfer (`start_cold`).

Every participant joins with ``endConferenceOnExit=false``: TWILIO.md's failure modes (a held
caller's exit ending the conference; ``endConferenceOnExit`` not changeable while held; a
call-taker's exit ending it before the far end answers) cannot happen, and the app decides who
stays from the conference's ``participant-leave`` events (`participant_event`):

* the held caller hangs up: the transfer is ``abandoned`` (so is the call), the dispatch leg is
  dropped and the conference ended, so neither the call-taker nor the dispatcher talks into a
  dead conference;
* the call-taker leaves before the dispatcher answers: the caller stays on hold; when the
  dispatcher answers the caller is taken off hold with them; if the line fails instead, the
  caller goes back in line at the front of their class (`requeue_twiml`);
* the call-taker leaves while briefing: as `complete`;
* once completed, whichever of caller and dispatcher leaves ends the conference (the caller
  hears a goodbye, never silence).

Each move of a transfer is a conditional UPDATE in SQL (`transfer_records.advance`): webhooks
and console requests race, one wins, the winner does the phone work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.engine import Connection
from twilio.twiml.voice_response import Dial, VoiceResponse

from agents import AgentError, TelephonyError
from callflows.actions import Transfer as TransferAction
from ivr import calllog, callview, eido, offers, outbox, outbox_jobs
from ivr import transfer_records as records
from ivr.bootstrap import Services
from ivr.dispatch_centers import DispatchCenter, TransferConfig, transfer_config
from ivr.links import Link
from ivr.outcomes import FAILED, language_of
from ivr.transfer_records import LIVE, Transfer
from ivr.waiting import TAGS, VOICES, language_key, twilio_queue_name

log = logging.getLogger("ivr.transfers")

PREFIX = "/voice/transfer"
HANDOFF = "eido-handoff"
LEG_EVENTS = ["initiated", "ringing", "answered", "completed"]

TEXT = {
    "en": {
        "hold": "Please stay on the line. We are connecting you with emergency services.",
        "connecting": "Please stay on the line. We are connecting you with emergency services.",
        "requeued": "We are sorry, we could not connect you. Please stay on the line: you are "
                    "next for a call-taker.",
        "reclassified": "Please stay on the line. A city services call-taker will be with you "
                        "shortly.",
        "goodbye": "The call has ended. Goodbye.",
    },
    "es": {
        "hold": "Por favor no cuelgue. Le estamos comunicando con los servicios de emergencia.",
        "connecting": "Por favor no cuelgue. Le estamos comunicando con los servicios de "
                      "emergencia.",
        "requeued": "Lo sentimos, no pudimos comunicarle. Por favor no cuelgue: usted es el "
                    "siguiente.",
        "reclassified": "Por favor no cuelgue. Un agente de servicios de la ciudad le atenderá "
                        "en breve.",
        "goodbye": "La llamada ha terminado. Adiós.",
    },
}


class TransferRefused(AgentError):
    """A transfer request that cannot be done now; `code` is the API's error code."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code, self.status = code, status


def say(response: VoiceResponse, language: str, key: str) -> None:
    lang = language_key(language)
    response.say(TEXT.get(lang, TEXT["en"])[key], voice=VOICES[lang], language=TAGS[lang])


def hook_url(svc: Services, path: str, **query: Any) -> str:
    params = {k: str(v) for k, v in query.items() if v is not None}
    return f"{svc.settings.public_url}{PREFIX}/{path}" + (f"?{urlencode(params)}" if params else "")


def config(svc: Services) -> TransferConfig:
    return transfer_config(svc.settings)


def _at(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def _quietly(what: str, fn, *args) -> Any:  # type: ignore[no-untyped-def]
    """A phone request whose failure must not stop the rest (the leg may be gone already)."""
    try:
        return fn(*args)
    except TelephonyError as exc:
        log.warning("transfer: %s: %s", what, exc)
        return None


def _set_outcome(svc: Services, conn: Connection, call_sid: str, outcome: str) -> None:
    """The call's outcome, in Redis (for the final status callback) and SQL (if it came)."""
    live = svc.live.get(call_sid)
    if live is not None:
        svc.live.put(live.evolve(outcome=outcome))
    if _ended(conn, call_sid):
        calllog.set_fields(conn, call_sid, outcome=outcome)


def _ended(conn: Connection, call_sid: str) -> bool:
    from sqlalchemy import select

    from ivr.models import Call

    row = conn.execute(select(Call.outcome).where(Call.sid == call_sid)).first()
    return bool(row and row.outcome != "live")


# -- what the console (or the API) asks ----------------------------------------------------------

def _live_link(svc: Services, call_id: str, agent_id: str | None) -> Link:
    link = svc.links.for_call(call_id)
    if link is None or link.closed or not link.bridged or not link.caller_leg:
        raise TransferRefused("not_connected", f"call {call_id} is not connected to a "
                              "call-taker")
    if agent_id is not None and link.agent_id != agent_id:
        raise TransferRefused("not_your_call", f"call {call_id} is not yours", 403)
    return link


def current(svc: Services, call_id: str) -> Transfer | None:
    with svc.engine.connect() as conn:
        return records.latest_for_call(conn, call_id)


def _center(cfg: TransferConfig, name: str, destination: str) -> DispatchCenter:
    center = cfg.center(name)
    if center is None:
        raise TransferRefused("unknown_center", f"no dispatch center {name!r}; configured: "
                              f"{', '.join(cfg.centers) or 'none'}", 404)
    if destination not in ("primary", "secondary"):
        raise TransferRefused("bad_destination", "destination is primary or secondary", 400)
    if center.destination(destination) is None:
        raise TransferRefused("no_secondary", f"{center.label} has no secondary destination",
                              400)
    return center


def _not_busy(svc: Services, link: Link) -> None:
    if link.transfer:
        t = current(svc, link.call_id)
        if t is not None and t.id == link.transfer and t.live:
            raise TransferRefused("transfer_in_progress",
                                  f"a transfer of call {link.call_id} is under way ({t.state})")


def _record(svc: Services, conn: Connection, *, link_or_call: Link | str, center: DispatchCenter,
            mode: str, origin: str, destination: str, now: float, previous: str | None,
            location: str | None, note: str | None, agent: str | None) -> tuple[str, int | None]:
    """The transfer row, its first step, the call's event and the hand-off, in `conn`'s
    transaction. Returns the transfer id and the outbox message id."""
    cfg = config(svc)
    call_sid = link_or_call if isinstance(link_or_call, str) else link_or_call.call_id
    rid = None if isinstance(link_or_call, str) else link_or_call.reservation_id
    at = _at(now)
    tid = records.new_id()
    if note:
        callview.add_note(conn, call_sid, at, agent or "system", note)
    view = callview.describe_call(conn, call_sid, with_history=False)
    incident = eido.incident_id(call_sid, cfg.agency)
    dialed = center.destination(destination) or ""
    records.create(conn, id=tid, call_sid=call_sid, mode=mode, origin=origin,
                   center=center.name, destination=destination, dialed=dialed, agent=agent,
                   reservation=rid, incident=incident, at=at, previous=previous)
    calllog.add_event(conn, call_sid, at, "transfer-started", f"{mode} to {center.name}",
                      {"transfer": tid, "center": center.name, "destination": destination,
                       "origin": origin, "agent": agent})
    started = datetime.fromisoformat(view["started_at"]) if view["started_at"] else at
    answered = None
    if not isinstance(link_or_call, str) and link_or_call.bridged:
        answered = _at(link_or_call.bridged)
    notes = [(datetime.fromisoformat(n["at"]), n["by"] or "call-taker", n["text"])
             for n in view["notes"]]
    doc = eido.build(eido.Handoff(
        transfer_id=tid, mode=mode, origin=origin, call_sid=call_sid,
        line=str(view["line"] or ""), caller=str(view["caller"] or ""), started_at=started,
        answered_at=answered, at=at, our_agency=cfg.agency, dispatch_agency=center.agency,
        dispatch_label=center.label, agent=agent, notes=notes, location=location or None,
        topic=view["topic"], menu_path=view["menu_path"], language=view["language"] or "en"))
    outbox.add(conn, kind=HANDOFF, destination=center.handoff_url,
               secret_name=center.secret_env, payload=doc, idempotency_key=f"transfer-{tid}",
               at=at, subject=tid)
    message = outbox.by_key(conn, f"transfer-{tid}") if center.handoff_url else None
    return tid, message.id if message else None


def start_warm(svc: Services, call_id: str, agent_id: str | None, center_name: str, *,
               destination: str = "primary", origin: str = "console",
               location: str | None = None, note: str | None = None,
               previous: str | None = None, now: float | None = None) -> Transfer:
    """Begin a warm transfer (see the module docstring). Raises `TransferRefused` (not now,
    not yours, unknown center) or `TelephonyError` (Twilio refused; the caller is back with
    the call-taker, and the transfer is recorded ``failed``)."""
    now = offers.now_of(svc, now)
    cfg = config(svc)
    center = _center(cfg, center_name, destination)
    link = _live_link(svc, call_id, agent_id)
    _not_busy(svc, link)
    tel = svc.telephony
    conference = link.conference_sid or tel.conference_sid(call_id)
    if conference is None:
        raise TransferRefused("not_connected", f"call {call_id} is not in a conference")
    with svc.engine.begin() as conn:
        tid, message = _record(svc, conn, link_or_call=link, center=center, mode="warm",
                               origin=origin, destination=destination, now=now,
                               previous=previous, location=location, note=note,
                               agent=link.agent_id)
    svc.links.set(link.reservation_id, transfer=tid, conference_sid=conference)
    if message is not None:
        outbox_jobs.kick(svc.settings, message)
    try:
        tel.hold(conference, link.caller_leg or "", True,
                 hook_url(svc, "hold", lang=language_key(language_of(link))))
        from_ = tel.caller_id(link.entry.data.get("line"))
        leg = tel._rest("add the dispatch line", lambda: tel.client.conferences(conference)
                        .participants.create(
                            from_=from_, to=center.destination(destination),
                            label="dispatch", timeout=cfg.ring_seconds,
                            early_media=False, beep="false",
                            end_conference_on_exit=False, start_conference_on_enter=True,
                            status_callback=hook_url(svc, "leg", t=tid),
                            status_callback_method="POST",
                            status_callback_event=LEG_EVENTS))
    except TelephonyError as exc:
        _failed(svc, tid, f"network: {exc}"[:64], now)
        raise
    with svc.engine.begin() as conn:
        records.set_fields(conn, tid, leg_sid=str(leg.call_sid))
        records.step(conn, tid, _at(now), "dialing", f"{center.label} ({destination})")
    return current(svc, call_id)  # type: ignore[return-value]


def start_cold(svc: Services, call_id: str, agent_id: str | None, center_name: str, *,
               destination: str = "primary", origin: str = "console",
               location: str | None = None, note: str | None = None,
               previous: str | None = None, now: float | None = None) -> Transfer:
    """Blind transfer: the caller is moved out of the conference to a `<Dial>` of the dispatch
    line, and the call-taker's leg ends (wrap-up). If the line fails, the caller goes back in
    line at the front (`cold_result`)."""
    now = offers.now_of(svc, now)
    center = _center(config(svc), center_name, destination)
    link = _live_link(svc, call_id, agent_id)
    _not_busy(svc, link)
    with svc.engine.begin() as conn:
        tid, message = _record(svc, conn, link_or_call=link, center=center, mode="cold",
                               origin=origin, destination=destination, now=now,
                               previous=previous, location=location, note=note,
                               agent=link.agent_id)
    svc.links.set(link.reservation_id, transfer=tid)
    if message is not None:
        outbox_jobs.kick(svc.settings, message)
    tel = svc.telephony
    try:
        moved = tel.redirect(link.caller_leg or "", hook_url(svc, "cold", t=tid))
    except TelephonyError as exc:
        _failed(svc, tid, f"network: {exc}"[:64], now)
        raise
    if not moved:
        _caller_gone(svc, current(svc, call_id), now)  # type: ignore[arg-type]
        raise TransferRefused("caller_gone", "the caller is no longer on the line")
    live = svc.live.get(call_id)
    if live is not None:
        svc.live.put(live.evolve(outcome="transferred"))
    _quietly("call-taker leaves", tel.end_leg, link.agent_leg)
    return current(svc, call_id)  # type: ignore[return-value]


def _own_live(svc: Services, call_id: str, agent_id: str | None) -> tuple[Transfer, Link]:
    t = current(svc, call_id)
    if t is None or t.reservation is None:
        raise TransferRefused("no_transfer", f"call {call_id} has no transfer", 404)
    link = svc.links.get(t.reservation)
    if link is None or (agent_id is not None and link.agent_id != agent_id):
        raise TransferRefused("not_your_call", f"call {call_id} is not yours", 403)
    return t, link


def complete(svc: Services, call_id: str, agent_id: str | None,
             now: float | None = None) -> Transfer:
    """The call-taker hands over: the caller off hold with the dispatcher; the call-taker
    leaves (wrap-up). Only while ``briefing``."""
    now = offers.now_of(svc, now)
    t, link = _own_live(svc, call_id, agent_id)
    with svc.engine.begin() as conn:
        won = records.advance(conn, t.id, ("briefing",), "completed", _at(now),
                              "completed by the call-taker")
        if won:
            calllog.add_event(conn, call_id, _at(now), "transfer-completed", t.center,
                              {"transfer": t.id, "agent": link.agent_id})
    if not won:
        raise TransferRefused("not_briefing", f"the transfer is {t.state}: only a transfer "
                              "whose dispatcher answered can be completed")
    _hand_over(svc, t, link)
    _quietly("call-taker leaves", svc.telephony.end_leg, link.agent_leg)
    return current(svc, call_id)  # type: ignore[return-value]


def cancel(svc: Services, call_id: str, agent_id: str | None,
           now: float | None = None) -> Transfer:
    """Drop the dispatch leg; the caller is back with the call-taker."""
    now = offers.now_of(svc, now)
    t, link = _own_live(svc, call_id, agent_id)
    with svc.engine.begin() as conn:
        won = records.advance(conn, t.id, LIVE, "cancelled", _at(now),
                              "cancelled by the call-taker")
        if won:
            calllog.add_event(conn, call_id, _at(now), "transfer-cancelled", t.center,
                              {"transfer": t.id})
    if not won:
        raise TransferRefused("not_live", f"the transfer is already {t.state}")
    _quietly("drop the dispatch leg", svc.telephony.end_leg, t.leg_sid)
    _back_with_call_taker(svc, t, link)
    return current(svc, call_id)  # type: ignore[return-value]


def retry_secondary(svc: Services, call_id: str, agent_id: str | None,
                    now: float | None = None) -> Transfer:
    """After a failed warm transfer: the same, to the center's secondary destination."""
    t = current(svc, call_id)
    if t is None or t.state != "failed" or t.mode != "warm":
        raise TransferRefused("no_failed_transfer", "the secondary destination is offered after "
                              "a failed warm transfer")
    return start_warm(svc, call_id, agent_id, t.center, destination="secondary",
                      previous=t.id, now=now)


def options(svc: Services, t: Transfer | None) -> dict[str, bool]:
    """What the console may offer next for the call's latest transfer."""
    if t is None:
        return {"complete": False, "cancel": False, "secondary": False, "cold": False}
    center = config(svc).center(t.center)
    failed = t.state == "failed" and t.mode == "warm"
    return {"complete": t.state == "briefing", "cancel": t.state in LIVE,
            "secondary": failed and bool(center and center.secondary)
            and t.destination == "primary",
            "cold": failed}


# -- 911 -> 311 ------------------------------------------------------------------------------------

def reclassify(svc: Services, call_id: str, agent_id: str | None,
               now: float | None = None) -> Transfer:
    """A 911 call that is not an emergency goes to the 311 queue at the front of its class,
    with everything recorded so far (the same call record: notes, menu path, events); the
    call-taker leaves (wrap-up)."""
    now = offers.now_of(svc, now)
    link = _live_link(svc, call_id, agent_id)
    _not_busy(svc, link)
    spec = dict(svc.settings.raw.get("transfers") or {}).get("reclassify") or {}
    line = str(spec.get("line") or "311")
    queue_class = str(spec.get("class") or "general")
    skills = list(spec.get("skills") or [f"line:{line}"])
    if link.entry.queue_class == queue_class:
        raise TransferRefused("already_311", f"call {call_id} is already a {queue_class} call")
    at = _at(now)
    data = {**{k: str(v) for k, v in link.entry.data.items()}, "line": line,
            "topic": "reclassified", "reclassified_from": link.entry.queue_class}
    pushed = svc.queues.push_front(call_id, queue_class, 5, skills, now, data)
    if pushed.status != "queued":
        raise TransferRefused("not_queued", f"the 311 queue refused the call ({pushed.status})")
    tid = records.new_id()
    with svc.engine.begin() as conn:
        records.create(conn, id=tid, call_sid=call_id, mode="reclassify", origin="console",
                       center=line, destination="queue", dialed=queue_class,
                       agent=link.agent_id, reservation=link.reservation_id,
                       incident=eido.incident_id(call_id, config(svc).agency), at=at,
                       state="requeued")
        calllog.add_event(conn, call_id, at, "reclassified", f"{link.entry.queue_class} -> "
                          f"{queue_class}", {"transfer": tid, "agent": link.agent_id,
                                             "skills": skills})
        calllog.set_fields(conn, call_id, queue_class=queue_class)
    svc.links.set(link.reservation_id, transfer=tid)
    live = svc.live.get(call_id)
    if live is not None:
        extra = {k: v for k, v in live.extra.items() if k != "queue_sid"}
        svc.live.put(live.evolve(phase="queued", outcome=None, line=line,
                                 extra={**extra, "queue_class": queue_class}))
    if not svc.telephony.redirect(link.caller_leg or "",
                                  hook_url(svc, "requeue", t=tid, why="reclassified")):
        svc.queues.remove(call_id)
    _quietly("call-taker leaves", svc.telephony.end_leg, link.agent_leg)
    offers.route(svc, now)
    return current(svc, call_id)  # type: ignore[return-value]


# -- what Twilio reports ------------------------------------------------------------------------

def leg_status(svc: Services, tid: str, form: Mapping[str, str], now: float) -> None:
    """A status callback of a dispatch leg added to the conference."""
    status, sid = form.get("CallStatus", ""), form.get("CallSid", "")
    if not svc.live.first_time(f"xfer:{sid}:{form.get('SequenceNumber', '')}:{status}"):
        return
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    if t is None:
        return
    if sid and not t.leg_sid:
        with svc.engine.begin() as conn:
            records.set_fields(conn, tid, leg_sid=sid)
    if status == "in-progress":
        answered(svc, tid, now)
    elif status in FAILED:
        _failed(svc, tid, status, now)
    elif status == "completed":
        dispatcher_left(svc, tid, now)


def answered(svc: Services, tid: str, now: float) -> None:
    """The dispatch line answered: briefing, or (the call-taker already gone) straight to the
    caller."""
    with svc.engine.begin() as conn:
        if records.advance(conn, tid, ("dialing",), "briefing", _at(now), "dispatcher answered",
                           answered_at=_at(now)):
            t = records.get(conn, tid)
            if t is not None:
                calllog.add_event(conn, t.call_sid, _at(now), "transfer-answered", t.center,
                                  {"transfer": tid})
    _complete_if_agent_gone(svc, tid, now)


def _complete_if_agent_gone(svc: Services, tid: str, now: float) -> None:
    with svc.engine.begin() as conn:
        t = records.get(conn, tid)
        if t is None or t.agent_left_at is None:
            return
        won = records.advance(conn, tid, ("briefing",), "completed", _at(now),
                              "call-taker had left: caller connected to the dispatcher")
        if won:
            calllog.add_event(conn, t.call_sid, _at(now), "transfer-completed", t.center,
                              {"transfer": tid, "agent": None})
    if won and t.reservation:
        link = svc.links.get(t.reservation)
        if link is not None:
            _hand_over(svc, t, link)


def _hand_over(svc: Services, t: Transfer, link: Link) -> None:
    """Caller and dispatcher together: off hold; the call counts as transferred."""
    conference = link.conference_sid or svc.telephony.conference_sid(link.call_id)
    if conference:
        _quietly("caller off hold", svc.telephony.hold, conference, link.caller_leg, False)
    with svc.engine.begin() as conn:
        _set_outcome(svc, conn, t.call_sid, "transferred")


def _failed(svc: Services, tid: str, why: str, now: float,
            from_states: tuple[str, ...] = ("dialing",)) -> None:
    with svc.engine.begin() as conn:
        won = records.advance(conn, tid, from_states, "failed", _at(now), why)
        t = records.get(conn, tid)
        if won and t is not None:
            calllog.add_event(conn, t.call_sid, _at(now), "transfer-failed", why,
                              {"transfer": tid, "center": t.center})
    if not won or t is None or t.reservation is None:
        return
    link = svc.links.get(t.reservation)
    if link is None:
        return
    if link.closed or t.agent_left_at is not None:
        # Nobody to come back to: the caller goes back in line, at the front.
        _quietly("requeue caller", svc.telephony.redirect, link.caller_leg or "",
                 hook_url(svc, "requeue", t=tid))
        return
    _back_with_call_taker(svc, t, link)


def _back_with_call_taker(svc: Services, t: Transfer, link: Link) -> None:
    svc.links.clear(link.reservation_id, "transfer")
    conference = link.conference_sid or svc.telephony.conference_sid(link.call_id)
    if conference:
        _quietly("caller off hold", svc.telephony.hold, conference, link.caller_leg, False)
    svc.links.set(link.reservation_id, held="0")


def dispatcher_left(svc: Services, tid: str, now: float, joined: bool = False) -> None:
    """The dispatch leg ended: while briefing, a failure (the caller back with the call-taker);
    after completion, the end of the call (the caller hears a goodbye). `joined`: it is known
    to have been in the conference (its leave event), even if no answer was reported yet."""
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    if t is None:
        return
    if t.state == "briefing" or (joined and t.state == "dialing"):
        _failed(svc, tid, "dispatcher-left", now, ("briefing", "dialing") if joined
                else ("briefing",))
    elif t.state in ("completed", "abandoned"):
        _end_conference(svc, t)


def _end_conference(svc: Services, t: Transfer) -> None:
    link = svc.links.get(t.reservation) if t.reservation else None
    if link is not None:
        _quietly("end conference", svc.telephony.end_conference, link.call_id,
                 link.conference_sid)


def participant_event(svc: Services, link: Link, event: str, leg: str, now: float) -> None:
    """A ``participant-join`` or ``-leave`` event of the call's conference while a transfer
    holds it. Conference events are the second witness of the dispatch leg: its own status
    callbacks may come late or out of order, its joining the room is what matters."""
    with svc.engine.connect() as conn:
        t = records.get(conn, link.transfer or "")
    if t is None or t.mode != "warm" or not leg:
        return
    dispatcher = leg == t.leg_sid or leg not in (link.caller_leg, link.agent_leg)
    if event == "participant-join":
        if dispatcher:
            answered(svc, t.id, now)
    elif leg == link.caller_leg:
        _caller_gone(svc, t, now)
    elif leg == link.agent_leg:
        _agent_left(svc, t, now)
    elif dispatcher:
        dispatcher_left(svc, t.id, now, joined=True)


def caller_hung_up(svc: Services, link: Link, now: float) -> None:
    """The caller's own leg ended while a transfer held the link (their Dial action or
    status callback, whichever comes first)."""
    with svc.engine.connect() as conn:
        t = records.get(conn, link.transfer or "")
    if t is not None and t.mode == "warm":
        _caller_gone(svc, t, now)


def _caller_gone(svc: Services, t: Transfer, now: float) -> None:
    with svc.engine.begin() as conn:
        won = records.advance(conn, t.id, LIVE, "abandoned", _at(now),
                              "the caller hung up during the transfer")
        if won:
            calllog.add_event(conn, t.call_sid, _at(now), "abandoned-during-transfer", t.center,
                              {"transfer": t.id})
            _set_outcome(svc, conn, t.call_sid, "abandoned")
    if won:
        _quietly("drop the dispatch leg", svc.telephony.end_leg, t.leg_sid)
        _end_conference(svc, t)
    elif t.state == "completed" or (current_state(svc, t.id) == "completed"):
        _end_conference(svc, t)


def current_state(svc: Services, tid: str) -> str | None:
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    return t.state if t else None


def _agent_left(svc: Services, t: Transfer, now: float) -> None:
    with svc.engine.begin() as conn:
        if not records.mark_agent_left(conn, t.id, _at(now)):
            return  # reported before (Twilio repeats its callbacks)
    with svc.engine.begin() as conn:
        won = records.advance(conn, t.id, ("briefing",), "completed", _at(now),
                              "call-taker left while briefing")
        if won:
            calllog.add_event(conn, t.call_sid, _at(now), "transfer-completed", t.center,
                              {"transfer": t.id, "agent": t.agent})
    if won and t.reservation:
        link = svc.links.get(t.reservation)
        if link is not None:
            _hand_over(svc, t, link)


# -- the TwiML of the transfer webhooks --------------------------------------------------------

def hold_twiml(svc: Services, language: str) -> str:
    """What the held caller hears (a conference HoldUrl: Say, Play, Pause only)."""
    response = VoiceResponse()
    say(response, language, "hold")
    response.play(svc.settings.raw.get("hold_music"))
    return str(response)


def cold_twiml(svc: Services, tid: str) -> str:
    """The caller of a cold transfer: dial the dispatch line."""
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    if t is None:
        from ivr.calls import safe_twiml

        return str(safe_twiml(svc))
    link = svc.links.get(t.reservation) if t.reservation else None
    response = VoiceResponse()
    say(response, language_of(link), "connecting")
    _dial(response, t.dialed, hook_url(svc, "cold-done", t=tid), config(svc).ring_seconds)
    return str(response)


def _dial(response: VoiceResponse, to: str, action: str, timeout: int) -> None:
    dial = Dial(action=action, method="POST", timeout=timeout)
    if to.startswith("sip:"):
        dial.sip(to)
    else:
        dial.number(to)
    response.append(dial)


def cold_result(svc: Services, tid: str, form: Mapping[str, str], now: float) -> str:
    """The Dial action of a cold transfer: connected (then over), or back in line."""
    status = form.get("DialCallStatus", "")
    response = VoiceResponse()
    hung_up = form.get("CallStatus") in ("completed", *FAILED)
    with svc.engine.begin() as conn:
        t = records.get(conn, tid)
        if t is None:
            response.hangup()
            return str(response)
        if status in ("completed", "answered"):
            records.advance(conn, tid, ("dialing",), "connected", _at(now),
                            "dispatcher answered", answered_at=_at(now))
            _set_outcome(svc, conn, t.call_sid, "transferred")
        elif hung_up:
            if records.advance(conn, tid, ("dialing",), "abandoned", _at(now),
                               "the caller hung up during the transfer"):
                calllog.add_event(conn, t.call_sid, _at(now), "abandoned-during-transfer",
                                  t.center, {"transfer": tid})
                _set_outcome(svc, conn, t.call_sid, "abandoned")
        elif records.advance(conn, tid, ("dialing",), "failed", _at(now), status or "failed"):
            calllog.add_event(conn, t.call_sid, _at(now), "transfer-failed", status,
                              {"transfer": tid, "center": t.center})
    if status in ("completed", "answered") or hung_up:
        response.hangup()
        return str(response)
    return requeue_twiml(svc, tid, now)


def requeue_twiml(svc: Services, tid: str, now: float, why: str = "requeued") -> str:
    """Back in line at the front of the call's class (a transfer that failed with nobody to
    come back to), or into the 311 queue (`reclassify`, which pushed it already)."""
    from ivr.calls import safe_twiml

    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    link = svc.links.get(t.reservation) if t is not None and t.reservation else None
    if t is None or link is None:
        return str(safe_twiml(svc))
    entry = link.entry
    queue_class = t.dialed if t.mode == "reclassify" else entry.queue_class
    if t.mode != "reclassify":
        pushed = svc.queues.push_front(entry.call_id, entry.queue_class, entry.priority,
                                       entry.skills, now, entry.data)
        with svc.engine.begin() as conn:
            if pushed.status == "queued":
                calllog.add_event(conn, t.call_sid, _at(now), "requeued",
                                  "front of the line after a failed transfer",
                                  {"transfer": tid, "class": queue_class})
        live = svc.live.get(t.call_sid)
        if live is not None:
            svc.live.put(live.evolve(phase="queued", outcome=None))
    response = VoiceResponse()
    say(response, language_of(link), "reclassified" if t.mode == "reclassify" else why)
    base = svc.settings.public_url
    response.enqueue(twilio_queue_name(svc.settings, queue_class),
                     wait_url=f"{base}/voice/queue/wait", wait_url_method="POST",
                     action=f"{base}/voice/queue/result", method="POST")
    offers.route(svc, now)
    return str(response)


# -- from the menu -------------------------------------------------------------------------------

def menu_target(svc: Services, action: TransferAction) -> DispatchCenter | None:
    """The dispatch center a flow's transfer to a line goes to instead (``transfers.menu``)."""
    return config(svc).for_menu_line(action.line) if action.line else None


def menu_handoff(svc: Services, conn: calllog.Writer, call_sid: str, center: DispatchCenter,
                 action: TransferAction, vars_: Mapping[str, Any], path: tuple[str, ...],
                 now: datetime) -> tuple[str, TransferAction]:
    """The menu's emergency option: record the transfer and its hand-off (marked ``menu``) in
    the webhook's own writes, and the Dial the caller gets instead of the line's flow. The
    hand-off is posted by the outbox sweep once these writes are committed."""
    cfg = config(svc)
    tid = records.new_id()
    records.create(conn, id=tid, call_sid=call_sid, mode="menu", origin="menu",
                   center=center.name, destination="primary", dialed=center.number, agent=None,
                   reservation=None, incident=eido.incident_id(call_sid, cfg.agency), at=now)
    calllog.add_event(conn, call_sid, now, "transfer-started", f"menu to {center.name}",
                      {"transfer": tid, "center": center.name, "origin": "menu",
                       "reason": action.reason})
    doc = eido.build(eido.Handoff(
        transfer_id=tid, mode="menu", origin="menu", call_sid=call_sid,
        line=str(vars_.get("line") or ""), caller=str(vars_.get("caller") or ""),
        started_at=now, answered_at=None, at=now, our_agency=cfg.agency,
        dispatch_agency=center.agency, dispatch_label=center.label,
        topic="emergency", menu_path=path, language=str(vars_.get("language") or "en")))
    outbox.add(conn, kind=HANDOFF, destination=center.handoff_url, secret_name=center.secret_env,
               payload=doc, idempotency_key=f"transfer-{tid}", at=now, subject=tid)
    return tid, TransferAction(number=center.number, timeout=cfg.ring_seconds,
                               reason=action.reason or "menu-emergency")


def menu_result(svc: Services, conn: Connection, tid: str, status: str, now: datetime) -> None:
    """The Dial of a menu transfer ended (the flow decides what the caller hears next)."""
    if status in ("completed", "answered"):
        records.advance(conn, tid, ("dialing",), "connected", now, "dispatcher answered",
                        answered_at=now)
    else:
        records.advance(conn, tid, ("dialing",), "failed", now, status or "failed")
