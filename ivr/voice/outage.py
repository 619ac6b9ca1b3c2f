"""Webhooks that survive an outage: when Redis or SQL cannot be reached, a caller is held and
asked again, and an event is kept in the journal until the stores are back.

* A caller's webhook (the call is still up) answers a short hold message and a ``<Redirect>``
  to ``/voice/retry``, which carries the original route, its query and the request's own
  parameters (Digits, QueueResult, ...: Twilio sends only the call's standard ones with a
  redirect). The retry runs the original view again in-process. Retries are bounded by
  ``outage.hold_seconds``; after that the caller gets the line's safe answer (a human: the
  fallback number, or the safe Twilio queue that the reconciler brings back in line).
* A status callback, a leg or conference event, or an action URL of a call that has already
  ended cannot be asked again (Twilio does not retry): it goes into the journal
  (`ivr.platform.journal`) and the ticker replays it, in order, through the same view, at the
  time it arrived (`replay`).

A retried or replayed request was signed when it first arrived (a retry's URL, parameters
included, is signed by Twilio again): it is dispatched with `signatures.trusted` set.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, request
from sqlalchemy import text
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr.calls import repairs
from ivr.platform.config import Settings
from ivr.platform.journal import Entry, Journal
from ivr.platform.stores import store_unreachable
from ivr.services import Services
from ivr.telephony import signatures
from ivr.telephony.speech import say_in

log = logging.getLogger("ivr.outage")

RETRY_PATH = "/voice/retry"
# The blueprints whose views may be retried or replayed: Twilio's webhooks, nothing else.
VOICE_BLUEPRINTS = ("voice", "connect", "transfer_hooks")
# Parameters Twilio sends on every request of a call: a redirect brings them again.
STANDARD = frozenset({
    "AccountSid", "ApiVersion", "CallSid", "CallStatus", "Called", "CalledCity",
    "CalledCountry", "CalledState", "CalledZip", "Caller", "CallerCity", "CallerCountry",
    "CallerState", "CallerZip", "CallToken", "Direction", "ForwardedFrom", "From", "FromCity",
    "FromCountry", "FromState", "FromZip", "ParentCallSid", "To", "ToCity", "ToCountry",
    "ToState", "ToZip", "StirVerstat", "StirPassportToken",
})
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
HOLD = {"en": "Please hold.", "es": "Un momento, por favor."}
PAUSE = 2

# (attempt, first failure at) of the retry being served; None on a first request.
_attempt: ContextVar[tuple[int, float] | None] = ContextVar("outage_attempt", default=None)
# Set while the journal is replayed: the webhook kit lets failures through to the replayer.
replaying: ContextVar[bool] = ContextVar("outage_replaying", default=False)


def hold_seconds(settings: Settings) -> float:
    return float((settings.raw.get("outage") or {}).get("hold_seconds", 60))


@cache
def journal_at(directory: Path) -> Journal:
    return Journal(directory)


def journal(settings: Settings) -> Journal:
    return journal_at(Path(settings.data_dir) / "journal")


def call_over(form: Mapping[str, str]) -> bool:
    return form.get("CallStatus", "") in ENDED


def keep_event(svc: Services, exc: BaseException) -> None:
    """Journal the request being served (an event Twilio will not send again)."""
    entry = journal(svc.settings).append({
        "at": svc.clock().timestamp(), "path": request.path,
        "query": request.query_string.decode("latin-1"),
        "form": {k: request.form[k] for k in request.form}, "why": type(exc).__name__})
    log.warning("store unreachable (%s) on %s for call %s: event journaled (#%d)",
                type(exc).__name__, request.path, request.form.get("CallSid", "-"), entry.seq)


def hold_and_retry(svc: Services, exc: BaseException) -> str | None:
    """TwiML that holds the caller and asks the same webhook again, or None once the outage
    has lasted `hold_seconds` (the caller then gets the line's safe answer)."""
    attempt, since = _attempt.get() or (0, time.time())
    if time.time() - since >= hold_seconds(svc.settings):
        log.error("store unreachable for %.0f s on %s for call %s: safe answer",
                  time.time() - since, request.path, request.form.get("CallSid", "-"))
        return None
    log.warning("store unreachable (%s) on %s for call %s: holding (retry %d)",
                type(exc).__name__, request.path, request.form.get("CallSid", "-"), attempt + 1)
    kept = {k: request.form[k] for k in request.form if k not in STANDARD}
    query = urlencode({"to": request.path, "q": request.query_string.decode("latin-1"),
                       "k": json.dumps(kept, separators=(",", ":")), "n": attempt + 1,
                       "t0": f"{since:.3f}"})
    response = VoiceResponse()
    if attempt == 0:
        for language, text_ in HOLD.items():
            say_in(response, language, text_)
    response.pause(length=PAUSE)
    response.redirect(f"{svc.settings.public_url}{RETRY_PATH}?{query}", method="POST")
    return str(response)


def dispatch(app: Flask, path: str, query: str, form: Mapping[str, str]) -> Response:
    """Run the voice view that serves `path` in-process, as if Twilio had asked it again."""
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, view_args = adapter.match(path, method="POST")
    except HTTPException:
        raise LookupError(f"no webhook at {path}") from None
    if endpoint.split(".")[0] not in VOICE_BLUEPRINTS or path == RETRY_PATH:
        raise LookupError(f"{path} is not a webhook that can be asked again")
    with app.test_request_context(path, method="POST", query_string=query, data=dict(form)):
        token = signatures.trusted.set(True)
        try:
            return app.make_response(app.view_functions[endpoint](**view_args))
        finally:
            signatures.trusted.reset(token)


def retry(app: Flask) -> Response:
    """``/voice/retry``: the webhook a held caller's redirect names, asked again."""
    args = request.args
    try:
        attempt, since = int(args.get("n", "1")), float(args.get("t0", "0"))
        kept = json.loads(args.get("k", "{}"))
        if not isinstance(kept, dict):
            raise ValueError("kept parameters are not a mapping")
    except ValueError:
        attempt, since, kept = 1, 0.0, {}
    form = {k: request.form[k] for k in request.form}
    form.update({str(k): str(v) for k, v in kept.items() if str(k) not in STANDARD})
    token = _attempt.set((attempt, since or time.time()))
    try:
        return dispatch(app, args.get("to", ""), args.get("q", ""), form)
    finally:
        _attempt.reset(token)


def stores_answer(svc: Services) -> bool:
    try:
        svc.redis.ping()
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def replay(app: Flask) -> int:
    """Apply the journal's events in the order they arrived; returns how many were applied.

    Each is run through its own view at the time it arrived. One that fails because a store
    went away again is kept, with all after it, for the next round; one that fails otherwise
    is set aside (recorded as a repair, never retried). Called by the ticker every second.
    """
    svc: Services = app.extensions["ivr"]
    kept = journal(svc.settings)
    if not kept.pending() or not stores_answer(svc):
        return 0
    paths = kept.claim()
    entries = kept.read(paths)
    applied = 0
    token = replaying.set(True)
    try:
        for index, entry in enumerate(entries):
            try:
                _apply(app, svc, entry)
            except Exception as exc:
                if store_unreachable(exc):
                    kept.keep(entries[index:])
                    break
                kept.set_aside(entry, f"{type(exc).__name__}: {exc}")
                _repaired(svc, entry, "journal-set-aside",
                          f"could not be applied: {type(exc).__name__}")
                log.error("journaled %s for call %s set aside", entry.path,
                          entry.form.get("CallSid", "-"), exc_info=exc)
                continue
            applied += 1
            _repaired(svc, entry, "journal", "applied late, at the time it arrived")
    finally:
        replaying.reset(token)
        app.extensions["ivr"] = svc
    kept.done(paths)
    if applied:
        log.info("journal: %d event(s) applied after an outage", applied)
    return applied


def _apply(app: Flask, svc: Services, entry: Entry) -> None:
    at = datetime.fromtimestamp(entry.at, UTC)
    app.extensions["ivr"] = replace(svc, clock=lambda: at)
    try:
        response = dispatch(app, entry.path, entry.query, entry.form)
    finally:
        app.extensions["ivr"] = svc
    if response.status_code >= 400:
        raise RuntimeError(f"{entry.path} answered {response.status_code}")


def _repaired(svc: Services, entry: Entry, kind: str, done: str) -> None:
    what = entry.form.get("CallStatus") or entry.form.get("StatusCallbackEvent") or ""
    with svc.engine.begin() as conn:
        repairs.record(
            conn, at=svc.clock(), kind=kind, call_sid=entry.form.get("CallSid") or None,
            differed=f"{entry.path} {what}".strip() + f" arrived during an outage ({entry.why})",
            done=done, data={"path": entry.path, "arrived": entry.at})
