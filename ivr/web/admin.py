"""The accounts page (/admin/accounts): who may sign in, with which roles, skills and phone.

A static page; its script (ivr/static/admin/accounts.js) reads and writes through the JSON API
(`ivr.web.accounts_api`), which holds every rule. Admins and supervisors see it; what each may
change is decided there, not here.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from callflows.choices import LANGUAGE_NAMES
from ivr.accounts.accounts import ROLES, SKILL_KINDS, Account
from ivr.services import Services
from ivr.web import csrf
from ivr.web.auth import SEES_FLOOR, require
from ivr.web.auth import request_db as _db
from ivr.web.errors import ApiError
from ivr.web.kit import current_services, page_blueprint, refused_page, to_login

bp = page_blueprint("admin", url_prefix="/admin")



@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    if exc.status in (403, 503):
        return refused_page(exc)
    return exc.response()


def skill_choices(svc: Services) -> dict[str, list[tuple[str, str]]]:
    """The skills offered as choices: a ``line:`` skill per configured line, a ``lang:`` skill
    per language its live flow speaks (value, label). Other skills stay free text."""
    lines = [(f"line:{name}", f"Line {name}") for name in svc.settings.lines]
    languages: dict[str, str] = {}
    for line in svc.settings.lines.values():
        try:
            flow, _version = svc.flows.live(line.flow)
        except Exception:  # noqa: BLE001  # a flow that cannot load offers no language
            continue
        for code in flow.languages:
            languages.setdefault(f"lang:{code}", f"{LANGUAGE_NAMES.get(code, code)} ({code})")
    return {"lines": lines, "languages": sorted(languages.items())}


@bp.get("/accounts")
@require(*SEES_FLOOR, db=_db, on_missing=to_login)
def accounts_page(account: Account) -> Any:
    return render_template("admin/accounts.html", account=account, csrf_token=csrf.token(),
                           roles=ROLES, skill_kinds=SKILL_KINDS,
                           choices=skill_choices(current_services()),
                           is_admin=account.has_role("admin"))
