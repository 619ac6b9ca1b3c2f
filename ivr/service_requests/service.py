"""Service requests: the 311 work a call (or the console, or an Open311 client) leaves behind.

The phone flows, the call-taker console and the Open311 API all go through these functions, so a
request is checked, numbered and recorded the same way whichever door it came in by. Functions take
a session (the caller owns the transaction, see `ivr.platform.db.transaction`) and the time (`at`),
never a clock of their own.

Numbers look like Baltimore's ("26-00012345": two digits of the year, then eight): they are derived
from the row's autoincrement id inside the creating transaction, so two requests made at the same
instant on SQLite or PostgreSQL can never share one. A caller types the same number on a keypad as
digits only (`phone_digits`, `find_by_digits`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ivr.calls.models import Call
from ivr.platform.phones import normalize
from ivr.service_requests import fields
from ivr.service_requests import forwarding as request_forwarding
from ivr.service_requests.fields import (
    CONTROL,
    DESCRIPTION_MAX,
    InvalidRequest,
    RequestNotFound,
    UnknownService,
)
from ivr.service_requests.forwarding import Forward
from ivr.service_requests.models import RequestNote, ServiceRequest, utc
from ivr.service_requests.service_types import get_service

log = logging.getLogger("ivr.service_requests")

STATUSES = ("open", "closed")
CHANNELS = ("phone", "console", "api")


def create_request(
    session: Session, *, service_code: str, at: datetime, description: str | None = None,
    address: str | None = None, address_id: str | None = None, zipcode: str | None = None,
    lat: float | str | None = None, long: float | str | None = None,
    callback_number: str | None = None,
    first_name: str | None = None, last_name: str | None = None, email: str | None = None,
    media_url: str | None = None, attributes: Mapping[str, Any] | None = None,
    address_audio_url: str | None = None,
    call_sid: str | None = None, channel: str = "phone", author: str | None = None,
    region: str = "US", tz: tzinfo = UTC, forward: Forward | None = None,
) -> ServiceRequest:
    """Check, number and record a new open request; returns it with `number` set. With
    `forward`, a message to the city's Open311 server is written in the same transaction.

    A location is required (an address, an address id, lat and long, or the recording of an
    address a caller spoke, `address_audio_url`).
    `callback_number` is normalised to E.164 for `region`; `tz` is the center's, for the year in
    the number.
    Raises `UnknownService` or `InvalidRequest`; nothing is written when it does.
    """
    service = get_service(session, service_code)
    if service is None:
        raise UnknownService("service_code", f"there is no service {service_code!r}")
    if channel not in CHANNELS:
        raise InvalidRequest("channel", f"must be one of {', '.join(CHANNELS)}")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidRequest("description", f"{len(description)} characters is too "
                                            f"long; at most {DESCRIPTION_MAX}")
    fields.printable(description, "description")
    address = fields.short(address, 255, "address")
    address_id = fields.short(address_id, 64, "address_id")
    lat, long = fields.position(lat, long)
    audio = fields.url(address_audio_url, "address_audio_url")
    if lat is None and not address and not address_id and not audio:
        raise InvalidRequest("location", "required: an address, an address id, or lat "
                                         "and long")
    answers = fields.validate_answers(service.questions(), attributes or {})
    at = utc(at)
    request = ServiceRequest(
        token=str(uuid.uuid4()), service=service, status="open",
        description=description, address=address, address_id=address_id,
        zipcode=fields.short(zipcode, 16, "zipcode"), lat=lat, long=long,
        callback_number=fields.callback(callback_number, region),
        first_name=fields.short(first_name, 100, "first_name"),
        last_name=fields.short(last_name, 100, "last_name"), email=fields.email(email),
        agency=service.agency, attributes=answers, media_url=fields.url(media_url),
        address_audio_url=audio,
        channel=channel,
        call_sid=call_sid or None, requested_at=at, updated_at=at,
        expected_at=(at + timedelta(days=service.expected_days)
                     if service.expected_days is not None else None),
    )
    session.add(request)
    session.flush()  # the id: the number is made from it, in this same transaction
    request.number = f"{at.astimezone(tz).year % 100:02d}-{request.id:08d}"
    request.notes.append(RequestNote(at=at, kind="created", status="open", author=author,
                                     text=f"made by {channel}"))
    session.flush()
    if forward is not None:
        request_forwarding.add(session, forward, request, at)
    # The request's number is the handle in the logs; its callback number stays in SQL.
    log.info("service request %s made (%s, by %s)", request.number, service.code, channel)
    return request


def phone_digits(number: str) -> str:
    """What a caller keys in for `number`: its digits only ("26-00012345" -> "2600012345")."""
    return "".join(ch for ch in number if ch.isdigit())


def find_by_digits(session: Session, digits: str) -> ServiceRequest | None:
    """The request whose number is `digits` keyed on a phone (separators such as * # ignored)."""
    digits = phone_digits(digits)
    if len(digits) < 3:
        return None
    return _by_number(session, f"{digits[:2]}-{digits[2:]}")


def get_request(session: Session, number: str) -> ServiceRequest | None:
    """The request numbered `number` ("26-00012345"); digits only ("2600012345") work too."""
    number = (number or "").strip()
    if CONTROL.search(number):
        return None
    if "-" not in number:
        return find_by_digits(session, number)
    return _by_number(session, number)


def get_by_token(session: Session, token: str) -> ServiceRequest | None:
    if CONTROL.search(token):
        return None
    return session.scalars(select(ServiceRequest).where(ServiceRequest.token == token)).first()


def _by_number(session: Session, number: str) -> ServiceRequest | None:
    return session.scalars(select(ServiceRequest).where(ServiceRequest.number == number)).first()


def search_requests(
    session: Session, *, numbers: Sequence[str] | None = None,
    service_codes: Sequence[str] | None = None, statuses: Sequence[str] | None = None,
    start: datetime | None = None, end: datetime | None = None,
    callback_number: str | None = None, call_sid: str | None = None, limit: int = 1000,
) -> list[ServiceRequest]:
    """Requests matching every filter given, newest first, at most `limit`.

    `start` and `end` bound the requested time (both inclusive); `callback_number` must already
    be E.164 (see `requests_for_caller` for a number as a caller gives it).
    """
    query = select(ServiceRequest)
    if numbers is not None:
        query = query.where(ServiceRequest.number.in_(_clean(numbers)))
    if service_codes is not None:
        query = query.where(ServiceRequest.service_code.in_(_clean(service_codes)))
    if statuses is not None:
        query = query.where(ServiceRequest.status.in_(list(statuses)))
    if start is not None:
        query = query.where(ServiceRequest.requested_at >= utc(start))
    if end is not None:
        query = query.where(ServiceRequest.requested_at <= utc(end))
    if callback_number is not None:
        query = query.where(ServiceRequest.callback_number == callback_number)
    if call_sid is not None:
        query = query.where(ServiceRequest.call_sid == call_sid)
    query = query.order_by(ServiceRequest.requested_at.desc(), ServiceRequest.id.desc())
    return list(session.scalars(query.limit(max(0, limit))).unique())


def _clean(values: Sequence[str]) -> list[str]:
    """Values that can match at all (PostgreSQL would refuse a NUL even in a comparison)."""
    return [v for v in values if not CONTROL.search(v)]


def requests_for_caller(session: Session, number: str, *, region: str = "US",
                        statuses: Sequence[str] | None = None,
                        limit: int = 20) -> list[ServiceRequest]:
    """A caller's requests, newest first: those with `number` to call back, and those made on
    calls from `number`. Anonymous or unparseable numbers have none."""
    e164 = normalize(number or "", region)
    if not e164.startswith("+"):
        return []
    query = select(ServiceRequest).where(or_(
        ServiceRequest.callback_number == e164,
        ServiceRequest.call_sid.in_(select(Call.sid).where(Call.caller == e164)),
    ))
    if statuses is not None:
        query = query.where(ServiceRequest.status.in_(list(statuses)))
    query = query.order_by(ServiceRequest.requested_at.desc(), ServiceRequest.id.desc())
    return list(session.scalars(query.limit(limit)).unique())


# -- changing requests ---------------------------------------------------------------------------

def _resolve(session: Session, request: ServiceRequest | str) -> ServiceRequest:
    if isinstance(request, ServiceRequest):
        return request
    found = get_request(session, request)
    if found is None:
        raise RequestNotFound(f"there is no service request {request!r}")
    return found


def update_status(
    session: Session, request: ServiceRequest | str, status: str, *, at: datetime,
    notes: str | None = None, author: str | None = None,
) -> ServiceRequest:
    """Open or close a request (by object or number), with public notes saying why.

    Recorded in the history even when the status does not change (a new note on an open request).
    Raises `RequestNotFound` or `InvalidRequest`.
    """
    if status not in STATUSES:
        raise InvalidRequest("status", f"must be one of {', '.join(STATUSES)}")
    found = _resolve(session, request)
    text = fields.short(notes, DESCRIPTION_MAX, "notes") or ""
    at = utc(at)
    found.closed_at = (found.closed_at or at) if status == "closed" else None
    found.status = status
    found.status_notes = text or None
    found.updated_at = at
    found.notes.append(RequestNote(at=at, kind="status", status=status, text=text, author=author,
                                   public=True))
    session.flush()
    return found


def add_note(
    session: Session, request: ServiceRequest | str, text: str, *, at: datetime,
    author: str | None = None, public: bool = False,
) -> RequestNote:
    """Add a note to a request's history. A public note also becomes its Open311 status_notes."""
    found = _resolve(session, request)
    text = fields.short(text, DESCRIPTION_MAX, "text") or ""
    if not text:
        raise InvalidRequest("text", "a note needs some text")
    at = utc(at)
    note = RequestNote(at=at, kind="note", text=text, author=author, public=public)
    found.notes.append(note)
    found.updated_at = at
    if public:
        found.status_notes = text
    session.flush()
    return note


def amend_request(
    session: Session, request: ServiceRequest | str, *, at: datetime, author: str | None = None,
    service_code: str | None = None, attributes: Mapping[str, Any] | None = None,
    description: str | None = None, address: str | None = None,
    lat: float | str | None = None, long: float | str | None = None,
) -> ServiceRequest:
    """Change what a request says (a call-taker corrects it during the call); None leaves a field
    as it is. A new service takes its agency and expected date, and its questions are asked
    again: `attributes` are checked against the service the request ends up with.

    Records a ``changed`` line naming the fields in the history. Raises `RequestNotFound`,
    `UnknownService` or `InvalidRequest`; nothing changes when it does.
    """
    found = _resolve(session, request)
    changed: list[str] = []
    service = found.service
    if service_code is not None and service_code != found.service_code:
        service = get_service(session, service_code)
        if service is None:
            raise UnknownService("service_code", f"there is no service {service_code!r}")
        changed.append("service")
    answers = dict(found.attributes or {}) if attributes is None else dict(attributes)
    clean = fields.validate_answers(service.questions(), answers)
    if attributes is not None and clean != (found.attributes or {}):
        changed.append("answers")
    if description is not None:
        text = fields.short(description, DESCRIPTION_MAX, "description") or ""
        if text != found.description:
            found.description = text
            changed.append("description")
    if address is not None:
        place = fields.short(address, 255, "address")
        if place != found.address:
            found.address = place
            changed.append("address")
    if lat is not None or long is not None:
        la, lo = fields.position(lat, long)
        if (la, lo) != (found.lat, found.long):
            found.lat, found.long = la, lo
            changed.append("position")
    if "service" in changed:
        found.service = service
        found.service_code = service.code
        found.agency = service.agency
        found.expected_at = (utc(found.requested_at) + timedelta(days=service.expected_days)
                             if service.expected_days is not None else None)
    found.attributes = clean
    if changed:
        at = utc(at)
        found.updated_at = at
        found.notes.append(RequestNote(at=at, kind="changed", author=author,
                                       text="changed: " + ", ".join(changed)))
    session.flush()
    return found


def service_notice(request: ServiceRequest, tz: tzinfo = UTC) -> str:
    """One sentence on who acts and by when, for the requester (Open311's service_notice)."""
    who = request.agency or "The city"
    if request.expected_at is None or request.status == "closed":
        return f"{who} has your request."
    when = utc(request.expected_at).astimezone(tz)
    return f"{who} expects to address this by {when:%A, %B} {when.day}."
