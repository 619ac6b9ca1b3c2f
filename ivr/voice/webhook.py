"""What every Twilio webhook of the engine shares: the request's signature check, the services
of the app, and the answers that never fail (valid TwiML for a caller, 204 for a status
callback, a clean hang-up for a call-taker's leg), each recording what went wrong.

Whatever fails inside a handler (a bug, a state that makes no sense), the caller gets the safe
answer (`ivr.telephony.safe`) and the failure is recorded on the call: Twilio's "application
error" must never reach a resident. When Redis or SQL cannot be reached, nothing is lost either:
a caller is held and the webhook asked again, an event is journaled (`ivr.voice.outage`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from flask import Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from ivr.calls import calllog
from ivr.platform.phones import normalize
from ivr.platform.stores import store_unreachable
from ivr.services import Services
from ivr.telephony.safe import safe_hold_twiml, safe_twiml
from ivr.telephony.signatures import twilio_signed
from ivr.voice import calls, outage

log = logging.getLogger("ivr.calls")


def services() -> Services:
    return current_app.extensions["ivr"]


signed = twilio_signed(lambda: (services().validator, services().settings.public_url))


def twiml_response(twiml: str) -> Response:
    return Response(twiml, status=200, mimetype="text/xml")


def answer(
    where: str, handler: Callable[[Services, Mapping[str, str]], calls.Answer],
    wait_context: bool = False,
) -> Response:
    """Run a webhook handler; on any failure answer the safe TwiML and record the failure.

    In a queue's hold loop only a few verbs are allowed (no Enqueue, no Dial): there the safe
    answer is simply hold music, and the caller stays in line.
    """
    svc = services()
    form = request.form
    try:
        return twiml_response(handler(svc, form).twiml)
    except Exception as exc:  # the caller must hear a way forward, never an error
        if outage.replaying.get():
            raise
        if store_unreachable(exc) and not wait_context:
            if outage.call_over(form):
                outage.keep_event(svc, exc)
                return twiml_response(str(VoiceResponse()))
            held = outage.hold_and_retry(svc, exc)
            if held is not None:
                return twiml_response(held)
        else:
            record_failure(svc, form, where, exc)
        if wait_context:
            return twiml_response(str(safe_hold_twiml()))
        return safe_answer(svc, form)


def leg_answer(where: str,
               handler: Callable[[Services, Mapping[str, str]], str]) -> Response:
    """A call-taker's leg: on failure they hear an apology and the leg ends (never a queue)."""
    svc = services()
    try:
        return twiml_response(handler(svc, request.form))
    except Exception as exc:
        if outage.replaying.get():
            raise
        if store_unreachable(exc):
            if outage.call_over(request.form):
                outage.keep_event(svc, exc)
                return twiml_response(str(VoiceResponse()))
            held = outage.hold_and_retry(svc, exc)
            if held is not None:
                return twiml_response(held)
        record_failure(svc, request.form, where, exc)
        response = VoiceResponse()
        response.say("Sorry, this call could not be connected.")
        response.hangup()
        return twiml_response(str(response))


def status_answer(where: str,
                  handler: Callable[[Services, Mapping[str, str]], None]) -> Response:
    """A status callback: answered 204 whatever happens inside. Twilio does not retry a status
    callback, so a 500 would only hide the fault; it is recorded instead."""
    svc = services()
    try:
        handler(svc, request.form)
    except Exception as exc:
        if outage.replaying.get():
            raise
        if store_unreachable(exc):
            outage.keep_event(svc, exc)
        else:
            record_failure(svc, request.form, where, exc)
    return Response(status=204)


def safe_answer(svc: Services, form: Mapping[str, str]) -> Response:
    """The line's safe answer, recorded on the call (the audit's ``parked-unserved`` rule
    follows a caller parked in the safe queue until the reconciler brings them back)."""
    how = "dial" if svc.settings.fallback_number else "queue"
    sid = form.get("CallSid", "")
    try:
        if sid:
            region = svc.settings.default_region
            with svc.engine.begin() as conn:
                dialed = normalize(form.get("To", ""), region)
                calllog.open_call(conn, sid=sid, line=svc.lines.for_number(dialed).name,
                                  caller=normalize(form.get("From", ""), region),
                                  dialed=dialed, at=svc.clock())
                calllog.add_event(conn, sid, svc.clock(), "safe-answer", how)
    except Exception:  # SQL may be what failed; the caller is answered all the same
        log.warning("safe answer for call %s not recorded", sid or "-", exc_info=True)
    return twiml_response(str(safe_twiml(svc.settings)))


def record_failure(svc: Services, form: Mapping[str, str], where: str,
                   exc: BaseException) -> None:
    """Log a webhook's failure and write it on the call's record (never a second failure)."""
    log.error("webhook %s failed for call %s: %s", where, form.get("CallSid", "-"),
              type(exc).__name__, exc_info=exc)
    calls.record_error(svc, form.get("CallSid", ""), "error",
                       f"{where}: {type(exc).__name__}: {exc}")
