"""Twilio request signatures, checked on every voice webhook.

Validation uses the configured public URL, never the Host header Flask sees: behind a proxy or a
tunnel the app sees ``http://`` and an internal host, and the signature would never match
(twilio-python issues #715, #751).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any

from flask import Request, abort, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

log = logging.getLogger("ivr.security")

# Set only while a request whose signature was checked when it arrived is run again in-process
# (a held caller's retry, an event replayed from the journal: `ivr.voice.outage`).
trusted: ContextVar[bool] = ContextVar("signature_already_checked", default=False)


def public_url_of(req: Request, public_url: str) -> str:
    """The URL Twilio requested, rebuilt on the public base URL (path and query string kept)."""
    query = req.query_string.decode("latin-1")
    return public_url + req.path + (f"?{query}" if query else "")


def signature_valid(req: Request, public_url: str, validator: RequestValidator) -> bool:
    signature = req.headers.get("X-Twilio-Signature", "")
    # A real signature is base64 (ASCII); anything else is refused here, before
    # `hmac.compare_digest`, which raises TypeError on a non-ASCII str.
    if not signature or not signature.isascii():
        return False
    # The MultiDict itself: twilio's validator reads repeated names with getlist().
    params = req.form if req.method == "POST" else {}
    url = public_url_of(req, public_url)
    # The common case first, one HMAC; `validate` then tries the URL with and without the
    # default port, which Twilio is inconsistent about.
    if hmac.compare_digest(validator.compute_signature(url, params), signature):
        return True
    return validator.validate(url, params, signature)


def without_nul(values: MultiDict[str, str]) -> ImmutableMultiDict[str, str]:
    """`values` with every NUL taken out of names and values (repeated names kept)."""
    return ImmutableMultiDict([(k.replace("\x00", ""), v.replace("\x00", ""))
                               for k, v in values.items(multi=True)])


def _drop_nul(req: Request) -> None:
    """Twilio never sends NUL, and PostgreSQL cannot store it: a signed form value holding one
    (a CallSid) failed the call's SQL insert, so the call was not recorded and the caller
    heard the safe answer. Taken out once the signature (over the values as sent) is checked,
    so every handler, log line and journal entry reads the values without it."""
    if any("\x00" in k + v for k, v in req.form.items(multi=True)):
        req.form = without_nul(req.form)  # type: ignore[misc]
    if any("\x00" in k + v for k, v in req.args.items(multi=True)):
        req.args = without_nul(req.args)  # type: ignore[misc]


def twilio_signed(get_validator: Callable[[], tuple[RequestValidator, str]]) -> Callable:
    """Decorator: refuse (403, touching nothing) a request without a valid Twilio signature."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not trusted.get():
                validator, public_url = get_validator()
                if not signature_valid(request, public_url, validator):
                    log.warning("refused unsigned or badly signed request to %s", request.path)
                    abort(403)
            _drop_nul(request)
            return view(*args, **kwargs)

        wrapper.ivr_twilio_signed = True  # type: ignore[attr-defined]  # read by the route table
        return wrapper

    return decorate
