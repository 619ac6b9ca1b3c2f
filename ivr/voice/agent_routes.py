"""The webhooks of a call between a member of the public and a call-taker, from accept on
(``/voice/agent/...``, signed like every Twilio request): the dequeued caller, the call-taker's
leg, a resident called back, hold music, the legs' Dial actions and status callbacks, the
conference's events. The logic is in `ivr.connect.bridging` and `ivr.connect.outcomes`.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, request

from ivr.connect import bridging, outcomes
from ivr.quality import recordings
from ivr.services import Services
from ivr.telephony.adapter import PREFIX
from ivr.telephony.safe import safe_twiml
from ivr.voice import calls
from ivr.voice.webhook import answer, leg_answer, signed, status_answer

bp = Blueprint("connect", __name__, url_prefix=PREFIX)


def _now(svc: Services) -> float:
    return svc.clock().timestamp()


def _rid() -> str:
    return request.args.get("resv", "")


@bp.post("/caller")
@signed
def caller() -> Response:
    rid = _rid()
    return answer("agent-caller", lambda svc, form: calls.Answer(
        bridging.caller_twiml(svc, rid, _now(svc))))


@bp.post("/requeue")
@signed
def requeue() -> Response:
    rid = _rid()

    def handler(svc: Services, form: Mapping[str, str]) -> calls.Answer:
        link = svc.links.get(rid)
        if link is None:
            return calls.Answer(str(safe_twiml(svc.settings)))
        return calls.Answer(outcomes.requeue_twiml(svc, link, _now(svc)))

    return answer("agent-requeue", handler)


@bp.post("/resident")
@signed
def resident() -> Response:
    rid = _rid()
    return leg_answer("agent-resident", lambda svc, form: bridging.resident_twiml(
        svc, rid, _now(svc)))


@bp.post("/join")
@signed
def join() -> Response:
    rid = _rid()
    return leg_answer("agent-join", lambda svc, form: bridging.agent_twiml(
        svc, rid, form.get("CallSid", ""), _now(svc)))


@bp.post("/hold")
@signed
def hold_music() -> Response:
    lang, who = request.args.get("lang", "en"), request.args.get("who", "caller")
    return answer("agent-hold", lambda svc, form: calls.Answer(
        bridging.hold_twiml(svc, lang, who)), wait_context=True)


@bp.post("/caller-done")
@signed
def caller_done() -> Response:
    rid = _rid()
    return answer("agent-caller-done", lambda svc, form: calls.Answer(
        bridging.caller_left_twiml(svc, rid, form, _now(svc))))


@bp.post("/agent-done")
@signed
def agent_done() -> Response:
    rid = _rid()
    return leg_answer("agent-done", lambda svc, form: bridging.agent_left_twiml(
        svc, rid, form, _now(svc)))


@bp.post("/leg-status")
@signed
def leg_status() -> Response:
    rid, leg = _rid(), request.args.get("leg", "agent")
    return status_answer("agent-leg-status", lambda svc, form: bridging.leg_status(
        svc, rid, leg, form, _now(svc)))


@bp.post("/recording")
@signed
def recording() -> Response:
    call_sid = request.args.get("call", "")
    return status_answer("agent-recording", lambda svc, form: recordings.on_status(
        svc.engine, svc.settings, call_sid, form, svc.clock()))


@bp.post("/conference")
@signed
def conference() -> Response:
    rid = _rid()
    return status_answer("agent-conference", lambda svc, form: bridging.conference_status(
        svc, rid, form, _now(svc)))
