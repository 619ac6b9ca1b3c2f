"""The console API's transfer actions (call-takers) and dispatch inbox (dispatchers).

The same sign-in, CSRF check, roles and error format as the rest of the console API
(`ivr.web.kit`), documented in openapi/console.yaml. Call-takers act on their own current call only;
dispatchers (and supervisors) read transfers with their hand-off and acknowledge them. CAD
systems that pull use the same endpoints with a dispatcher account.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from ivr.accounts.accounts import Account
from ivr.platform import outbox
from ivr.transfers import actions as transfers
from ivr.transfers import eido, records
from ivr.transfers.records import Transfer
from ivr.web import kit
from ivr.web.auth import SEES_FLOOR, TAKES_CALLS
from ivr.web.calltaker import on_call
from ivr.web.errors import ApiError, error_response
from ivr.web.kit import api_blueprint, current_services, signed_in

bp = api_blueprint("transfer_api")

DISPATCHERS = ("dispatcher", *SEES_FLOOR)
MAX_LOCATION = 500
MAX_NOTE = 2000
MAX_LIMIT = 200  # transfers in one answer of the dispatch inbox


@bp.errorhandler(transfers.TransferRefused)
def _transfer_refused(exc: transfers.TransferRefused) -> Response:
    return error_response(exc.status, exc.code, str(exc))


def _view(t: Transfer | None, with_steps: bool = False) -> dict[str, Any] | None:
    if t is None:
        return None
    svc = current_services()
    out = t.as_dict()
    center = transfers.config(svc).center(t.center)
    out["center_label"] = center.label if center else t.center
    out["options"] = transfers.options(svc, t)
    with svc.engine.connect() as conn:
        message = outbox.by_key(conn, f"transfer-{t.id}")
        if with_steps:
            out["steps"] = records.steps_of(conn, t.id)
    if message is not None:
        out["handoff"] = {"delivered_at": message.delivered_at.isoformat()
                          if message.delivered_at else None,
                          "attempts": message.attempts, "pushed": message.destination is not None}
        out["incident_summary"] = eido.summary(message.payload)
        if with_steps:
            out["incident"] = message.payload
    return out


def _reply(call_id: str) -> Response:
    return jsonify(transfer=_view(transfers.current(current_services(), call_id), True))


# -- call-takers ---------------------------------------------------------------------------------

@bp.get("/dispatch-centers")
@signed_in(*TAKES_CALLS, *DISPATCHERS)
def dispatch_centers(account: Account) -> Response:
    centers = transfers.config(current_services()).centers.values()
    return jsonify(centers=[{"name": c.name, "label": c.label, "secondary": bool(c.secondary)}
                            for c in centers])


@bp.get("/call/transfer")
@signed_in(*TAKES_CALLS)
def current_transfer(account: Account) -> Response:
    """The latest transfer of my current call (null when none)."""
    return _reply(on_call(account))


@bp.post("/call/transfer")
@signed_in(*TAKES_CALLS)
def start_transfer(account: Account) -> Response:
    """Transfer my call to a dispatch center: ``warm`` (I brief the dispatcher first) or
    ``cold`` (blind)."""
    data = kit.body()
    center = kit.text(data, "center", 32)
    mode = kit.text(data, "mode", 8, required=False) or "warm"
    destination = kit.text(data, "destination", 16, required=False) or "primary"
    location = kit.text(data, "location", MAX_LOCATION, required=False) or None
    note = kit.text(data, "note", MAX_NOTE, required=False) or None
    if mode not in ("warm", "cold"):
        raise ApiError(400, "bad_mode", "mode is warm or cold")
    call_id = on_call(account)
    svc = current_services()
    start = transfers.start_warm if mode == "warm" else transfers.start_cold
    start(svc, call_id, account.login, center, destination=destination, location=location,
          note=note)
    response = _reply(call_id)
    response.status_code = 201
    return response


@bp.post("/call/transfer/complete")
@signed_in(*TAKES_CALLS)
def complete_transfer(account: Account) -> Response:
    """Hand over: the caller off hold with the dispatcher; I leave the call (wrap-up)."""
    call_id = on_call(account)
    transfers.complete(current_services(), call_id, account.login)
    return _reply(call_id)


@bp.post("/call/transfer/cancel")
@signed_in(*TAKES_CALLS)
def cancel_transfer(account: Account) -> Response:
    call_id = on_call(account)
    transfers.cancel(current_services(), call_id, account.login)
    return _reply(call_id)


@bp.post("/call/transfer/secondary")
@signed_in(*TAKES_CALLS)
def secondary_transfer(account: Account) -> Response:
    """After a failed warm transfer: try the center's secondary destination."""
    call_id = on_call(account)
    transfers.retry_secondary(current_services(), call_id, account.login)
    response = _reply(call_id)
    response.status_code = 201
    return response


@bp.post("/call/reclassify")
@signed_in(*TAKES_CALLS)
def reclassify(account: Account) -> Response:
    """Not an emergency: my 911 call goes to the front of the 311 queue; I leave it."""
    call_id = on_call(account)
    transfers.reclassify(current_services(), call_id, account.login)
    return _reply(call_id)


# -- dispatchers ---------------------------------------------------------------------------------

@bp.get("/dispatch/transfers")
@signed_in(*DISPATCHERS)
def incoming(account: Account) -> Response:
    """The latest transfers to dispatch centers, newest first, with their incident summary."""
    raw = request.args.get("limit", "50")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
        raise ApiError(400, "bad_request", f"limit is a whole number from 1 to {MAX_LIMIT}, "
                                           f"not {raw[:20]!r}")
    limit = int(raw)
    center = request.args.get("center") or None
    svc = current_services()
    with svc.engine.connect() as conn:
        found = records.recent(conn, limit, center)
    return jsonify(transfers=[_view(t) for t in found],
                   server_time=svc.clock().timestamp())


def _transfer(transfer_id: str) -> Transfer:
    with current_services().engine.connect() as conn:
        t = records.get(conn, transfer_id)
    if t is None or t.mode == "reclassify":
        raise ApiError(404, "unknown_transfer", f"no transfer {transfer_id}")
    return t


@bp.get("/dispatch/transfers/<transfer_id>")
@signed_in(*DISPATCHERS)
def transfer_detail(transfer_id: str, account: Account) -> Response:
    """One transfer: its steps with their times and the full EIDO incident."""
    return jsonify(transfer=_view(_transfer(transfer_id), True))


@bp.post("/dispatch/transfers/<transfer_id>/acknowledge")
@signed_in(*DISPATCHERS)
def acknowledge(transfer_id: str, account: Account) -> Response:
    """The dispatcher has the incident. Repeating it changes nothing (200 both times)."""
    _transfer(transfer_id)
    svc = current_services()
    with svc.engine.begin() as conn:
        records.acknowledge(conn, transfer_id, account.login, svc.clock())
    return jsonify(transfer=_view(_transfer(transfer_id), True))
