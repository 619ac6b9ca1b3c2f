"""Open311 GeoReport v2 under /open311/v2/: the city's service requests for apps and partners.

Every resource answers in JSON or XML, by its suffix (``services.json``, ``services.xml``). Errors
use the GeoReport error list (``[{"code": 400, "description": "..."}]``, or
``<errors><error>...``) with the matching HTTP status; bad input never yields a 500.

Reading is open. Creating a request needs an API key: the keys come from the environment
(``IVR_OPEN311_API_KEYS``, comma-separated) when the blueprint is registered, and an app may set
``app.config["OPEN311_API_KEYS"]`` instead. Published requests never carry the requester's name,
phone number or email.

Requests are kept in this center's own database. Forwarding them to a city's existing Open311
server is not done yet; its place is after the commit in `post_request` (an RQ job that posts the
request with the service's ``external_code`` and records the city's id).
"""

from __future__ import annotations

import hmac
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import wraps
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ivr.platform.db import transaction
from ivr.service_requests.fields import RequestError, UnknownService
from ivr.service_requests.forwarding import forward_of
from ivr.service_requests.models import ServiceRequest, ServiceType, utc
from ivr.service_requests.service import (
    STATUSES,
    create_request,
    get_by_token,
    get_request,
    search_requests,
    service_notice,
)
from ivr.service_requests.service_types import get_service, list_services

log = logging.getLogger("ivr.open311")

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-22T00:00:00Z"
FORMATS = {"json": "application/json", "xml": "text/xml"}
MAX_RESULTS = 1000
# The spec's guidance: a query without dates covers the last 90 days, and no query spans more.
WINDOW = timedelta(days=90)
# Domain field names -> the Open311 parameter a client sent.
PARAMETERS = {"address": "address_string", "callback_number": "phone"}
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
_SPACED_OFFSET = re.compile(r" (\d{2}(:?\d{2})?)$")


class ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _read_keys(state: Any) -> None:
    state.app.config.setdefault("OPEN311_API_KEYS", os.environ.get("IVR_OPEN311_API_KEYS", ""))


bp.record_once(_read_keys)


def api_keys() -> frozenset[str]:
    """The keys that may create requests: ``app.config["OPEN311_API_KEYS"]`` (a comma-separated
    string or a list), read from ``IVR_OPEN311_API_KEYS`` at registration unless the app set it."""
    keys = current_app.config.get("OPEN311_API_KEYS") or ()
    if isinstance(keys, str):
        keys = keys.split(",")
    return frozenset(k.strip() for k in keys if k and k.strip())


def _services() -> Any:
    return current_app.extensions["ivr"]


def _options() -> Mapping[str, Any]:
    return _services().settings.raw.get("open311") or {}


def _timezone() -> tzinfo:
    try:
        return ZoneInfo(_services().settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


# -- rendering -----------------------------------------------------------------------------------

def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, bool):
        node.text = "true" if value else "false"
    elif isinstance(value, dict):
        for key, item in value.items():
            _xml_value(node, key, item)
    elif isinstance(value, list):
        child = {"values": "value", "endpoints": "endpoint", "formats": "format",
                 "attributes": "attribute"}.get(name, "item")
        for item in value:
            _xml_value(node, child, item)
    elif value is not None:
        node.text = str(value)


