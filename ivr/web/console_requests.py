"""The call-takers' service-request form: JSON API under /api/v1 (openapi/console.yaml).

During a call (or its wrap-up) a call-taker makes and corrects service requests for the caller,
sees what the phone flow collected before the call reached them, and the caller's earlier
requests. Every request made or changed here is linked to the call (`ivr.service_requests.links`).

Same rules as the rest of the console API: the console's signed-in session, the CSRF token in
``X-CSRF-Token`` on every change, call-takers act on the call offered to or taken by them only
(supervisors on any call), errors ``{"error": {"code", "message"}}`` with a precise 4xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.model import State
from ivr.accounts.accounts import Account
from ivr.calls import callview
from ivr.calls.models import Call, CallEvent
from ivr.platform.db import transaction
from ivr.service_requests.fields import RequestError, RequestNotFound, UnknownService
from ivr.service_requests.forwarding import forward_of
from ivr.service_requests.links import link, requests_of_call
from ivr.service_requests.models import ServiceRequest, ServiceType, utc
from ivr.service_requests.service import (
    add_note,
    amend_request,
    create_request,
    get_request,
    requests_for_caller,
    update_status,
)
from ivr.service_requests.service_types import list_services
from ivr.web.auth import SEES_FLOOR, TAKES_CALLS
from ivr.web.calltaker import presence_of
from ivr.web.errors import ApiError, error_response, json_fields
from ivr.web.kit import api_blueprint, current_services, signed_in

bp = api_blueprint("console_requests")

# Flow vars worth showing a call-taker: what the phone collected before they answered.
COLLECTED = ("topic", "service", "request_number", "callback_number", "address_recording",
             "answer_position", "answer_problem", "answer_how_many", "answer_missed",
             "answer_on_time", "filed_number")
EARLIER_REQUESTS = 20
_CREATE_FIELDS = {"service_code", "attributes", "description", "address", "lat", "long",
                  "callback_number", "note"}
_CHANGE_FIELDS = {"service_code", "attributes", "description", "address", "lat", "long",
                  "status", "status_notes", "note"}


@bp.errorhandler(UnknownService)
def _unknown_service(exc: UnknownService) -> Response:
    return error_response(400, "unknown_service", exc.message, field=exc.field)


@bp.errorhandler(RequestError)
def _invalid(exc: RequestError) -> Response:
    return error_response(400, "invalid_request", f"{exc.field}: {exc.message}", field=exc.field)


@bp.errorhandler(RequestNotFound)
def _not_found(exc: RequestNotFound) -> Response:
    return error_response(404, "unknown_request", str(exc))


def _body(allowed: set[str]) -> dict[str, Any]:
    data = json_fields(allowed)
    for name, value in data.items():
        if name == "attributes":
            if not isinstance(value, dict):
                raise ApiError(400, "bad_request", "attributes must be an object")
        elif name in ("lat", "long"):
            if value is not None and not isinstance(value, int | float | str):
                raise ApiError(400, "bad_request", f"{name} must be a number")
        elif value is not None and not isinstance(value, str):
            raise ApiError(400, "bad_request", f"{name} must be a string")
    return data


def _own_call(account: Account, sid: str) -> None:
    """A call-taker may work on the call offered to them or the call they took last."""
    if account.has_role(*SEES_FLOOR):
        return
    svc = current_services()
    presence = presence_of(account)
    offered = None
    if presence.state == State.RESERVED and presence.reservation_id:
        reservation = svc.router.reservations.get(presence.reservation_id)
        offered = reservation.call_id if reservation else None
    last = callview.LastCalls(svc.redis, svc.settings.center).get(account.login)
    if sid not in (offered, last):
        raise ApiError(403, "not_your_call", f"call {sid} is not offered to or taken by "
                       f"{account.login}")


def _call(session: Session, sid: str) -> Call:
    found = session.get(Call, sid)
    if found is None:
        raise ApiError(404, "unknown_call", f"no call {sid}")
    return found


def _zone() -> ZoneInfo:
    try:
        return ZoneInfo(current_services().settings.timezone)
    except Exception:  # a bad timezone in config must not take the form down
        return ZoneInfo("UTC")


def request_view(found: ServiceRequest, links: list[str] | None = None) -> dict[str, Any]:
    """A request as the form shows it (the callback number included: call-takers may see it)."""
    def when(value: Any) -> str | None:
        return utc(value).isoformat() if value is not None else None

    return {
        "number": found.number, "service_code": found.service_code,
        "service_name": found.service.name if found.service else found.service_code,
        "status": found.status, "status_notes": found.status_notes,
        "description": found.description, "address": found.address,
        "address_audio_url": found.address_audio_url, "lat": found.lat, "long": found.long,
        "callback_number": found.callback_number, "attributes": dict(found.attributes or {}),
        "agency": found.agency, "channel": found.channel, "call": found.call_sid,
        "requested_at": when(found.requested_at), "updated_at": when(found.updated_at),
        "expected_at": when(found.expected_at),
        "history": [{"at": when(n.at), "kind": n.kind, "status": n.status, "text": n.text,
                     "by": n.author, "public": n.public} for n in found.notes],
        "links": links or [],
    }


def service_view(service: ServiceType) -> dict[str, Any]:
    return {
        "code": service.code, "name": service.name, "group": service.group,
        "questions": [{"code": q.code, "datatype": q.datatype, "required": q.required,
                       "variable": q.variable, "description": q.description,
                       "values": [{"key": c.key, "name": c.name} for c in q.values]}
                      for q in service.questions()],
    }


@bp.get("/services")
@signed_in(*TAKES_CALLS, *SEES_FLOOR)
def services(account: Account) -> Response:
    """The catalogue the form offers, with each service's questions."""
    with current_services().sessions() as session:
        return jsonify(services=[service_view(s) for s in list_services(session)])


