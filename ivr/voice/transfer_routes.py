"""The webhooks of transfers (``/voice/transfer/...``), signed like every Twilio request.

Callers always get valid TwiML: on any failure inside, the safe answer (`ivr.telephony.safe`, or
hold music where only hold verbs are allowed). Status callbacks answer 204. The logic is in
`ivr.transfers.events` and `ivr.transfers.twiml`.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ivr.services import Services
from ivr.transfers import events as transfer_events
from ivr.transfers import rollover
from ivr.transfers import twiml as transfer_twiml
from ivr.voice import calls
from ivr.voice.webhook import answer, signed, status_answer

bp = Blueprint("transfer_hooks", __name__, url_prefix=transfer_events.PREFIX)


def _now(svc: Services) -> float:
    return svc.clock().timestamp()


def _tid() -> str:
    return request.args.get("t", "")


@bp.post("/hold")
@signed
def hold() -> Response:
    lang = request.args.get("lang", "en")
    return answer("transfer-hold", lambda svc, form: calls.Answer(
        transfer_twiml.hold_twiml(svc, lang)), wait_context=True)


@bp.post("/leg")
@signed
def leg() -> Response:
    tid = _tid()
    return status_answer("transfer-leg", lambda svc, form: transfer_events.leg_status(
        svc, tid, form, _now(svc)))


@bp.post("/cold")
@signed
def cold() -> Response:
    tid = _tid()
    return answer("transfer-cold", lambda svc, form: calls.Answer(
        transfer_twiml.cold_twiml(svc, tid)))


@bp.post("/cold-done")
@signed
def cold_done() -> Response:
    tid = _tid()
    return answer("transfer-cold-done", lambda svc, form: calls.Answer(
        transfer_twiml.cold_result(svc, tid, form, _now(svc))))


@bp.post("/requeue")
@signed
def requeue() -> Response:
    tid = _tid()
    return answer("transfer-requeue", lambda svc, form: calls.Answer(
        transfer_twiml.requeue_twiml(svc, tid, _now(svc))))


@bp.post("/rollover")
@signed
def rollover_dial() -> Response:
    tid = _tid()
    return answer("transfer-rollover", lambda svc, form: calls.Answer(
        rollover.dial_twiml(svc, tid)))


@bp.post("/rollover-done")
@signed
def rollover_done() -> Response:
    tid = _tid()
    return answer("transfer-rollover-done", lambda svc, form: calls.Answer(
        rollover.result(svc, tid, form, _now(svc))))


@bp.post("/rollover-leg")
@signed
def rollover_leg() -> Response:
    tid = _tid()
    return status_answer("transfer-rollover-leg", lambda svc, form: rollover.leg_status(
        svc, tid, form, _now(svc)))
