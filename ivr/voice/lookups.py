"""Answering a flow's `Lookup` and `Submit` actions inside the webhook that met them.

The engine names what it wants; this module finds the handler by name, runs it in one SQL
transaction, and turns whatever happens into the `Input` that resumes the engine: a result, no
result, or an app error. It never raises: a handler that fails (a refused request, a database
that is down, a bug) becomes ``app-error``, and the flow takes the node's `error` path, so the
caller always hears something and gets somewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from callflows.actions import AppStep, Input, Lookup
from ivr.platform.db import transaction
from ivr.service_requests import phone as phone_requests
from ivr.service_requests.fields import RequestError
from ivr.service_requests.forwarding import forward_of
from ivr.service_requests.phone import PhoneCall
from ivr.services import Services

log = logging.getLogger("ivr.lookups")

Handler = Callable[[Session, PhoneCall, Mapping[str, str]], "dict[str, Any] | None"]

# Lookups only read (and link the call); submits make things. A flow cannot reach a submit
# handler through a lookup node, nor the other way round.
LOOKUPS: dict[str, Handler] = {"request_status": phone_requests.request_status}
SUBMITS: dict[str, Handler] = {"service_request": phone_requests.file_request}


@dataclass(frozen=True)
class Answered:
    """The input that resumes the engine, and a line for the call's record."""

    input: Input
    detail: str


def answer(svc: Services, sid: str | None, action: AppStep, conn: Any = None) -> Answered:
    """Run the handler `action` names for call `sid`.

    With `conn` (an open `Connection` whose transaction holds the webhook's writes), the handler
    runs inside it, in a savepoint; otherwise in a transaction of its own.
    """
    kind = "lookup" if isinstance(action, Lookup) else "submit"
    handler = (LOOKUPS if kind == "lookup" else SUBMITS).get(action.name)
    if handler is None:
        return Answered(Input(event="app-error"), f"no {kind} named {action.name!r}")
    settings = svc.settings
    call = PhoneCall(sid=sid, at=svc.clock(), tz=_zone(settings.timezone),
                     region=settings.default_region, forward=forward_of(settings))
    try:
        if isinstance(conn, Connection):
            with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
                result = handler(session, call, action.args)
                session.commit()  # releases the savepoint; the webhook commits the rest
        else:
            with transaction(svc.sessions) as session:
                result = handler(session, call, action.args)
    except RequestError as exc:
        return Answered(Input(event="app-error"), f"{action.name} refused: {exc}")
    except Exception as exc:  # the caller must still get somewhere: the flow's error path
        log.exception("%s %s failed for call %s", kind, action.name, sid)
        return Answered(Input(event="app-error"), f"{action.name} failed: {type(exc).__name__}")
    if result is None:
        return Answered(Input(event="no-result"), f"{action.name}: nothing found")
    return Answered(Input(event="result", result=result), f"{action.name}: answered")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfo raises KeyError, ValueError or OSError for bad keys
        return ZoneInfo("UTC")
