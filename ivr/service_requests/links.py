"""Which calls made, asked about or changed which service requests.

A call-taker sees a call's requests on the console, and a call's record lists them, whichever
door the request came in by (the phone flow, the console). Linking is idempotent: the same call,
request and kind make one row however often they are linked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.service_requests.models import LINK_KINDS, CallRequestLink, ServiceRequest, utc


def link(session: Session, call_sid: str, request: ServiceRequest, kind: str, *,
         at: datetime, by: str | None = None) -> None:
    """Record that call `call_sid` made (``created``), asked about (``asked``) or changed
    (``updated``) `request`. The first link of a kind stays (its time and author)."""
    if kind not in LINK_KINDS:
        raise ValueError(f"link kind must be one of {', '.join(LINK_KINDS)}, not {kind!r}")
    session.flush()  # a request made in this transaction needs its id
    row = {"call_sid": call_sid, "request_id": request.id, "kind": kind, "at": utc(at), "by": by}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases: look first, without the concurrency guarantee
        if not session.scalars(select(CallRequestLink.id).filter_by(
                call_sid=call_sid, request_id=request.id, kind=kind)).first():
            session.add(CallRequestLink(**row))
        return
    session.execute(insert(CallRequestLink).values(**row).on_conflict_do_nothing(
        index_elements=["call_sid", "request_id", "kind"]))


def requests_of_call(session: Session, call_sid: str) -> list[tuple[ServiceRequest, list[str]]]:
    """The requests call `call_sid` is linked to, oldest link first, each with its link kinds."""
    query = (select(CallRequestLink, ServiceRequest)
             .join(ServiceRequest, ServiceRequest.id == CallRequestLink.request_id)
             .where(CallRequestLink.call_sid == call_sid)
             .order_by(CallRequestLink.id))
    found: dict[int, tuple[ServiceRequest, list[str]]] = {}
    for link_row, request in session.execute(query).unique():
        found.setdefault(request.id, (request, []))[1].append(link_row.kind)
    return list(found.values())


def calls_of_request(session: Session, request_id: int) -> list[dict[str, Any]]:
    """The calls linked to a request, oldest first: ``{call, kind, at, by}``."""
    query = (select(CallRequestLink).where(CallRequestLink.request_id == request_id)
             .order_by(CallRequestLink.id))
    return [{"call": r.call_sid, "kind": r.kind, "at": utc(r.at).isoformat(), "by": r.by}
            for r in session.scalars(query)]
