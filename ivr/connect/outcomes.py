"""How a link between a caller and a call-taker ends, and the moment it is answered.

`on_bridged`: both parties reached the conference (`Links.join` says so exactly once): the call
is answered, its wait is recorded. `close`: the link ends, once, whoever reports first among the
Dial actions, the legs' status callbacks, the caller's own status callback and the console:

* ``ended``: it had been bridged. The call-taker goes to wrap-up; the conference is ended, so the
  caller hears a goodbye (their Dial action) and the call-taker's leg hangs up. Not while a
  warm transfer holds the link (`Link.transfer`): then the caller stays.
* ``agent-failed``: the call-taker's leg was busy, unanswered, failed, or left before the bridge.
  The caller is never left in silence: they go back to their original place in line
  (`requeue_twiml`) and the next call-taker is offered the call; the call-taker is set aside
  (`ConnectConfig.failed_leg_break`), unless they ended it themselves from the console.
* ``caller-gone``: the caller hung up before the bridge: the call-taker is freed at once.
* ``resident-failed``: a callback's resident did not answer: retried later
  (`ivr.connect.callbacks`).

Each ending is recorded on the call (``bridged``, ``ended``, ``agent-leg-failed``,
``caller-gone``, ``requeued``) with the call-taker, the reservation and the times.
"""

from __future__ import annotations

import logging

from twilio.twiml.voice_response import VoiceResponse

from agents import AgentError, TelephonyError
from ivr.calls import calllog
from ivr.calls.links import Link
from ivr.connect import callbacks, offers
from ivr.platform.db import Pending
from ivr.services import Services
from ivr.telephony.adapter import twilio_queue_name, url
from ivr.telephony.speech import TAGS, VOICES, language_key

log = logging.getLogger("ivr.outcomes")

FAILED = ("busy", "no-answer", "failed", "canceled")

TEXT = {
    "en": {
        "connecting": "Please hold while we connect you to a call-taker.",
        "held": "The call-taker has put you on hold for a moment. Please stay on the line.",
        "requeued": "We are sorry, the call-taker could not be reached. You keep your place in "
                    "line.",
        "goodbye": "Thank you for calling. Goodbye.",
        "callback": "Hello, this is the city's 3 1 1 service returning your call. Please hold "
                    "for a call-taker.",
        "callback_sorry": "We are sorry, we could not connect you with a call-taker. We will "
                          "call you back.",
        "resident": "Calling the resident back. Please hold.",
        "gone": "The caller is no longer on the line.",
        "ended": "The call has ended.",
    },
    "es": {
        "connecting": "Por favor espere mientras le comunicamos con un agente.",
        "held": "El agente le ha puesto en espera por un momento. Por favor, permanezca en la "
                "línea.",
        "requeued": "Lo sentimos, no pudimos comunicarle con el agente. Conserva su lugar en la "
                    "fila.",
        "goodbye": "Gracias por llamar. Adiós.",
        "callback": "Hola, le llama el servicio 3 1 1 de la ciudad para devolverle la llamada. "
                    "Por favor espere al agente.",
        "callback_sorry": "Lo sentimos, no pudimos comunicarle con un agente. Le volveremos a "
                          "llamar.",
    },
}


def say(response: VoiceResponse, language: str, key: str) -> None:
    lang = language_key(language)
    text = TEXT[lang].get(key) or TEXT["en"][key]
    if key not in TEXT[lang]:
        lang = "en"
    response.say(text, voice=VOICES[lang], language=TAGS[lang])


def language_of(link: Link | None) -> str:
    return str(link.entry.data.get("language", "en")) if link else "en"


def on_bridged(svc: Services, link: Link, now: float) -> None:
    """Both parties are in the conference: the call is answered."""
    wait = max(0.0, now - link.entry.arrival)
    data = {"agent": link.agent_id, "reservation": link.reservation_id,
            "wait": round(wait, 1), "after_accept": round(now - link.accepted_at, 1)}
    with svc.engine.begin() as conn:
        calllog.add_event(conn, link.call_id, offers.at(now), "bridged", link.agent_id, data)
        if not link.callback:
            calllog.left_queue(conn, link.call_id, offers.at(now), wait)
    if link.callback:
        callbacks.answered(svc, link, now)
        return
    live = svc.live.get(link.call_id)
    if live is not None and live.phase in ("connecting", "connected"):
        svc.live.put(live.evolve(phase="connected", outcome="answered"))


def close(
    svc: Services, rid: str, reason: str, by: str, now: float, detail: str = "",
) -> str | None:
    """End link `rid` once (see the module docstring); returns how, to the first caller only."""
    how = svc.links.close(rid, reason, now, by)
    link = svc.links.get(rid)
    if how is None or link is None:
        return None
    try:
        if how == "ended":
            _ended(svc, link, by, now)
        elif how == "agent-failed":
            _agent_failed(svc, link, by, now, detail)
        elif how == "resident-failed":
            _resident_failed(svc, link, now, detail)
        else:
            _caller_gone(svc, link, now)
    finally:
        offers.route(svc, now)
    return how


def _end_call(svc: Services, link: Link, now: float) -> None:
    try:
        svc.agents.end_call(link.agent_id, now, link.call_id)
    except AgentError as exc:  # logged out meanwhile: nothing to end
        log.info("end of call %s for %s: %s", link.call_id, link.agent_id, exc)