def render(fmt: str, payload: Any, root: str, item: str, status: int = 200) -> Response:
    """`payload` as JSON, or as XML under <root>, each list item an <item> element."""
    if fmt == "json":
        response = current_app.json.response(payload)
        response.status_code = status
        return response
    top = ET.Element(root)
    for entry in payload if isinstance(payload, list) else [payload]:
        node = ET.SubElement(top, item) if isinstance(payload, list) else top
        for key, value in entry.items():
            _xml_value(node, key, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
    return Response(body, status=status, mimetype="text/xml")


def render_error(fmt: str, status: int, description: str) -> Response:
    return render(fmt if fmt in FORMATS else "json", [{"code": status, "description": description}],
                  "errors", "error", status)


def open311(view: Callable[..., Response]) -> Callable[..., Response]:
    """Check the format suffix and turn every failure into a GeoReport error list."""

    @wraps(view)
    def wrapper(*args: Any, fmt: str, **kwargs: Any) -> Response:
        if fmt not in FORMATS:
            return render_error("json", 400, f"format {fmt!r} is not served: use .json or .xml")
        try:
            return view(*args, fmt=fmt, **kwargs)
        except ApiError as exc:
            return render_error(fmt, exc.status, exc.description)
        except UnknownService as exc:
            return render_error(fmt, 404, str(exc))
        except RequestError as exc:
            return render_error(fmt, 400, f"{PARAMETERS.get(exc.field, exc.field)}: {exc.message}")
        except HTTPException as exc:
            return render_error(fmt, exc.code or 400, exc.description or exc.name)
        except Exception:
            log.exception("open311 %s %s failed", request.method, request.path)
            return render_error(fmt, 500, "the server failed to answer; please try again later")

    return wrapper


def iso(moment: datetime | None, tz: tzinfo) -> str | None:
    return utc(moment).astimezone(tz).isoformat(timespec="seconds") if moment else None


def service_entry(service: ServiceType) -> dict[str, Any]:
    return {
        "service_code": service.code, "service_name": service.name,
        "description": service.description, "metadata": service.has_metadata,
        "type": service.type, "keywords": ", ".join(service.keywords or ()) or None,
        "group": service.group,
    }


def definition_entry(service: ServiceType) -> dict[str, Any]:
    attributes = []
    for question in service.questions():
        entry = question.to_dict()
        entry["values"] = entry.get("values", [])
        attributes.append(entry)
    return {"service_code": service.code, "attributes": attributes}


def request_entry(found: ServiceRequest, tz: tzinfo) -> dict[str, Any]:
    """The public view of a request: no name, phone number or email."""
    return {
        "service_request_id": found.number, "status": found.status,
        "status_notes": found.status_notes, "service_name": found.service.name,
        "service_code": found.service_code, "description": found.description or None,
        "agency_responsible": found.agency, "service_notice": service_notice(found, tz),
        "requested_datetime": iso(found.requested_at, tz),
        "updated_datetime": iso(found.updated_at, tz),
        "expected_datetime": iso(found.expected_at, tz),
        "address": found.address, "address_id": found.address_id, "zipcode": found.zipcode,
        "lat": found.lat, "long": found.long, "media_url": found.media_url,
    }


# -- reading parameters --------------------------------------------------------------------------

def _check_jurisdiction(params: Mapping[str, Any]) -> None:
    ours = _options().get("jurisdiction_id")
    theirs = str(params.get("jurisdiction_id") or "").strip()
    if ours and theirs and theirs != str(ours):
        raise ApiError(404, f"jurisdiction_id {theirs!r} is not served here")


def _list(value: str | None) -> list[str] | None:
    if value is None or not value.strip():
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_datetime(value: str, name: str, tz: tzinfo) -> datetime:
    """A W3C/ISO 8601 date or date-time; naive ones are in the center's time zone.

    A '+' offset sent unencoded in a query string arrives as a space, and is read as '+'.
    """
    text = value.strip()
    for candidate in (text, _SPACED_OFFSET.sub(r"+\1", text)):
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment
    raise ApiError(400, f"{name}: {value!r} is not a W3C date-time such as "
                        f"2026-03-01T00:00:00-05:00")


def request_window(params: Mapping[str, Any], now: datetime,
                   tz: tzinfo) -> tuple[datetime, datetime]:
    """The span a GET requests query covers: given dates, else the 90 days the spec suggests."""
    start = parse_datetime(params["start_date"], "start_date", tz) \
        if params.get("start_date") else None
    end = parse_datetime(params["end_date"], "end_date", tz) if params.get("end_date") else None
    try:
        # In UTC before any arithmetic: 90 days added to a local time across a DST change is
        # 90 days and an hour, which the check below would refuse.
        start, end = (utc(start) if start else None), (utc(end) if end else None)
        if start is None and end is None:
            end = utc(now)
        if start is None:
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
    except OverflowError:
        raise ApiError(400, "start_date or end_date is out of range") from None
    if start > end:
        raise ApiError(400, "start_date is after end_date")
    if end - start > WINDOW:
        raise ApiError(400, f"start_date and end_date may span at most {WINDOW.days} days")
    return start, end


def _body() -> MultiDict[str, Any]:
    """The POST parameters: a form (the spec), or a JSON object; query parameters also count."""
    params: MultiDict[str, Any] = MultiDict(request.args)
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ApiError(400, "the JSON body must be an object of parameters")
        for key, value in data.items():
            if key == "attribute" and isinstance(value, dict):
                for code, answer in value.items():
                    params.setlist(f"attribute[{code}]",
                                   answer if isinstance(answer, list) else [answer])
            else:
                params.setlist(key, value if isinstance(value, list) else [value])
        return params
    mimetype = request.mimetype
    if request.content_length and mimetype not in ("application/x-www-form-urlencoded",
                                                   "multipart/form-data"):
        raise ApiError(415, f"a POST body of type {mimetype or 'unknown'} is not read: send "
                            "application/x-www-form-urlencoded or application/json")
    for key in request.form:
        params.setlist(key, request.form.getlist(key))
    return params


def _text(params: MultiDict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise ApiError(400, f"{name} must be a single value")
    return str(value)


def _answers(params: MultiDict[str, Any]) -> dict[str, list[Any]]:
    answers: dict[str, list[Any]] = {}
    for key in params:
        match = _ATTRIBUTE.match(key)
        if match:
            answers.setdefault(match.group(1), []).extend(params.getlist(key))
    return answers


def _key_ok(given: str | None) -> bool:
    keys = api_keys()
    if not given or not keys:
        return False
    return any(hmac.compare_digest(given.encode(), key.encode()) for key in keys)


# -- resources -----------------------------------------------------------------------------------

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def advertised_base(public_url: str) -> str:
    """Where clients reach this API: the configured public URL, except the local default
    (a loopback address, as in config.yaml), which names no port a server chose (``ivr serve
    --port``): there, the address this request came to."""
    if (urlsplit(public_url).hostname in LOOPBACK
            and urlsplit(request.host_url).hostname in LOOPBACK):
        return request.host_url.rstrip("/")
    return public_url


@bp.get("/discovery.<fmt>")
@open311
def discovery(fmt: str) -> Response:
    options = _options()
    base = advertised_base(_services().settings.public_url) + bp.url_prefix
    return render(fmt, {
        "changeset": CHANGESET,
        "contact": options.get("contact") or "311 contact center",
        "key_service": options.get("key_service") or "API keys are issued by the 311 center.",
        "endpoints": [{"specification": SPECIFICATION, "url": base, "changeset": CHANGESET,
                       "type": "production", "formats": list(FORMATS.values())}],
    }, "discovery", "discovery")


@bp.get("/services.<fmt>")
@open311
def services(fmt: str) -> Response:
    _check_jurisdiction(request.args)
    with transaction(_services().sessions) as session:
        entries = [service_entry(s) for s in list_services(session)]
    return render(fmt, entries, "services", "service")


@bp.get("/services/<code>.<fmt>")
@open311
def service_definition(code: str, fmt: str) -> Response:
    _check_jurisdiction(request.args)
    with transaction(_services().sessions) as session:
        service = get_service(session, code)
        if service is None:
            raise ApiError(404, f"there is no service {code!r}")
        entry = definition_entry(service)
    return render(fmt, entry, "service_definition", "service_definition")


@bp.get("/requests.<fmt>")
@open311
def get_requests(fmt: str) -> Response:
    params = request.args
    _check_jurisdiction(params)
    svc, tz = _services(), _timezone()
    numbers = _list(params.get("service_request_id"))
    with transaction(svc.sessions) as session:
        if numbers is not None:  # the spec: service_request_id overrides every other filter
            found = search_requests(session, numbers=numbers[:MAX_RESULTS], limit=MAX_RESULTS)
        else:
            statuses = _list(params.get("status"))
            if statuses is not None and not set(statuses) <= set(STATUSES):
                raise ApiError(400, "status must be open, closed or open,closed")
            start, end = request_window(params, svc.clock(), tz)
            found = search_requests(session, service_codes=_list(params.get("service_code")),
                                    statuses=statuses, start=start, end=end, limit=MAX_RESULTS)
        entries = [request_entry(r, tz) for r in found]
    return render(fmt, entries, "service_requests", "request")


@bp.post("/requests.<fmt>")
@open311
def post_request(fmt: str) -> Response:
    params = _body()
    if not _key_ok(_text(params, "api_key")):
        raise ApiError(403, "api_key is missing or not valid")
    _check_jurisdiction(params)
    code = (_text(params, "service_code") or "").strip()
    if not code:
        raise ApiError(400, "service_code is required")
    if not (_text(params, "lat") or _text(params, "long") or _text(params, "address_string")
            or _text(params, "address_id")):
        raise ApiError(400, "a location is required: lat and long, address_string or address_id")
    svc, tz = _services(), _timezone()
    with transaction(svc.sessions) as session:
        made = create_request(
            session, service_code=code, at=svc.clock(), channel="api", author="open311",
            description=_text(params, "description"), address=_text(params, "address_string"),
            address_id=_text(params, "address_id"), lat=_text(params, "lat"),
            long=_text(params, "long"), callback_number=_text(params, "phone"),
            first_name=_text(params, "first_name"), last_name=_text(params, "last_name"),
            email=_text(params, "email"), media_url=_text(params, "media_url"),
            attributes=_answers(params), region=svc.settings.default_region, tz=tz,
            forward=forward_of(svc.settings),
        )
        entry = {"service_request_id": made.number, "token": made.token,
                 "service_notice": service_notice(made, tz), "account_id": None}
    return render(fmt, [entry], "service_requests", "request", status=201)


@bp.get("/requests/<number>.<fmt>")
@open311
def get_one_request(number: str, fmt: str) -> Response:
    _check_jurisdiction(request.args)
    tz = _timezone()
    with transaction(_services().sessions) as session:
        found = get_request(session, number)
        if found is None:
            raise ApiError(404, f"there is no service request {number!r}")
        entry = request_entry(found, tz)
    return render(fmt, [entry], "service_requests", "request")


@bp.get("/tokens/<token>.<fmt>")
@open311
def get_token(token: str, fmt: str) -> Response:
    _check_jurisdiction(request.args)
    with transaction(_services().sessions) as session:
        found = get_by_token(session, token)
        if found is None:
            raise ApiError(404, f"there is no request for token {token!r}")
        entry = {"service_request_id": found.number, "token": found.token}
    return render(fmt, [entry], "service_requests", "request")


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Anything else under /open311/v2/: a GeoReport error rather than the app's HTML page."""
    fmt = "xml" if rest.endswith(".xml") else "json"
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in _other_methods(request.method):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "open311.unknown":
            allowed += [method, "HEAD"] if method == "GET" else [method]
    if allowed:
        refused = render_error(fmt, 405, f"{request.method} is not allowed on {request.path}")
        refused.headers["Allow"] = ", ".join(allowed)
        return refused
    return render_error(fmt, 404, f"there is no Open311 resource at {request.path}")


def _other_methods(method: str) -> Iterable[str]:
    return [m for m in ("GET", "POST") if m != method]
