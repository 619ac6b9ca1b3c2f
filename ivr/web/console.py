"""The call-takers' console: sign-in, sign-out and the page (ivr/templates/console/).

The page itself is static HTML; its script (ivr/static/console/console.js) reads everything
through the JSON API (`ivr.web.console_api`) and the live stream. Sign-in is a plain form (works
without JavaScript, carries the CSRF field), rate-limited per login and address, and answers
the same sentence whether the login exists or not.

Console pages send a strict Content-Security-Policy (`ivr.web.kit.security_headers`): scripts
and styles only from this server (the Voice SDK is served from ivr/static/vendor, no CDN),
network only to this server and Twilio's voice endpoints, no framing.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    redirect,
    render_template,
    request,
    url_for,
)

from agents.model import AgentError, State
from ivr.accounts import accounts
from ivr.accounts.accounts import Account
from ivr.platform.phones import mask
from ivr.services import Services
from ivr.web import csrf
from ivr.web.auth import (
    LoginLimiter,
    client_address,
    configure_cookies,
    current_account,
    require,
    secret_key_set,
    sign_in,
    sign_out,
)
from ivr.web.auth import request_db as _db
from ivr.web.console_options import console_options
from ivr.web.errors import ApiError
from ivr.web.kit import NO_SECRET, current_services, page_blueprint, to_login

log = logging.getLogger("ivr.console")

bp = page_blueprint("console", url_prefix="/console")

WRONG = "Wrong login or password."
DISABLED = "This account is disabled. Ask an admin to enable it."


def _setup(state: Any) -> None:
    services: Services = state.app.extensions["ivr"]
    options = console_options(services.settings)
    configure_cookies(state.app, options.secure_cookies, options.session_idle,
                      options.session_max_age)


bp.record_once(_setup)


def _login_page(message: str = "", status: int = 200, login: str = "") -> tuple[str, int]:
    return render_template("console/login.html", message=message, login=login,
                           csrf_token=csrf.token()), status


def _csrf_refused() -> Any:
    if not secret_key_set():
        return _no_secret()
    return _login_page("Your sign-in form expired. Please try again.", 400)


def _no_secret() -> tuple[str, int]:
    return render_template("console/unavailable.html", message=NO_SECRET), 503


csrf.protect(bp, _csrf_refused)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    if exc.code == "no_secret_key":
        return _no_secret()
    if exc.status == 403:
        return render_template("console/unavailable.html", message=exc.message), 403
    return exc.response()


@bp.get("/")
@require(db=_db, on_missing=to_login)
def page(account: Account) -> Any:
    if list(account.roles) == ["dispatcher"]:
        return redirect(url_for("dispatch_inbox.inbox"))  # a dispatcher's desk is the inbox
    return render_template("console/console.html", account=account, csrf_token=csrf.token())


@bp.get("/login")
def login() -> Any:
    if not secret_key_set():
        return _no_secret()
    if current_account(_db()) is not None:
        return redirect(url_for("console.page"))
    return _login_page("You are signed out." if request.args.get("out") else "")


@bp.post("/login")
def login_post() -> Any:
    if not secret_key_set():
        return _no_secret()
    svc = current_services()
    options = console_options(svc.settings)
    name = request.form.get("login", "").strip()[:64]
    password = request.form.get("password", "")
    limiter = LoginLimiter(svc.redis, svc.settings.center, options.login_max_failures,
                           options.login_window_seconds, options.address_max_failures)
    address = client_address()
    if limiter.blocked(name, address):
        return _login_page("Too many failed sign-ins. Wait a few minutes and try again.",
                           429, name)
    account = accounts.authenticate(_db(), name, password)
    if account is None:
        count = limiter.failed(name, address)
        log.info("failed sign-in %d for a login from %s", count,
                 mask(address, svc.settings.log_key))
        if accounts.disabled_with(_db(), name, password):
            return _login_page(DISABLED, 403, name)
        return _login_page(WRONG, 401, name)
    limiter.succeeded(name, address)
    sign_in(_db(), account)
    _db().commit()
    log.info("%s signed in", account.login)
    return redirect(landing_of(account))


def landing_of(account: Account) -> str:
    """Where a sign-in lands: a call-taker's desk is the console (a dispatcher's, the inbox, by
    way of the console); anyone else starts on the landing page, which lists their pages."""
    if account.has_role("call-taker") or list(account.roles) == ["dispatcher"]:
        return url_for("console.page")
    return url_for("home.page")


@bp.post("/logout")
def logout() -> Any:
    """Sign out. A call-taker is also logged out of the queues, so no offer rings at an empty
    desk; not while a call is offered or on, which must be settled first."""
    if not secret_key_set():
        return _no_secret()
    account = current_account(_db())
    if account is not None:
        svc = current_services()
        presence = svc.agents.get(account.login)
        if presence is not None and presence.state in (State.RESERVED, State.ON_CALL):
            message = ("You have a call offered: accept or reject it before signing out."
                       if presence.state == State.RESERVED
                       else "You are on a call: end it before signing out.")
            return render_template("console/unavailable.html", message=message,
                                   back=url_for("console.page")), 409
        if presence is not None and presence.state != State.OFFLINE:
            try:
                svc.agents.logout(account.login, svc.clock().timestamp())
            except AgentError:
                log.warning("could not log %s out of the queues", account.login)
        log.info("%s signed out", account.login)
    sign_out(_db())
    _db().commit()
    return redirect(url_for("console.login", out=1))
