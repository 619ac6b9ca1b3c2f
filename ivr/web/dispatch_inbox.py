"""The dispatch inbox page (``/dispatch/``): incoming transfers, live, for the dispatcher role.

The page is static HTML; its script (ivr/static/dispatch/inbox.js) reads the transfers through
the JSON API (`ivr.web.transfer_api`, ``GET /api/v1/dispatch/transfers``, every two seconds) and
acknowledges with ``POST .../acknowledge`` (CSRF header). Same sign-in and headers as the
call-takers' console.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from ivr.accounts.accounts import Account
from ivr.web import csrf
from ivr.web.auth import SEES_FLOOR, require
from ivr.web.auth import request_db as _db
from ivr.web.errors import ApiError
from ivr.web.kit import page_blueprint, refused_page, to_login

bp = page_blueprint("dispatch_inbox", url_prefix="/dispatch")


@bp.errorhandler(ApiError)
def _refused(exc: ApiError) -> Any:
    """A page, not JSON: the wrong role sees why (403); the rest as the API says it."""
    if exc.status == 403:
        return refused_page(exc)
    return exc.response()



@bp.get("/")
@require("dispatcher", *SEES_FLOOR, db=_db, on_missing=to_login)
def inbox(account: Account) -> Any:
    return render_template("dispatch/inbox.html", account=account, csrf_token=csrf.token())
