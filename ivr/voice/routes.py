"""The webhooks Twilio calls. Each one is signed, and each one answers valid TwiML, always.

Whatever fails inside (a bug, Redis or SQL unreachable, a state that makes no sense), the caller
gets the safe answer from `calls.safe_twiml` and the failure is recorded: Twilio's "application
error" must never reach a resident. Status callbacks answer 204.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Blueprint, Response, current_app, request

from ivr.services import Services
from ivr.telephony.safe import fallback_wait_twiml, safe_hold_twiml, safe_twiml
from ivr.telephony.signatures import twilio_signed
from ivr.voice import calls, queued

bp = Blueprint("voice", __name__, url_prefix="/voice")


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
        calls.record_failure(svc, form, where, exc)
        safe = safe_hold_twiml() if wait_context else safe_twiml(svc.settings)
        return twiml_response(str(safe))


@bp.post("/incoming")
@signed
def incoming() -> Response:
    return answer("incoming", calls.incoming)


@bp.post("/step")
@signed
def step() -> Response:
    event = request.args.get("event", "gather")
    if event not in ("gather", "record", "dial"):
        event = "gather"
    seq = request.args.get("seq")
    return answer(f"step:{event}", lambda svc, form: calls.resume(svc, form, event, seq))


@bp.post("/queue/wait")
@signed
def queue_wait() -> Response:
    return answer("queue-wait", queued.wait, wait_context=True)


@bp.post("/queue/option")
@signed
def queue_option() -> Response:
    return answer("queue-option", queued.option, wait_context=True)


@bp.post("/queue/result")
@signed
def queue_result() -> Response:
    return answer("queue-result", queued.result)


@bp.post("/status")
@signed
def status() -> Response:
    svc = services()
    try:
        calls.status_callback(svc, request.form)
    except Exception as exc:
        # Twilio does not retry status callbacks on error; a 500 here would only hide the fault.
        calls.record_failure(svc, request.form, "status", exc)
    return Response(status=204)


@bp.post("/fallback")
@signed
def fallback() -> Response:
    """Twilio's fallback URL: the primary answer failed or timed out (ErrorCode says which)."""
    svc = services()
    calls.record_failure(svc, request.form, "twilio-fallback",
                         RuntimeError(f"Twilio error {request.form.get('ErrorCode', '?')} on "
                                      f"{request.form.get('ErrorUrl', '?')}"))
    return twiml_response(str(safe_twiml(svc.settings)))


@bp.post("/fallback/wait")
@signed
def fallback_wait() -> Response:
    """Hold music for callers parked by the safe answer; needs nothing but itself."""
    return twiml_response(str(fallback_wait_twiml()))
