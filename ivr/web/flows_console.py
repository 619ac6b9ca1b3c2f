"""The supervisors' flow pages: the list of flows and lines, and the flow editor.

The pages are static HTML; their script (ivr/static/flows/editor.js) does everything through the
JSON API of `ivr.web.flows_api`. Same sign-in, CSRF and Content-Security-Policy as the call-takers'
console (no inline script or style, nothing from another origin). Anyone signed in without the
supervisor or admin role is refused, and the refusal is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import render_template

from ivr.accounts.accounts import Account
from ivr.flows.versions import versions_of
from ivr.web import csrf
from ivr.web.auth import EDITS_FLOWS, require
from ivr.web.auth import request_db as _db
from ivr.web.errors import ApiError
from ivr.web.kit import current_services, page_blueprint, refused_page, to_login

bp = page_blueprint("flows_console", url_prefix="/console/flows")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    return refused_page(exc)



def _supervisor(account: Account, what: str) -> None:
    if not account.has_role(*EDITS_FLOWS):
        versions_of(current_services()).refused(
            what, account.login, "open-editor",
            f"needs the role supervisor or admin; has {', '.join(account.roles)}")
        raise ApiError(403, "forbidden", "Only supervisors and admins edit call flows.")


def supervisor_page(subject: Callable[[dict[str, Any]], str]) -> Callable[..., Any]:
    """Decorator of a page: signed in (else the login form), then supervisor or admin (else
    refused and audited against `subject(view's keyword arguments)`)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @require(db=_db, on_missing=to_login)
        @wraps(view)
        def wrapper(*args: Any, account: Account, **kwargs: Any) -> Any:
            _supervisor(account, subject(kwargs))
            return view(*args, account=account, **kwargs)

        wrapper.ivr_roles = EDITS_FLOWS  # type: ignore[attr-defined]  # the route table
        return wrapper

    return decorate


@bp.get("/")
@supervisor_page(lambda _kwargs: "flows")
def flows_page(account: Account) -> Any:
    return render_template("flows/list.html", account=account, csrf_token=csrf.token())


@bp.get("/<name>")
@supervisor_page(lambda kwargs: f"flow:{kwargs['name']}")
def editor_page(name: str, account: Account) -> Any:
    svc = current_services()
    versions = versions_of(svc)
    versions.ensure_shipped()
    if name not in versions.names():
        raise ApiError(404, "not_found", f"There is no flow '{name}'.")
    return render_template("flows/editor.html", account=account, csrf_token=csrf.token(),
                           flow=name, timezone=svc.settings.timezone)