@bp.get("/calls/<sid>/requests")
@signed_in(*TAKES_CALLS, *SEES_FLOOR)
def call_requests(sid: str, account: Account) -> Response:
    """The call's requests (made, asked about or changed on it), the caller's other requests,
    and what the phone flow collected."""
    _own_call(account, sid)
    svc = current_services()
    with svc.sessions() as session:
        call = _call(session, sid)
        linked = requests_of_call(session, sid)
        mine = {r.id for r, _kinds in linked}
        earlier = [r for r in requests_for_caller(session, call.caller,
                                                  region=svc.settings.default_region,
                                                  limit=EARLIER_REQUESTS) if r.id not in mine]
        return jsonify(call=sid, requests=[request_view(r, kinds) for r, kinds in linked],
                       earlier_requests=[request_view(r) for r in earlier],
                       collected=collected_vars(session, sid))


def collected_vars(session: Session, sid: str) -> dict[str, Any]:
    """The flow vars of the call's last time in line, limited to `COLLECTED`."""
    data = session.scalars(select(CallEvent.data).where(
        CallEvent.call_sid == sid, CallEvent.kind == "enqueue").order_by(
        CallEvent.id.desc()).limit(1)).first() or {}
    flow_vars: Mapping[str, Any] = data.get("vars") or {}
    return {k: flow_vars[k] for k in COLLECTED if flow_vars.get(k) not in (None, "")}


@bp.post("/calls/<sid>/requests")
@signed_in(*TAKES_CALLS, *SEES_FLOOR)
def create(sid: str, account: Account) -> Response:
    """Make a request for the caller on this call; linked to it as ``created``."""
    _own_call(account, sid)
    data = _body(_CREATE_FIELDS)
    if not data.get("service_code"):
        raise ApiError(400, "bad_request", "service_code is required")
    svc = current_services()
    now = svc.clock()
    with transaction(svc.sessions) as session:
        _call(session, sid)
        made = create_request(
            session, service_code=data["service_code"], at=now,
            description=data.get("description"), address=data.get("address"),
            lat=data.get("lat"), long=data.get("long"),
            callback_number=data.get("callback_number"), attributes=data.get("attributes"),
            call_sid=sid, channel="console", author=account.login,
            region=svc.settings.default_region, tz=_zone(), forward=forward_of(svc.settings))
        if (data.get("note") or "").strip():
            add_note(session, made, data["note"], at=now, author=account.login)
        link(session, sid, made, "created", at=now, by=account.login)
        response = jsonify(request=request_view(made, ["created"]))
    response.status_code = 201
    return response


@bp.patch("/calls/<sid>/requests/<number>")
@signed_in(*TAKES_CALLS, *SEES_FLOOR)
def change(sid: str, number: str, account: Account) -> Response:
    """Correct a request, change its status (with public notes) or add an internal note,
    during this call; linked to it as ``updated``."""
    _own_call(account, sid)
    data = _body(_CHANGE_FIELDS)
    if not data:
        raise ApiError(400, "bad_request", "nothing to change")
    svc = current_services()
    now = svc.clock()
    with transaction(svc.sessions) as session:
        _call(session, sid)
        found = get_request(session, number)
        if found is None:
            raise RequestNotFound(f"there is no service request {number!r}")
        amend_request(session, found, at=now, author=account.login,
                      service_code=data.get("service_code"), attributes=data.get("attributes"),
                      description=data.get("description"), address=data.get("address"),
                      lat=data.get("lat"), long=data.get("long"))
        if data.get("status"):
            update_status(session, found, data["status"], at=now,
                          notes=data.get("status_notes"), author=account.login)
        elif data.get("status_notes"):
            raise ApiError(400, "bad_request", "status_notes go with a status")
        if (data.get("note") or "").strip():
            add_note(session, found, data["note"], at=now, author=account.login)
        link(session, sid, found, "updated", at=now, by=account.login)
        kinds = next((k for r, k in requests_of_call(session, sid) if r.id == found.id), [])
        return jsonify(request=request_view(found, kinds))
