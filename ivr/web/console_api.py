"""The call-takers' JSON API under /api/v1 (documented in openapi/console.yaml).

Authentication is the console's web session: the cookie made by signing in at /console/login.
Every state-changing request also carries the session's CSRF token in ``X-CSRF-Token`` (the
token is in ``GET /api/v1/me`` and in the console page). Every action is checked against the
account's roles, and acts for the signed-in account only: no request names a call-taker.

Errors are ``{"error": {"code": "...", "message": "..."}}`` with a precise 4xx status (502
``phone_network_failed`` when Twilio refused what an action needed).

Calls are connected, held and ended through `ivr.connect.actions` (state first in Redis, then
Twilio); routing goes through `ivr.connect.offers.route`, which also records each offer on the
call. The floor's views, the browser phone's token and the live stream are in
`ivr.web.console_live`; transfers in `ivr.web.transfer_api`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, jsonify

from agents.model import Action, OfferClosed, Presence, State, TransitionRefused
from ivr.accounts.accounts import Account
from ivr.calls import calllog, callview
from ivr.connect import actions as connect
from ivr.connect import monitor
from ivr.web import csrf, kit
from ivr.web.auth import SEES_FLOOR, TAKES_CALLS
from ivr.web.calltaker import offer_of, on_call, presence_of
from ivr.web.errors import ApiError
from ivr.web.kit import api_blueprint, current_options, current_services, signed_in

bp = api_blueprint("console_api")

MAX_REASON = 80


def _now() -> datetime:
    return current_services().clock()


def _last_call(account: Account, presence: Presence) -> dict[str, Any] | None:
    svc = current_services()
    sid = callview.LastCalls(svc.redis, svc.settings.center).get(account.login)
    if sid is None:
        return None
    with svc.engine.connect() as conn:
        view = callview.describe_call(conn, sid)
    view["active"] = presence.state == State.ON_CALL and presence.call_id == sid
    link = svc.links.for_call(sid)
    view["held"] = bool(link is not None and link.held and not link.closed)
    view["connected"] = bool(link is not None and link.bridged and not link.closed)
    view["supervisor"] = monitor.for_call_taker(svc, sid) if view["active"] else None
    return view


def _route() -> None:
    """A call-taker became free (or a call went back in line): make the offers possible now;
    the offer reaches the console through the live stream."""
    svc = current_services()
    connect.route(svc, svc.clock().timestamp())


def _state_reply(account: Account) -> Response:
    presence = presence_of(account)
    return jsonify(presence=presence.as_dict(), call=_last_call(account, presence),
                   server_time=current_services().clock().timestamp())


# -- who am I ------------------------------------------------------------------------------------

@bp.get("/me")
@signed_in()
def me(account: Account) -> Response:
    options = current_options()
    takes = account.has_role(*TAKES_CALLS)
    presence = presence_of(account) if takes else None
    return jsonify(
        account=account.as_dict(),
        csrf_token=csrf.token(),
        takes_calls=takes,
        sees_floor=account.has_role(*SEES_FLOOR),
        presence=presence.as_dict() if presence else None,
        offer=offer_of(presence) if presence else None,
        call=_last_call(account, presence) if presence else None,
        dispositions=[{"code": c, "label": label} for c, label in options.dispositions.items()],
        break_reasons=list(options.break_reasons),
        offer_timeout=current_services().agents.rules.offer_timeout,
        wrap_up_seconds=current_services().agents.rules.wrap_up_seconds,
        server_time=current_services().clock().timestamp(),
    )


# -- presence ------------------------------------------------------------------------------------

@bp.post("/presence/available")
@signed_in(*TAKES_CALLS)
def go_available(account: Account) -> Response:
    """Log in to the queues with the account's skills, or come back from a break."""
    svc, now = current_services(), _now().timestamp()
    state = presence_of(account).state
    if state == State.OFFLINE:
        svc.agents.login(account.login, account.skills, now)
    elif state == State.ON_BREAK:
        svc.agents.end_break(account.login, now)
    elif state == State.WRAP_UP:
        raise ApiError(409, "state_refused", "finish wrap-up with a disposition first",
                       state=state.value)
    else:
        raise TransitionRefused(account.login, Action.LOGIN, state)
    _route()
    return _state_reply(account)


@bp.post("/presence/break")
@signed_in(*TAKES_CALLS)
def go_on_break(account: Account) -> Response:
    reason = kit.text(kit.body(), "reason", MAX_REASON)
    current_services().agents.go_on_break(account.login, reason, _now().timestamp())
    return _state_reply(account)


@bp.post("/presence/end-break")
@signed_in(*TAKES_CALLS)
def end_break(account: Account) -> Response:
    current_services().agents.end_break(account.login, _now().timestamp())
    _route()
    return _state_reply(account)


@bp.post("/presence/logout")
@signed_in(*TAKES_CALLS)
def log_out_of_queues(account: Account) -> Response:
    current_services().agents.logout(account.login, _now().timestamp())
    return _state_reply(account)


# -- offers --------------------------------------------------------------------------------------

@bp.get("/offer")
@signed_in(*TAKES_CALLS)
def current_offer(account: Account) -> Response:
    return jsonify(offer=offer_of(presence_of(account)))


def _own_reservation(account: Account, reservation_id: str) -> None:
    reservation = current_services().router.reservations.get(reservation_id)
    if reservation is None:
        raise OfferClosed(reservation_id, "missing")
    if reservation.agent_id != account.login:
        raise ApiError(403, "not_your_offer", f"offer {reservation_id} was made to another "
                       "call-taker")


