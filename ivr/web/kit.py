"""What every web face shares, so no face reaches into another: the app's services and console
options, the JSON API's blueprint (under ``/api/v1``, the session's CSRF check, the JSON answer
to each refusal the rooms below raise), the role check of a signed-in account, reading a
request's JSON, and the headers and refusal page of the HTML pages.

Sign-in itself is `ivr.web.auth`, the CSRF token `ivr.web.csrf`, the error shape
`ivr.web.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from agents import TelephonyError
from agents.model import AgentError, OfferClosed, TransitionRefused
from ivr.connect.actions import NotConnected
from ivr.platform.stores import store_unreachable
from ivr.services import Services
from ivr.web import csrf
from ivr.web.auth import request_db, require
from ivr.web.console_options import ConsoleOptions, console_options
from ivr.web.errors import ApiError, error_response

API_PREFIX = "/api/v1"

OFFER_ERRORS = {  # OfferClosed.reason -> (status, code)
    "missing": (409, "offer_closed"),
    "late": (409, "offer_expired"),
    "not_yours": (403, "not_your_offer"),
    "caller_gone": (409, "caller_gone"),
}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self' data: blob: https://*.twilio.com; "
       "connect-src 'self' https://*.twilio.com wss://*.twilio.com; "
       "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
NO_SECRET = "Sign-in is unavailable: IVR_SECRET_KEY is not set on the server."


def current_services() -> Services:
    return current_app.extensions["ivr"]  # type: ignore[no-any-return]


def current_options() -> ConsoleOptions:
    return console_options(current_services().settings)


def signed_in(*roles: str) -> Any:
    """Decorator of an API view: a signed-in account with one of `roles` (any account when
    none is named), passed as ``account``; else 401 or 403 in the API's error shape."""
    return require(*roles, db=request_db)


# -- the JSON API --------------------------------------------------------------------------------

def api_blueprint(name: str, url_prefix: str = API_PREFIX) -> Blueprint:
    """A blueprint of the JSON API: every state-changing request carries the session's CSRF
    token, and every refusal is ``{"error": {"code", "message"}}`` with a precise status."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    bp.before_request(refuse_nul)
    csrf.protect(bp, csrf.refused_json)
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(TransitionRefused, _refused)
    bp.register_error_handler(OfferClosed, _offer_closed)
    bp.register_error_handler(NotConnected, _not_connected)
    bp.register_error_handler(AgentError, _agent_error)
    bp.register_error_handler(TelephonyError, _network)
    return bp


def holds_nul(value: Any) -> bool:
    """Whether a JSON value holds NUL (U+0000) in any string, key or item, however deep."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def refuse_nul() -> None:
    """No text of a request may hold NUL: PostgreSQL cannot store it, so it would fail as a
    500 deep in an SQL write (SQLite takes it). Refused at the door, on every backend alike,
    with the part of the request that held it."""
    args = request.args.items(multi=True)
    where = ("path" if "\x00" in request.path
             else "query" if any("\x00" in k + v for k, v in args)
             else "body" if request.is_json and holds_nul(request.get_json(silent=True))
             else None)
    if where is not None:
        raise ApiError(400, "bad_request", f"the request's {where} holds a NUL character")


def _api_error(exc: ApiError) -> Response:
    return exc.response()


def _refused(exc: TransitionRefused) -> Response:
    return error_response(409, "state_refused", str(exc), state=exc.state.value)


def _offer_closed(exc: OfferClosed) -> Response:
    status, code = OFFER_ERRORS.get(exc.reason, (409, "offer_closed"))
    return error_response(status, code, str(exc))


def _not_connected(exc: NotConnected) -> Response:
    return error_response(409, "not_connected", str(exc))


def _agent_error(exc: AgentError) -> Response:
    return error_response(409, "refused", str(exc))


def _network(exc: TelephonyError) -> Response:
    return error_response(502, "phone_network_failed", f"the phone network refused: {exc}")


def body(required: bool = False) -> dict[str, Any]:
    """The request's JSON object; {} when there is none (unless `required`); 400 when the
    body is JSON but not an object."""
    data = request.get_json(silent=True)
    if data is None and not required:
        return {}
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "send a JSON object")
    return data


def text(data: dict[str, Any], name: str, limit: int, required: bool = True) -> str:
    """A string field of a JSON body, stripped; 400 naming the field when it is not a string,
    missing (if `required`) or longer than `limit`."""
    value = data.get(name, "")
    if not isinstance(value, str):
        raise ApiError(400, "bad_request", f"{name} must be a string")
    value = value.strip()
    if required and not value:
        raise ApiError(400, "bad_request", f"{name} is required")
    if len(value) > limit:
        raise ApiError(400, "bad_request", f"{name}: at most {limit} characters")
    return value


# -- every answer ----------------------------------------------------------------------------

HSTS = "max-age=31536000; includeSubDomains"


def app_headers(https: bool) -> Callable[[Response], Response]:
    """An `after_request` hook for the whole app: JSON answers (the API, Open311, errors) are
    never cached nor sniffed as another type, and over a public https URL browsers are told
    to come back only over https (HSTS)."""

    def add(response: Response) -> Response:
        if response.mimetype == "application/json" or response.mimetype.endswith("+json"):
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return add


def api_http_error(exc: HTTPException) -> Any:
    """A 404 or 405 under /api/v1 is answered in the API's JSON error shape (with its Allow
    header), not as Flask's HTML page; elsewhere Flask's own answer stands."""
    if not request.path.startswith(API_PREFIX + "/") and request.path != API_PREFIX:
        return exc
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.code or 0, "bad_request")
    response = error_response(exc.code or 400, code, exc.description or code)
    for name, value in exc.get_headers():
        if name.lower() == "allow":
            response.headers["Allow"] = value
    return response


def store_unavailable(exc: Exception) -> Any:
    """Redis or the SQL database could not be reached (restarting): 503 with Retry-After, in
    the API's JSON shape under /api/v1, so a console retries instead of showing a failure.
    Anything else is Flask's 500, as before."""
    if not store_unreachable(exc):
        raise exc
    if request.path.startswith(API_PREFIX + "/"):
        response = error_response(503, "unavailable", "the center's data store is restarting; "
                                  "try again in a moment")
    else:
        response = Response("The center is restarting a part; this page will be back in a "
                            "moment.", 503, mimetype="text/plain")
    response.headers["Retry-After"] = "2"
    return response


# -- the pages -----------------------------------------------------------------------------------

def security_headers(response: Response) -> Response:
    """The headers of every console page: a strict Content-Security-Policy (scripts and styles
    only from this server, network only to it and Twilio's voice endpoints, no framing)."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def page_blueprint(name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint of HTML pages, with their headers."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    bp.after_request(security_headers)
    return bp


def to_login() -> Response:
    """Where a page sends a browser that is not signed in (every page blueprint's `require`)."""
    return redirect(url_for("console.login"))  # type: ignore[return-value]


def refused_page(exc: ApiError, back: str | None = None) -> tuple[str, int]:
    """A page's answer to a refusal: the sentence, on the console's page for it."""
    message = NO_SECRET if exc.code == "no_secret_key" else exc.message
    return render_template("console/unavailable.html", message=message, back=back), exc.status
