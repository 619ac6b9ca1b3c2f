"""The TwiML of transfers: what a held caller hears, a cold transfer's Dial and its outcome,
a caller back in line at the front, and the menu's emergency option (a Dial straight to the
dispatch center, with its hand-off). Every answer is valid TwiML, whatever state it finds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from twilio.twiml.voice_response import Dial, VoiceResponse

from callflows.actions import Transfer as TransferAction
from ivr.calls import calllog
from ivr.connect import offers
from ivr.connect.outcomes import FAILED, language_of
from ivr.platform import outbox
from ivr.platform.db import Writer
from ivr.services import Services
from ivr.telephony.adapter import twilio_queue_name
from ivr.telephony.safe import safe_twiml
from ivr.telephony.speech import TAGS, VOICES, language_key
from ivr.transfers import eido, locations, records
from ivr.transfers.centers import DispatchCenter
from ivr.transfers.events import HANDOFF, at_, config, hook_url, live_outcome, set_outcome

TEXT = {
    "en": {
        "hold": "Please stay on the line. We are connecting you with emergency services.",
        "connecting": "Please stay on the line. We are connecting you with emergency services.",
        "requeued": "We are sorry, we could not connect you. Please stay on the line: you are "
                    "next for a call-taker.",
        "reclassified": "Please stay on the line. A city services call-taker will be with you "
                        "shortly.",
        "goodbye": "The call has ended. Goodbye.",
        "rollover": "Connecting you to another 9 1 1 center. Stay on the line.",
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
        "rollover": "Le comunicamos con otro centro del 9 1 1. No cuelgue.",
    },
}



def say(response: VoiceResponse, language: str, key: str) -> None:
    lang = language_key(language)
    response.say(TEXT.get(lang, TEXT["en"])[key], voice=VOICES[lang], language=TAGS[lang])


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
        return str(safe_twiml(svc.settings))
    link = svc.links.get(t.reservation) if t.reservation else None
    response = VoiceResponse()
    say(response, language_of(link), "connecting")
    dial_center(response, t.dialed, hook_url(svc, "cold-done", t=tid), config(svc).ring_seconds)
    return str(response)


def dial_center(response: VoiceResponse, to: str, action: str, timeout: int,
                answered_url: str | None = None) -> None:
    """A `<Dial>` of a dispatch center's number or SIP address; `answered_url` gets the far
    end's ``answered`` status callback (the moment it picked up, not when the Dial ended)."""
    dial = Dial(action=action, method="POST", timeout=timeout)
    callback = ({"status_callback": answered_url, "status_callback_event": "answered",
                 "status_callback_method": "POST"} if answered_url else {})
    if to.startswith("sip:"):
        dial.sip(to, **callback)
    else:
        dial.number(to, **callback)
    response.append(dial)


def cold_result(svc: Services, tid: str, form: Mapping[str, str], now: float) -> str:
    """The Dial action of a cold transfer: connected (then over), or back in line."""
    status = form.get("DialCallStatus", "")
    response = VoiceResponse()
    hung_up = form.get("CallStatus") in ("completed", *FAILED)
    outcome = None
    with svc.engine.begin() as conn:
        t = records.get(conn, tid)
        if t is None:
            response.hangup()
            return str(response)
        if status in ("completed", "answered"):
            records.advance(conn, tid, ("dialing",), "connected", at_(now),
                            "dispatcher answered", answered_at=at_(now))
            outcome = "transferred"
        elif hung_up:
            if records.advance(conn, tid, ("dialing",), "abandoned", at_(now),
                               "the caller hung up during the transfer"):
                calllog.add_event(conn, t.call_sid, at_(now), "abandoned-during-transfer",
                                  t.center, {"transfer": tid})
                outcome = "abandoned"
        elif records.advance(conn, tid, ("dialing",), "failed", at_(now), status or "failed"):
            calllog.add_event(conn, t.call_sid, at_(now), "transfer-failed", status,
                              {"transfer": tid, "center": t.center})
        if outcome is not None:
            set_outcome(conn, t.call_sid, outcome)
    if outcome is not None:
        live_outcome(svc, t.call_sid, outcome)
    if status in ("completed", "answered") or hung_up:
        response.hangup()
        return str(response)
    return requeue_twiml(svc, tid, now)


def requeue_twiml(svc: Services, tid: str, now: float, why: str = "requeued") -> str:
    """Back in line at the front of the call's class (a transfer that failed with nobody to
    come back to), or into the 311 queue (`reclassify`, which pushed it already)."""
    with svc.engine.connect() as conn:
        t = records.get(conn, tid)
    link = svc.links.get(t.reservation) if t is not None and t.reservation else None
    if t is None or link is None:
        return str(safe_twiml(svc.settings))
    entry = link.entry
    queue_class = t.dialed if t.mode == "reclassify" else entry.queue_class
    if t.mode != "reclassify":
        pushed = svc.queues.push_front(entry.call_id, entry.queue_class, entry.priority,
                                       entry.skills, now, entry.data)
        with svc.engine.begin() as conn:
            if pushed.status == "queued":
                calllog.add_event(conn, t.call_sid, at_(now), "requeued",
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


def menu_handoff(svc: Services, conn: Writer, call_sid: str, center: DispatchCenter,
                 action: TransferAction, vars_: Mapping[str, Any], path: tuple[str, ...],
                 now: datetime) -> tuple[str, TransferAction]:
    """The menu's emergency option: record the transfer and its hand-off (marked ``menu``) in
    the webhook's own writes, and the Dial the caller gets instead of the line's flow. The
    hand-off is posted by the outbox sweep once these writes are committed."""
    cfg = config(svc)
    with svc.engine.connect() as read:  # `conn` may only hold writes not yet sent
        place = locations.of_call(read, call_sid)
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
        topic="emergency", menu_path=path, language=str(vars_.get("language") or "en"),
        location=place, civic_defaults=cfg.civic))
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
