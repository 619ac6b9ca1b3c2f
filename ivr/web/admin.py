"""The accounts page (/admin/accounts): who may sign in, with which roles, skills and phone.

A static page; its script (ivr/static/admin/accounts.js) reads and writes through the JSON API
(`ivr.web.accounts_api`), which holds every rule. Admins and supervisors see it; what each may
change is decided there, not here.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from ivr.accounts.accounts import ROLES, SKILL_KINDS, Account
from ivr.web import csrf
from ivr.web.auth import SEES_FLOOR, require
from ivr.web.auth import request_db as _db
from ivr.web.errors import ApiError
from ivr.web.kit import page_blueprint, refused_page, to_login

bp = page_blueprint("admin", url_prefix="/admin")



@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    if exc.status in (403, 503):
        return refused_page(exc)
    return exc.response()


@bp.get("/accounts")
@require(*SEES_FLOOR, db=_db, on_missing=to_login)
def accounts_page(account: Account) -> Any:
    return render_template("admin/accounts.html", account=account, csrf_token=csrf.token(),
                           roles=ROLES, skill_kinds=SKILL_KINDS,
                           is_admin=account.has_role("admin"))
