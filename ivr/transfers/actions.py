"""Transfers of a live call to a dispatch center, as the console (or the API) asks for them:
warm, cold, complete, cancel, the secondary destination; and 911 -> 311 (`reclassify`).
What Twilio then reports is handled in `ivr.transfers.events`, the TwiML (hold audio, a cold
transfer's Dial, back in line, the menu's emergency option) in `ivr.transfers.twiml`.

Warm transfer, in the call's conference (the hub every call already has):

1. `start_warm`: the transfer, its first step and its hand-off (outbox) are written in one
   transaction; the caller is put on hold (Participants ``Hold``/``HoldUrl``: they hear
   `ivr.transfers.twiml.hold_twiml`); the dispatch line is added to the conference (Participants
   create, with a ring timeout and status callbacks to `ivr.transfers.events.leg_status`).
2. The dispatch line answers (``briefing``): the call-taker briefs the dispatcher.
3. `complete`: the caller is taken off hold and the call-taker's leg leaves; caller and
   dispatcher stay. `cancel`: the dispatch leg is dropped and the caller is back.
4. Busy, no answer, failed leg, or the dispatcher hanging up while briefed: the caller is taken
   off hold, back with the call-taker, who is offered the secondary destination
   (`start_warm(destination="secondary")`) or a cold transfer (`start_cold`).

Every participant joins with ``endConferenceOnExit=false``: TWILIO.md's failure modes (a held
caller's exit ending the conference; ``endConferenceOnExit`` not changeable while held; a
call-taker's exit ending it before the far end answers) cannot happen, and the app decides who
stays from the conference's ``participant-leave`` events (`ivr.transfers.events.participant_event`):

* the held caller hangs up: the transfer is ``abandoned`` (so is the call), the dispatch leg is
  dropped and the conference ended, so neither the call-taker nor the dispatcher talks into a
  dead conference;
* the call-taker leaves before the dispatcher answers: the caller stays on hold; when the
  dispatcher answers the caller is taken off hold with them; if the line fails instead, the
  caller goes back in line at the front of their class (`ivr.transfers.twiml.requeue_twiml`);
* the call-taker leaves while briefing: as `complete`;
* once completed, whichever of caller and dispatcher leaves ends the conference (the caller
  hears a goodbye, never silence).

Each move of a transfer is a conditional UPDATE in SQL (`ivr.transfers.records.advance`): webhooks
and console requests race, one wins, the winner does the phone work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from agents import AgentError, TelephonyError
from ivr.calls import calllog, callview
from ivr.calls.links import Link
from ivr.connect import offers
from ivr.connect.outcomes import language_of
from ivr.platform import outbox, outbox_jobs
from ivr.services import Services
from ivr.telephony.speech import language_key
from ivr.transfers import eido, locations, records
from ivr.transfers.centers import DispatchCenter, TransferConfig
from ivr.transfers.events import (
    HANDOFF,
    at_,
    back_with_call_taker,
    caller_gone,
    config,
    failed,
    hand_over,
    hook_url,
    quietly,
)
from ivr.transfers.records import LIVE, Transfer


class TransferRefused(AgentError):
    """A transfer request that cannot be done now; `code` is the API's error code."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code, self.status = code, status


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


def _record(svc: Services, conn: Connection, *, link: Link, center: DispatchCenter, mode: str,
            origin: str, destination: str, now: float, previous: str | None,
            location: str | None, note: str | None) -> tuple[str, int | None]:
    """The transfer row, its first step, the call's event and the hand-off, in `conn`'s
    transaction. Returns the transfer id and the outbox message id (None when the center
    pulls its hand-offs)."""
    cfg = config(svc)
    call_sid, rid, agent = link.call_id, link.reservation_id, link.agent_id
    at = at_(now)
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
    answered = at_(link.bridged) if link.bridged else None
    notes = [(datetime.fromisoformat(n["at"]), n["by"] or "call-taker", n["text"])
             for n in view["notes"]]
    place = locations.of_call(conn, call_sid, location)
    doc = eido.build(eido.Handoff(
        transfer_id=tid, mode=mode, origin=origin, call_sid=call_sid,
        line=str(view["line"] or ""), caller=str(view["caller"] or ""), started_at=started,
        answered_at=answered, at=at, our_agency=cfg.agency, dispatch_agency=center.agency,
        dispatch_label=center.label, agent=agent, notes=notes, location=place,
        civic_defaults=cfg.civic, topic=view["topic"], menu_path=view["menu_path"],
        language=view["language"] or "en"))
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
        tid, message = _record(svc, conn, link=link, center=center, mode="warm",
                               origin=origin, destination=destination, now=now,
                               previous=previous, location=location, note=note)
    svc.links.set(link.reservation_id, transfer=tid, conference_sid=conference)
    if message is not None:
        outbox_jobs.kick(svc.settings, message)
    try:
        tel.hold(conference, link.caller_leg or "", True,
                 hook_url(svc, "hold", lang=language_key(language_of(link))))
        leg = tel.add_participant(
            conference, center.destination(destination) or "",
            tel.caller_id(link.entry.data.get("line")), label="dispatch",
            timeout=cfg.ring_seconds, status_callback=hook_url(svc, "leg", t=tid))
    except TelephonyError as exc:
        failed(svc, tid, f"network: {exc}"[:64], now)
        raise
    with svc.engine.begin() as conn:
        records.set_fields(conn, tid, leg_sid=leg)
        records.step(conn, tid, at_(now), "dialing", f"{center.label} ({destination})")
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
        tid, message = _record(svc, conn, link=link, center=center, mode="cold",
                               origin=origin, destination=destination, now=now,
                               previous=previous, location=location, note=note)
    svc.links.set(link.reservation_id, transfer=tid)
    if message is not None:
        outbox_jobs.kick(svc.settings, message)
    tel = svc.telephony
    try:
        moved = tel.redirect(link.caller_leg or "", hook_url(svc, "cold", t=tid))
    except TelephonyError as exc:
        failed(svc, tid, f"network: {exc}"[:64], now)
        raise
    if not moved:
        caller_gone(svc, current(svc, call_id), now)  # type: ignore[arg-type]
        raise TransferRefused("caller_gone", "the caller is no longer on the line")
    live = svc.live.get(call_id)
    if live is not None:
        svc.live.put(live.evolve(outcome="transferred"))
    quietly("call-taker leaves", tel.end_leg, link.agent_leg)
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
        won = records.advance(conn, t.id, ("briefing",), "completed", at_(now),
                              "completed by the call-taker")
        if won:
            calllog.add_event(conn, call_id, at_(now), "transfer-completed", t.center,
                              {"transfer": t.id, "agent": link.agent_id})
    if not won:
        raise TransferRefused("not_briefing", f"the transfer is {t.state}: only a transfer "
                              "whose dispatcher answered can be completed")
    hand_over(svc, t, link)
    quietly("call-taker leaves", svc.telephony.end_leg, link.agent_leg)
    return current(svc, call_id)  # type: ignore[return-value]


