"""Supervisors on live calls (`ivr.connect.monitor`): the calls they can join, listen / coach /
barge, switch mode, leave, and the audit of it, under ``/api/v1`` with the same sign-in, CSRF
check, roles and error format as the rest of the console API (`ivr.web.kit`); documented in
openapi/console.yaml. Supervisors and admins only: a call-taker gets 403.

The supervisor's phone is the contact of their own account (``client:<identity>``: the
browser phone of the wallboard page; or a number): no request names whom to ring.
"""

from __future__ import annotations

from flask import Response, jsonify

from ivr.accounts.accounts import Account
from ivr.connect import monitor
from ivr.floor import auditlog
from ivr.web import kit
from ivr.web.auth import SEES_FLOOR
from ivr.web.errors import ApiError, error_response, json_fields
from ivr.web.kit import api_blueprint, current_services, signed_in

bp = api_blueprint("monitor_api")

MAX_SID = 64


@bp.errorhandler(monitor.MonitorRefused)
def _refused(exc: monitor.MonitorRefused) -> Response:
    return error_response(exc.status, exc.code, str(exc))


def _now() -> float:
    return current_services().clock().timestamp()


def _sid(sid: str) -> str:
    if not sid or len(sid) > MAX_SID:
        raise ApiError(404, "no_such_call", "no such call")
    return sid


def _mine(account: Account) -> dict[str, object] | None:
    watching = monitor.mine(current_services(), account.login)
    return watching.as_dict() if watching else None


@bp.get("/live-calls")
@signed_in(*SEES_FLOOR)
def live_calls(account: Account) -> Response:
    """The calls a supervisor can join now, and the one this supervisor is on."""
    return jsonify(calls=monitor.live_calls(current_services()), mine=_mine(account),
                   server_time=_now())


@bp.post("/calls/<sid>/monitor")
@signed_in(*SEES_FLOOR)
def start_or_switch(sid: str, account: Account) -> Response:
    """Join the call in a mode (201), or switch mode when already on it (200)."""
    data = json_fields({"mode"})
    mode = data.get("mode")
    if not isinstance(mode, str) or mode not in monitor.MODES:
        raise ApiError(400, "bad_mode", f"mode must be one of {', '.join(monitor.MODES)}")
    watching, started = monitor.start(current_services(), _sid(sid), account.login,
                                      account.name, account.contact, mode, _now())
    response = jsonify(monitoring=watching.as_dict())
    response.status_code = 201 if started else 200
    return response


@bp.post("/calls/<sid>/monitor/leave")
@signed_in(*SEES_FLOOR)
def leave(sid: str, account: Account) -> Response:
    kit.body()
    monitor.leave(current_services(), _sid(sid), account.login, _now())
    return jsonify(monitoring=None)


@bp.get("/calls/<sid>/monitor/audit")
@signed_in(*SEES_FLOOR)
def audit(sid: str, account: Account) -> Response:
    """Who listened to, coached or barged into this call, when, oldest first."""
    svc = current_services()
    return jsonify(entries=auditlog.entries(svc.engine, svc.settings.center,
                                            subject=f"call:{_sid(sid)}"))