def _quietly(what: str, fn, *args) -> object:  # type: ignore[no-untyped-def]
    """A clean-up request to Twilio whose failure must not stop the rest of the clean-up."""
    try:
        return fn(*args)
    except TelephonyError as exc:
        log.warning("%s: %s", what, exc)
        return None


def _ended(svc: Services, link: Link, by: str, now: float) -> None:
    _end_call(svc, link, now)
    talk = round(now - (link.bridged or now), 1)
    offers.record(svc, link.call_id, now, "ended", link.agent_id,
                  {"agent": link.agent_id, "by": by, "talk": talk,
                   "reservation": link.reservation_id})
    tel = svc.telephony
    if link.transfer:  # a transfer owns the caller now: only the call-taker's leg ends
        if by == "caller":
            svc.hooks.caller_hung_up(svc, link, now)
        _quietly("hang up agent", tel.end_leg, link.agent_leg)
        return
    if not _quietly("end conference", tel.end_conference, link.call_id, link.conference_sid):
        _quietly("hang up agent", tel.end_leg, link.agent_leg)
        _quietly("hang up caller", tel.end_leg, link.caller_leg)


def _agent_failed(svc: Services, link: Link, by: str, now: float, detail: str) -> None:
    _end_call(svc, link, now)
    reason = svc.telephony.config.failed_leg_break
    if reason and by != "console":  # ended on purpose from the console: no phone problem
        try:
            svc.agents.go_on_break(link.agent_id, reason, now)
        except AgentError as exc:
            log.info("no break for %s: %s", link.agent_id, exc)
    offers.record(svc, link.call_id, now, "agent-leg-failed", detail or "failed",
                  {"agent": link.agent_id, "leg": link.agent_leg,
                   "reservation": link.reservation_id})
    tel = svc.telephony
    _quietly("hang up agent", tel.end_leg, link.agent_leg)
    if link.callback:
        _quietly("hang up resident", tel.end_leg, link.resident_leg)
        callbacks.requeue(svc, link.entry, link.attempt, now)
    elif link.caller_in:
        # In the conference, waiting: move them back into line. (Not yet in it: their own
        # webhook finds the link closed and answers the same thing.)
        _quietly("requeue caller", tel.redirect, link.call_id,
                 url(svc.settings, "requeue", resv=link.reservation_id))


def _caller_gone(svc: Services, link: Link, now: float) -> None:
    _end_call(svc, link, now)
    wait = max(0.0, now - link.entry.arrival)
    with svc.engine.begin() as conn:
        calllog.add_event(conn, link.call_id, offers.at(now), "caller-gone", link.agent_id,
                          {"agent": link.agent_id, "reservation": link.reservation_id,
                           "after_accept": round(now - link.accepted_at, 1),
                           "wait": round(wait, 1)})
        if not link.callback:  # abandoned on the way to the call-taker: the wait still counts
            calllog.left_queue(conn, link.call_id, offers.at(now), wait)
    tel = svc.telephony
    ended = _quietly("end conference", tel.end_conference, link.call_id, link.conference_sid)
    if not ended or not link.agent_in:  # a phone still ringing is not in the conference
        _quietly("hang up agent", tel.end_leg, link.agent_leg)
    if link.callback:
        callbacks.missed(svc, link, "hung up before the bridge", now)


def _resident_failed(svc: Services, link: Link, now: float, detail: str) -> None:
    _end_call(svc, link, now)
    tel = svc.telephony
    if not _quietly("end conference", tel.end_conference, link.call_id, link.conference_sid):
        _quietly("hang up agent", tel.end_leg, link.agent_leg)
    callbacks.missed(svc, link, detail or "no answer", now)


# -- back in line ------------------------------------------------------------------------------


def requeue_twiml(svc: Services, link: Link, now: float) -> str:
    """The caller goes back to their original place in line (arrival kept, so the place is
    the same among the calls waiting now) and hears that they kept it."""
    entry = link.entry
    live = svc.live.get(link.call_id)
    pushed = svc.queues.push(entry.call_id, entry.queue_class, entry.priority, entry.skills,
                             entry.arrival, entry.data, with_position=False)
    language = language_of(link)
    if pushed.status == "full" and live is not None:
        # The class filled up meanwhile: the flow's overflow step, as for a full queue. Its
        # Redis work first, then the record in one short write.
        pending = Pending(svc.engine)
        calllog.add_event(pending, link.call_id, offers.at(now), "queue-full", entry.queue_class)
        twiml = svc.hooks.overflow(svc, pending, live, now)
        pending.apply(svc.engine)
        return twiml
    with svc.engine.begin() as conn:
        if pushed.status == "queued":
            calllog.add_event(conn, link.call_id, offers.at(now), "requeued",
                              f"after {link.agent_id}",
                              {"agent": link.agent_id, "reservation": link.reservation_id})
    if live is not None:
        svc.live.put(live.evolve(phase="queued", outcome=None))
    response = VoiceResponse()
    say(response, language, "requeued")
    base = svc.settings.public_url
    response.enqueue(twilio_queue_name(svc.settings, entry.queue_class),
                     wait_url=f"{base}/voice/queue/wait", wait_url_method="POST",
                     action=f"{base}/voice/queue/result", method="POST")
    offers.route(svc, now)
    return str(response)
