"""The console API's read-only views of the floor, the browser phone's token and the live
stream (`GET /api/v1/events`): the same sign-in, roles and error format as the rest of the
console API (`ivr.web.kit`), apart from the actions to keep each module to one idea.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, current_app, jsonify, stream_with_context

from agents import Reservation
from ivr.accounts.accounts import Account
from ivr.calls import callview
from ivr.services import Services
from ivr.telephony import voicetoken
from ivr.web import sse
from ivr.web.auth import SEES_FLOOR, TAKES_CALLS
from ivr.web.calltaker import offer_of, presence_of
from ivr.web.errors import ApiError
from ivr.web.kit import api_blueprint, current_options, current_services, signed_in

bp = api_blueprint("console_live")

RECORD_WAIT = 1.0


def _read_api_key(state: Any) -> None:
    """The browser phone's API key, read from the environment once per app."""
    key, secret = voicetoken.api_key_from()
    state.app.config.setdefault("TWILIO_API_KEY", key)
    state.app.config.setdefault("TWILIO_API_SECRET", secret)


bp.record_once(_read_api_key)


def _recorded_offer(svc: Services, reservation: Reservation) -> dict[str, Any]:
    """The offer, once the call's queueing is in SQL. A call is offered from inside the webhook
    that queues it, so its ``offered`` event can reach us before that webhook's transaction
    (which holds the menu path) commits: wait up to `RECORD_WAIT` seconds for it."""
    deadline = time.monotonic() + RECORD_WAIT
    while True:
        with svc.engine.connect() as conn:
            if callview.queueing_recorded(conn, reservation.call_id) or \
                    time.monotonic() >= deadline:
                return callview.describe_offer(conn, reservation, svc.clock().timestamp())
        time.sleep(0.05)


@bp.get("/floor")
@signed_in(*SEES_FLOOR)
def floor(account: Account) -> Response:
    svc = current_services()
    offers = [{"reservation": r.reservation_id, "agent": r.agent_id, "call": r.call_id,
               "expires_at": r.expires_at} for r in svc.router.reservations.all()]
    return jsonify(agents=[p.as_dict() for p in svc.agents.all()], offers=offers)


@bp.get("/voice/token")
@signed_in(*TAKES_CALLS, *SEES_FLOOR)  # supervisors: to listen to calls from the wallboard
def voice_token(account: Account) -> Response:
    identity = account.client_identity
    if identity is None:
        raise ApiError(409, "desk_phone", f"calls for {account.login} ring at "
                       f"{account.contact}, not in the browser")
    svc, ttl = current_services(), current_options().voice_token_ttl
    if svc.settings.emulator_url:
        raise ApiError(409, "emulated_phone", "the carrier is the offline emulator: it answers "
                       "for this browser, and the caller's side shows on the page")
    try:
        token = voicetoken.mint(svc.settings.account_sid, current_app.config["TWILIO_API_KEY"],
                                current_app.config["TWILIO_API_SECRET"], identity, ttl)
    except voicetoken.BrowserPhoneUnavailable as exc:
        raise ApiError(503, "browser_phone_unavailable", str(exc)) from exc
    return jsonify(token=token, identity=identity, ttl=ttl)


@bp.get("/events")
@signed_in()
def events(account: Account) -> Response:
    svc, options = current_services(), current_options()
    takes = account.has_role(*TAKES_CALLS)
    login = account.login

    def snapshot() -> dict[str, Any]:
        presence = presence_of(account) if takes else None
        return {"presence": presence.as_dict() if presence else None,
                "offer": offer_of(presence) if presence else None}

    def enrich(event: dict[str, Any]) -> dict[str, Any]:
        if event.get("event") == "offered" and event.get("agent") == login:
            reservation = svc.router.reservations.get(str(event.get("reservation")))
            if reservation is not None:
                event["offer"] = _recorded_offer(svc, reservation)
        return event

    body = sse.stream(
        svc.redis, svc.agents.channel, agent_id=login if takes else None,
        sees_all=account.has_role(*SEES_FLOOR), snapshot=snapshot, enrich=enrich,
        heartbeat=options.events_heartbeat_seconds, lifetime=options.events_lifetime_seconds)
    return Response(stream_with_context(body), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