def cancel(svc: Services, call_id: str, agent_id: str | None,
           now: float | None = None) -> Transfer:
    """Drop the dispatch leg; the caller is back with the call-taker."""
    now = offers.now_of(svc, now)
    t, link = _own_live(svc, call_id, agent_id)
    with svc.engine.begin() as conn:
        won = records.advance(conn, t.id, LIVE, "cancelled", at_(now),
                              "cancelled by the call-taker")
        if won:
            calllog.add_event(conn, call_id, at_(now), "transfer-cancelled", t.center,
                              {"transfer": t.id})
    if not won:
        raise TransferRefused("not_live", f"the transfer is already {t.state}")
    quietly("drop the dispatch leg", svc.telephony.end_leg, t.leg_sid)
    back_with_call_taker(svc, t, link)
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
    warm_failed = t.state == "failed" and t.mode == "warm"
    return {"complete": t.state == "briefing", "cancel": t.state in LIVE,
            "secondary": warm_failed and bool(center and center.secondary)
            and t.destination == "primary",
            "cold": warm_failed}


# -- 911 -> 311 ------------------------------------------------------------------------------------

def reclassify(svc: Services, call_id: str, agent_id: str | None,
               now: float | None = None) -> Transfer:
    """A 911 call that is not an emergency goes to the 311 queue at the front of its class,
    with everything recorded so far (the same call record: notes, menu path, events); the
    call-taker leaves (wrap-up)."""
    now = offers.now_of(svc, now)
    link = _live_link(svc, call_id, agent_id)
    _not_busy(svc, link)
    target = config(svc).reclassify
    line, queue_class, skills = target.line, target.queue_class, list(target.skills)
    if link.entry.queue_class == queue_class:
        raise TransferRefused("already_311", f"call {call_id} is already a {queue_class} call")
    at = at_(now)
    data = {**{k: str(v) for k, v in link.entry.data.items()}, "line": line,
            "topic": "reclassified", "reclassified_from": link.entry.queue_class}
    pushed = svc.queues.push_front(call_id, queue_class, target.priority, skills, now, data)
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
    try:
        moved = svc.telephony.redirect(link.caller_leg or "", hook_url(svc, "requeue", t=tid))
    except TelephonyError:
        _undo_reclassify(svc, link, tid, now, "the phone network refused")
        raise
    if not moved:  # the caller hung up meanwhile: their own callbacks record it
        _undo_reclassify(svc, link, tid, now, "the caller was gone")
        raise TransferRefused("caller_gone", "the caller is no longer on the line")
    quietly("call-taker leaves", svc.telephony.end_leg, link.agent_leg)
    offers.route(svc, now)
    return current(svc, call_id)  # type: ignore[return-value]


def _undo_reclassify(svc: Services, link: Link, tid: str, now: float, why: str) -> None:
    """The caller could not be moved: out of the 311 queue again, the link as it was."""
    svc.queues.remove(link.call_id)
    svc.links.clear(link.reservation_id, "transfer")
    live = svc.live.get(link.call_id)
    if live is not None and live.phase == "queued":
        svc.live.put(live.evolve(phase="connected", line=str(link.entry.data.get("line")
                                                               or live.line)))
    with svc.engine.begin() as conn:
        records.advance(conn, tid, ("requeued",), "failed", at_(now), why)
