"""The webhooks of a caller's run (``/voice/...``): incoming, each step, the queue's hold loop
and its end, status callbacks, and Twilio's fallback URL. Each one is signed and answers valid
TwiML, always (`ivr.voice.webhook`); status callbacks answer 204.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ivr.telephony.safe import fallback_wait_twiml
from ivr.voice import calls, outage, queued
from ivr.voice.status import status_callback
from ivr.voice.webhook import (
    answer,
    record_failure,
    safe_answer,
    services,
    signed,
    status_answer,
    twiml_response,
)

bp = Blueprint("voice", __name__, url_prefix="/voice")


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
    return status_answer("status", status_callback)


@bp.post("/retry")
@signed
def retry() -> Response:
    """A held caller's redirect during an outage: the webhook it names, asked again."""
    try:
        return outage.retry(current_app)
    except LookupError as exc:
        svc = services()
        record_failure(svc, request.form, "retry", exc)
        return safe_answer(svc, request.form)


@bp.post("/fallback")
@signed
def fallback() -> Response:
    """Twilio's fallback URL: the primary answer failed or timed out (ErrorCode says which)."""
    svc = services()
    record_failure(svc, request.form, "twilio-fallback",
                         RuntimeError(f"Twilio error {request.form.get('ErrorCode', '?')} on "
                                      f"{request.form.get('ErrorUrl', '?')}"))
    return safe_answer(svc, request.form)


@bp.post("/fallback/wait")
@signed
def fallback_wait() -> Response:
    """Hold music for callers parked by the safe answer; needs nothing but itself."""
    return twiml_response(str(fallback_wait_twiml()))
