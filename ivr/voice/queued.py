"""The webhooks of a caller in queue: the hold loop (waitUrl), its key presses, and the end of
the wait (the Enqueue action, with Twilio's QueueResult).

A caller leaves the queue in one of these ways, each recorded with the time waited:
callback (press 1: the entry stays in line, flagged, and the caller hangs up), voicemail (press 2),
overflow (waited the class's max_wait), abandoned (hung up), or answered (bridged to a call-taker,
issue of the agents package).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import datetime

from twilio.twiml.voice_response import VoiceResponse

from callflows import engine, spoken
from callflows.actions import Input
from ivr.calls import calllog
from ivr.calls.live import LiveCall
from ivr.connect import offers
from ivr.connect.bridging import caller_ended
from ivr.platform.db import Pending, Writer
from ivr.services import Services
from ivr.voice import waiting
from ivr.voice.calls import Answer, perform, route_if_queued
from queues import EMERGENCY

log = logging.getLogger("ivr.queued")


def _language(live: LiveCall | None) -> str:
    return live.state.language if live else "en"


def _waited(live: LiveCall, now: float) -> float:
    return max(0.0, now - float(live.extra.get("queued_at", now)))


def _can_call_back(live: LiveCall) -> bool:
    caller = str(live.state.vars.get("caller", ""))
    return caller.startswith("+") and len(caller) > 8


def _on_duty(svc: Services, live: LiveCall, queue_class: str) -> int:
    """Call-takers on duty who could answer this call: holding its skills, else (a call the
    reconciler put back in line, whose skills are not known here) serving its class."""
    skills = live.extra.get("skills")
    if isinstance(skills, list):
        return svc.agents.on_duty_for(skills)
    return svc.agents.staffing().get(queue_class, 0)


def wait(svc: Services, form: Mapping[str, str]) -> Answer:
    """The hold loop: own position, estimated wait, options, hold music."""
    live = svc.live.get(form.get("CallSid", ""))
    now = svc.clock().timestamp()
    if live is None or live.phase != "queued":
        response = VoiceResponse()
        waiting.say(response, _language(live), "hold")
        response.play(svc.settings.raw.get("hold_music"))
        return Answer(str(response))
    queue_sid = form.get("QueueSid", "")
    if queue_sid and live.extra.get("queue_sid") != queue_sid:
        # Where to dequeue this exact caller from when a call-taker accepts
        # (ivr/connect/actions.py).
        live = live.evolve(extra={**live.extra, "queue_sid": queue_sid})
        svc.live.put(live)
    queue_class = str(live.extra.get("queue_class", ""))
    offer = queue_class == EMERGENCY and not live.extra.get("spanish_offered") and \
        "es" in svc.flows.get(live.state.flow, live.state.version).languages
    doc, overflow = waiting.wait_document(
        svc.queues, svc.settings, live.sid, queue_class, _language(live),
        _can_call_back(live), _waited(live, now), now, offer_spanish=offer,
        on_duty=_on_duty(svc, live, queue_class),
        self_service=bool(live.extra.get("self_service")))
    if overflow:
        svc.live.put(live.evolve(extra={**live.extra, "leave": "overflow"}))
    elif offer:
        svc.live.put(live.evolve(extra={**live.extra, "spanish_offered": True}))
    return Answer(str(doc))


def option(svc: Services, form: Mapping[str, str]) -> Answer:
    """A key pressed during hold music: 1 callback, 2 voicemail, 3 the flow's self-service
    paths (offered only while nobody is on duty, taken whenever the flow has them)."""
    live = svc.live.get(form.get("CallSid", ""))
    digits = form.get("Digits", "")
    response = VoiceResponse()
    language = _language(live)
    if live is None or live.phase != "queued":
        response.redirect(f"{svc.settings.public_url}/voice/queue/wait", method="POST")
        return Answer(str(response))
    now = svc.clock()
    if digits == waiting.SPANISH_KEY and live.extra.get("queue_class") == EMERGENCY:
        return _to_spanish(svc, live, now)
    if digits == "1" and _can_call_back(live) and svc.queues.mark_callback(live.sid):
        with svc.engine.begin() as conn:  # nothing but the write inside
            calllog.add_event(conn, live.sid, now, "callback-requested", "keeps place in line")
        svc.live.put(live.evolve(extra={**live.extra, "leave": "callback"}))
        response.leave()
        return Answer(str(response))
    elif digits == "2" and out_of_line(svc, live.sid, now.timestamp()):
        svc.live.put(live.evolve(extra={**live.extra, "leave": "voicemail"}))
        response.leave()
        return Answer(str(response))
    elif (digits == "3" and live.extra.get("self_service")
          and out_of_line(svc, live.sid, now.timestamp())):
        svc.live.put(live.evolve(extra={**live.extra, "leave": "self-service"}))
        response.leave()
        return Answer(str(response))
    waiting.say(response, language, "sorry")
    response.redirect(f"{svc.settings.public_url}/voice/queue/wait", method="POST")
    return Answer(str(response))


def _to_spanish(svc: Services, live: LiveCall, now: datetime) -> Answer:
    """A 911 caller pressed 9 in line: the rest of the call speaks Spanish (their place in
    line is unchanged; the call's record says the language)."""
    response = VoiceResponse()
    if live.state.language != "es" and \
            "es" in svc.flows.get(live.state.flow, live.state.version).languages:
        live = live.evolve(state=dataclasses.replace(live.state, language="es"))
        svc.live.put(live)
        with svc.engine.begin() as conn:  # nothing but the writes inside
            calllog.set_language(conn, live.sid, "es")
            calllog.add_event(conn, live.sid, now, "language", "es", {"while": "queued"})
    waiting.say(response, _language(live), "emergency")
    response.redirect(f"{svc.settings.public_url}/voice/queue/wait", method="POST")
    return Answer(str(response))


def result(svc: Services, form: Mapping[str, str]) -> Answer:
    """The wait is over (Enqueue action): act on Twilio's QueueResult and why the caller left.

    Once per wait: a replayed result (Twilio retrying, an attacker, the journal after a crash)
    changes nothing. Redis work first, then the call's record in one short write.
    """
    sid = form.get("CallSid", "")
    outcome = form.get("QueueResult", "")
    live = svc.live.get(sid)
    now = svc.clock()
    if live is None:
        out_of_line(svc, sid, now.timestamp())
        return Answer(str(VoiceResponse()))
    if outcome in ("bridged", "bridging-in-process", "redirected", "redirected-from-bridged"):
        return Answer(str(VoiceResponse()))  # a call-taker has the call; nothing more to say
    token = f"queue-result:{sid}:{live.extra.get('queued_at', '')}"
    if not svc.live.first_time(token):
        return Answer(live.last_twiml if live.phase == "flow" and live.last_twiml
                      else str(VoiceResponse()), "queue result replayed")
    try:
        return _result(svc, live, outcome, now)
    except Exception:
        svc.live.forget(token)
        raise


def _result(svc: Services, live: LiveCall, outcome: str, now: datetime) -> Answer:
    sid = live.sid
    waited = _waited(live, now.timestamp())
    reason = str(live.extra.get("leave", ""))
    pending = Pending(svc.engine)
    calllog.left_queue(pending, sid, now, waited)
    if outcome == "hangup":
        kept = reason == "callback"
        if not kept:
            out_of_line(svc, sid, now.timestamp(), pending)
        if live.phase in ("connecting", "connected"):
            caller_ended(svc, sid, now.timestamp())  # accepted, not yet dequeued
        calllog.add_event(pending, sid, now, "callback" if kept else "abandoned",
                          f"waited {waited:.0f} s", {"wait": round(waited, 1)})
        if not kept:
            log.info("call %s abandoned after %.0f s in queue", sid, waited)
        svc.live.put(live.evolve(phase="done", outcome="callback" if kept else "abandoned"))
        pending.apply(svc.engine)
        return Answer(str(VoiceResponse()))
    if outcome == "leave" and reason == "callback":
        calllog.add_event(pending, sid, now, "callback", f"waited {waited:.0f} s",
                          {"wait": round(waited, 1)})
        response = VoiceResponse()
        last = str(live.state.vars.get("caller", ""))[-4:]
        waiting.say(response, _language(live), "callback",
                    last=spoken.group_words(last, _language(live)))
        response.hangup()
        twiml = str(response)
        svc.live.put(live.evolve(phase="done", outcome="callback", last_twiml=twiml))
        pending.apply(svc.engine)
        return Answer(twiml)
    # Leaving for voicemail, self-service or overflow, or Twilio could not keep the caller in
    # its queue (queue-full, error): out of our queue too, and on to the flow's next step.
    out_of_line(svc, sid, now.timestamp(), pending)
    event = reason if reason in ("voicemail", "self-service") else "overflow"
    calllog.add_event(pending, sid, now, f"queue-{event}",
                      f"{outcome or 'no result'} after {waited:.0f} s",
                      {"wait": round(waited, 1)})
    flow = svc.flows.get(live.state.flow, live.state.version)
    step = engine.resume(flow, live.state, Input(event=event), now)
    live, twiml = perform(svc, pending, live.evolve(phase="flow"), step)
    pending.apply(svc.engine)
    route_if_queued(svc, live)
    return Answer(twiml)


def out_of_line(svc: Services, sid: str, now: float, conn: Writer | None = None) -> bool:
    """Take a call out of line (waiting or offered). A call-taker it was offered to is free at
    once, missed count unchanged, and offered the next call. False when it was not in line."""
    gone = svc.router.reservations.caller_gone(sid, now)
    if gone.status == "offered" and gone.reservation is not None:
        offers.cancelled(svc, gone.reservation, now, conn)
    return gone.status != "unknown"


def caller_gone(svc: Services, conn: Writer, live: LiveCall) -> None:
    """The status callback says the call is over while it was queued: out of line, recorded."""
    now = svc.clock()
    waited = _waited(live, now.timestamp())
    if live.extra.get("leave") == "callback":
        return  # a callback keeps its place in line after the caller hangs up
    if out_of_line(svc, live.sid, now.timestamp(), conn):
        calllog.left_queue(conn, live.sid, now, waited)
        calllog.add_event(conn, live.sid, now, "abandoned", f"waited {waited:.0f} s",
                          {"wait": round(waited, 1)})
