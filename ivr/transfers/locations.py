"""Where the caller is, for a hand-off: what the call-taker typed with the transfer, else the
address (and coordinates) of the service request the call made or was linked to."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from ivr.service_requests.models import CallRequestLink, ServiceRequest
from ivr.transfers.pidf import Location

requests_t = ServiceRequest.__table__
links_t = CallRequestLink.__table__


def of_call(conn: Connection, call_sid: str, typed: str | None = None) -> Location | None:
    """The location a hand-off of `call_sid` carries (None when nothing is known). A typed
    location wins; the request's coordinates go with its own address only."""
    if typed and typed.strip():
        return Location(typed.strip())
    linked = select(links_t.c.request_id).where(links_t.c.call_sid == call_sid)
    row = conn.execute(
        select(requests_t.c.address, requests_t.c.zipcode, requests_t.c.lat, requests_t.c.long)
        .where(or_(requests_t.c.call_sid == call_sid, requests_t.c.id.in_(linked)),
               or_(requests_t.c.address.is_not(None), requests_t.c.lat.is_not(None)))
        .order_by(requests_t.c.updated_at.desc(), requests_t.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    text = (row.address or "").strip()
    if text and row.zipcode and row.zipcode not in text:
        text = f"{text}, {row.zipcode}"
    return Location(text, row.lat, row.long)
