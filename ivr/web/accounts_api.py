"""Accounts over the JSON API (/api/v1/accounts) for the admin page (`ivr.web.admin`).

The same store and checks as `ivr agents ...` (`ivr.accounts`). Admins manage every account;
supervisors read the list and change call-takers' skills (who takes Spanish calls today is a
floor decision), nothing else. An admin cannot disable or demote their own account, so a center
is never left with nobody able to manage it by a slip of the mouse. Every change is logged with
who made it; passwords never leave the server and are never logged.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify

from ivr.accounts import accounts, sessions
from ivr.accounts.accounts import Account, AccountError
from ivr.web.auth import SEES_FLOOR, require, wall_clock
from ivr.web.auth import request_db as _db
from ivr.web.errors import ApiError, error_response, json_fields
from ivr.web.kit import api_blueprint, current_services

log = logging.getLogger("ivr.accounts")

bp = api_blueprint("accounts_api", url_prefix="/api/v1/accounts")

ADMIN = ("admin",)
FIELDS = {"login", "name", "password", "roles", "skills", "contact"}


@bp.errorhandler(AccountError)
def _account_error(exc: AccountError) -> Response:
    return error_response(400, "invalid", str(exc))


def _body(allowed: set[str]) -> dict[str, Any]:
    data = json_fields(allowed)
    for name in ("login", "name", "password", "contact"):
        if name in data and not isinstance(data[name], str):
            raise ApiError(400, "bad_request", f"{name} must be a string")
    for name in ("roles", "skills"):
        if name in data and not (isinstance(data[name], list)
                                 and all(isinstance(x, str) for x in data[name])):
            raise ApiError(400, "bad_request", f"{name} must be a list of strings")
    return data


def _found(login: str) -> Account:
    account = accounts.get(_db(), login)
    if account is None:
        raise ApiError(404, "no_such_account", f"no account {login!r}")
    return account


def _region() -> str:
    return current_services().settings.default_region


def _saved(account: Account, status: int = 200) -> Response:
    _db().commit()
    response = jsonify(account.as_dict())
    response.status_code = status
    return response


@bp.get("")
@require(*SEES_FLOOR, db=_db)
def list_accounts(account: Account) -> Response:
    return jsonify(accounts=[a.as_dict() for a in accounts.all_accounts(_db())])


@bp.post("")
@require(*ADMIN, db=_db)
def create(account: Account) -> Response:
    data = _body(FIELDS)
    for name in ("login", "name", "password", "roles"):
        if name not in data:
            raise ApiError(400, "bad_request", f"{name} is required")
    if accounts.get(_db(), data["login"]) is not None:
        raise ApiError(409, "login_taken", f"login {data['login'].strip().lower()!r} is taken")
    made = accounts.create(
        _db(), login=data["login"], name=data["name"], password=data["password"],
        roles=data["roles"], skills=data.get("skills", []), contact=data.get("contact") or None,
        now=current_services().clock(), region=_region())
    log.info("account %s created by %s (roles %s)", made.login, account.login,
             ",".join(made.roles))
    return _saved(made, 201)


@bp.get("/<login>")
@require(*SEES_FLOOR, db=_db)
def show(login: str, account: Account) -> Response:
    return jsonify(_found(login).as_dict())


@bp.patch("/<login>")
@require(*SEES_FLOOR, db=_db)
def change(login: str, account: Account) -> Response:
    target = _found(login)
    data = _body(FIELDS - {"login"})
    supervisor_may = (not set(data) - {"skills"} and "call-taker" in target.roles
                      and not target.has_role(*ADMIN))
    if not account.has_role(*ADMIN) and not supervisor_may:
        raise ApiError(403, "forbidden", "a supervisor may change only call-takers' skills")
    if target.login == account.login and "roles" in data and "admin" not in data["roles"]:
        raise ApiError(409, "own_account", "you cannot take the admin role from yourself")
    changed = accounts.update(
        _db(), target.login, now=current_services().clock(), region=_region(),
        name=data.get("name"), password=data.get("password"), roles=data.get("roles"),
        skills=data.get("skills"), contact=data.get("contact"))
    log.info("account %s changed by %s: %s", changed.login, account.login,
             ", ".join(sorted(data)))
    return _saved(changed)


def _set_active(login: str, account: Account, active: bool) -> Response:
    target = _found(login)
    if target.login == account.login and not active:
        raise ApiError(409, "own_account", "you cannot disable your own account")
    changed = accounts.update(_db(), target.login, now=current_services().clock(),
                              active=active)
    log.info("account %s %s by %s", changed.login, "enabled" if active else "disabled",
             account.login)
    return _saved(changed)


@bp.post("/<login>/disable")
@require(*ADMIN, db=_db)
def disable(login: str, account: Account) -> Response:
    """Sign-in refused at once, open sessions end, and the worker's next tick logs the
    call-taker out of the floor (`ivr.accounts.roster`)."""
    return _set_active(login, account, False)


@bp.post("/<login>/enable")
@require(*ADMIN, db=_db)
def enable(login: str, account: Account) -> Response:
    return _set_active(login, account, True)


@bp.post("/<login>/sign-out")
@require(*ADMIN, db=_db)
def sign_out_everywhere(login: str, account: Account) -> Response:
    """End every web session of the account, wherever it was opened (a lost laptop, a shared
    desk); the account stays enabled and may sign in again."""
    target = _found(login)
    ended = sessions.revoke_all(_db(), target.id, wall_clock(), "signed-out-by-admin")
    _db().commit()
    log.info("account %s signed out everywhere by %s (%d session(s))", target.login,
             account.login, ended)
    return jsonify(login=target.login, sessions_ended=ended)