@bp.post("/offers/<reservation_id>/accept")
@signed_in(*TAKES_CALLS)
def accept(reservation_id: str, account: Account) -> Response:
    """Accept my offer: on the call at once, then Twilio connects the caller and my phone
    (`connect.accept`, which records the ``accepted`` event)."""
    svc, now = current_services(), _now()
    _own_reservation(account, reservation_id)
    offered = svc.router.reservations.get(reservation_id)
    if offered is not None:  # remembered first: notes must find the call even if Twilio fails
        callview.LastCalls(svc.redis, svc.settings.center).set(account.login, offered.call_id)
    reservation = connect.accept(svc, reservation_id, account.login, now.timestamp())
    with svc.engine.begin() as conn:
        if callview.call_exists(conn, reservation.call_id):
            # The caller's wait ends when a call-taker takes the call (kept if already known).
            waited = reservation.entry.wait(now.timestamp())
            calllog.left_queue(conn, reservation.call_id, now, waited)
    return _state_reply(account)


@bp.post("/offers/<reservation_id>/reject")
@signed_in(*TAKES_CALLS)
def reject(reservation_id: str, account: Account) -> Response:
    """Reject my offer: the call goes back to its place and to the next call-taker."""
    _own_reservation(account, reservation_id)
    connect.reject(current_services(), reservation_id, account.login, _now().timestamp())
    return _state_reply(account)


# -- the call ------------------------------------------------------------------------------------

def _last_sid(account: Account) -> str:
    svc = current_services()
    sid = callview.LastCalls(svc.redis, svc.settings.center).get(account.login)
    if sid is None:
        raise ApiError(409, "no_call", f"{account.login} has taken no call yet")
    with svc.engine.connect() as conn:
        if not callview.call_exists(conn, sid):
            raise ApiError(404, "call_not_recorded", f"call {sid} has no record to write on")
    return sid


@bp.get("/call")
@signed_in(*TAKES_CALLS)
def current_call(account: Account) -> Response:
    return jsonify(call=_last_call(account, presence_of(account)))


@bp.post("/call/hold")
@signed_in(*TAKES_CALLS)
def hold(account: Account) -> Response:
    connect.hold(current_services(), on_call(account), _now().timestamp())
    return _state_reply(account)


@bp.post("/call/resume")
@signed_in(*TAKES_CALLS)
def resume(account: Account) -> Response:
    connect.resume(current_services(), on_call(account), _now().timestamp())
    return _state_reply(account)


@bp.post("/call/end")
@signed_in(*TAKES_CALLS)
def end_call(account: Account) -> Response:
    """End my call: wrap-up for me, a goodbye for the caller (`connect.hang_up`)."""
    on_call(account)
    connect.hang_up(current_services(), account.login, _now().timestamp())
    _route()
    return _state_reply(account)


@bp.post("/call/notes")
@signed_in(*TAKES_CALLS)
def add_note(account: Account) -> Response:
    note_text = kit.text(kit.body(), "text", callview.MAX_NOTE)
    sid = _last_sid(account)
    with current_services().engine.begin() as conn:
        note = callview.add_note(conn, sid, _now(), account.login, note_text)
    presence = presence_of(account)
    response = jsonify(note=note, presence=presence.as_dict(), call=_last_call(account, presence))
    response.status_code = 201
    return response


@bp.post("/call/wrap-up")
@signed_in(*TAKES_CALLS)
def wrap_up(account: Account) -> Response:
    """Record the disposition of the last call and end wrap-up (available, or on the break
    chosen meanwhile). Allowed after wrap-up ended on its own, to record a late code."""
    data = kit.body()
    code = kit.text(data, "disposition", 64)
    if code not in current_options().dispositions:
        raise ApiError(400, "unknown_disposition",
                       f"{code!r} is not a disposition; use one of "
                       f"{', '.join(current_options().dispositions)}")
    note = kit.text(data, "note", callview.MAX_NOTE, required=False)
    sid = _last_sid(account)
    presence = presence_of(account)
    if presence.state == State.ON_CALL and presence.call_id == sid:
        raise ApiError(409, "call_in_progress", "end the call before wrap-up",
                       state=presence.state.value)
    svc, now = current_services(), _now()
    with svc.engine.begin() as conn:
        callview.set_disposition(conn, sid, now, account.login, code, note)
    if presence.state == State.WRAP_UP:
        svc.agents.finish_wrap_up(account.login, now.timestamp())
        _route()
    return _state_reply(account)


@bp.get("/calls/<sid>/history")
@signed_in(*TAKES_CALLS, *SEES_FLOOR)
def caller_history(sid: str, account: Account) -> Response:
    """The earlier calls of this call's caller: for the call offered to or taken by the
    signed-in call-taker (supervisors: any call)."""
    if not account.has_role(*SEES_FLOOR):
        svc = current_services()
        presence = presence_of(account)
        offered = None
        if presence.reservation_id:
            reservation = svc.router.reservations.get(presence.reservation_id)
            offered = reservation.call_id if reservation else None
        last = callview.LastCalls(svc.redis, svc.settings.center).get(account.login)
        if sid not in (offered, last):
            raise ApiError(403, "not_your_call", f"call {sid} is not offered to or taken by "
                           f"{account.login}")
    with current_services().engine.connect() as conn:
        view = callview.describe_call(conn, sid)
    if view["started_at"] is None:
        raise ApiError(404, "unknown_call", f"no call {sid}")
    return jsonify(call=sid, earlier_calls=view["earlier_calls"])
