"""Cross-site request forgery protection for the cookie-signed consoles.

Why our own forty lines rather than Flask-WTF's CSRFProtect: the consoles use no WTForms, and
most of their writes are JSON `fetch` calls. What they need is the synchronizer-token pattern
and nothing else: one random token per web session, sent back on every state-changing request
in the ``X-CSRF-Token`` header (JSON) or the ``csrf_token`` form field (the login form), and
compared in constant time. Flask-WTF would add a dependency, a time-limited token signed apart
from the session (a twelve-hour shift outlives its default hour) and its own error pages.

A blueprint opts in with `protect(bp, on_failure)`. Only blueprints authenticated by the
session cookie do: Twilio webhooks are authenticated by their signature and Open311 writes by
an API key, neither of which a forging site can produce. The session cookie is also
``SameSite=Lax`` (see `ivr.web.auth`), a second wall, but not the only one.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, request, session

from ivr.web.errors import error_response

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
SESSION_KEY = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def token() -> str:
    """This session's token, made on first use (a fresh session after login gets a new one)."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        session[SESSION_KEY] = value
    return value


def sent_token() -> str:
    """The token the request carries: the header first, else the form field."""
    value = request.headers.get(HEADER)
    if value is None and request.mimetype in ("application/x-www-form-urlencoded",
                                              "multipart/form-data"):
        value = request.form.get(FIELD)
    return value or ""


def valid() -> bool:
    """True for a safe method, or when the request carries this session's token."""
    if request.method in SAFE_METHODS:
        return True
    expected = session.get(SESSION_KEY)
    given = sent_token()
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def refused_json() -> Any:
    """The JSON APIs' answer to a write without this session's token."""
    return error_response(403, "csrf_failed", "the request lacks this session's CSRF token "
                          "(X-CSRF-Token); reload the page")


def protect(bp: Blueprint, on_failure: Callable[[], Any]) -> None:
    """Refuse every state-changing request to `bp` without the session's token, answering with
    what `on_failure()` returns (a JSON error for an API, a page for a form)."""

    @bp.before_request
    def _check() -> Any:
        if not valid():
            return on_failure()
        return None
