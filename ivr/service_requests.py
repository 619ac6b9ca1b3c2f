"""Service requests: the 311 work a call (or the console, or an Open311 client) leaves behind.

The phone flows, the call-taker console and the Open311 API all go through these functions, so a
request is checked, numbered and recorded the same way whichever door it came in by. Functions take
a session (the caller owns the transaction, see `ivr.db.transaction`) and the time (`at`), never a
clock of their own.

Numbers look like Baltimore's ("26-00012345": two digits of the year, then eight): they are derived
from the row's autoincrement id inside the creating transaction, so two requests made at the same
instant on SQLite or PostgreSQL can never share one. A caller types the same number on a keypad as
digits only (`phone_digits`, `find_by_digits`).
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ivr.catalogue import Attribute, ServiceSpec, load_catalogue
from ivr.models import Base, Call
from ivr.phones import mask, normalize

log = logging.getLogger("ivr.service_requests")

STATUSES = ("open", "closed")
CHANNELS = ("phone", "console", "api")
DESCRIPTION_MAX = 4000
ANSWER_MAX = {"string": 255, "text": DESCRIPTION_MAX}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RequestError(ValueError):
    """A request cannot be made or changed as asked. `field` names the input at fault, and
    `message` says what is wrong with it; str() gives both ("email: not a valid email address")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidRequest(RequestError):
    pass


class UnknownService(RequestError):
    pass


class RequestNotFound(LookupError):
    pass


class ServiceType(Base):
    """One service of the catalogue, as `sync_catalogue` stored it."""

    __tablename__ = "service_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    group: Mapped[str | None] = mapped_column("group_name", String(100))
    description: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    agency: Mapped[str | None] = mapped_column(String(200))
    expected_days: Mapped[float | None] = mapped_column(Float)
    type: Mapped[str] = mapped_column(String(16), default="realtime")
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    external_code: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def questions(self) -> tuple[Attribute, ...]:
        """The service's attributes in their order (notices included: see `Attribute.variable`)."""
        return tuple(sorted((Attribute.from_dict(a) for a in self.attributes or ()),
                            key=lambda a: a.order))

    @property
    def has_metadata(self) -> bool:
        return bool(self.attributes)


class ServiceRequest(Base):
    __tablename__ = "service_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Set from `id` in the creating transaction; NULL only between the insert and that update.
    number: Mapped[str | None] = mapped_column(String(20))
    # Open311's token: lets an API client find its request before it knows the number.
    token: Mapped[str] = mapped_column(String(36))
    service_code: Mapped[str] = mapped_column(ForeignKey("service_types.code"))
    status: Mapped[str] = mapped_column(String(8), default="open")
    status_notes: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(255))
    address_id: Mapped[str | None] = mapped_column(String(64))
    zipcode: Mapped[str | None] = mapped_column(String(16))
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    callback_number: Mapped[str | None] = mapped_column(String(32))  # E.164; never logged in plain
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    agency: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    media_url: Mapped[str | None] = mapped_column(String(1024))
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    call_sid: Mapped[str | None] = mapped_column(ForeignKey("calls.sid", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    service: Mapped[ServiceType] = relationship(lazy="joined")
    notes: Mapped[list[RequestNote]] = relationship(
        back_populates="request", order_by="RequestNote.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("number", name="uq_service_requests_number"),
        UniqueConstraint("token", name="uq_service_requests_token"),
        Index("ix_service_requests_requested_at", "requested_at"),
        Index("ix_service_requests_status", "status", "requested_at"),
        Index("ix_service_requests_service", "service_code", "requested_at"),
        Index("ix_service_requests_callback", "callback_number"),
        Index("ix_service_requests_call", "call_sid"),
    )


class RequestNote(Base):
    """One line of a request's history: its creation, a status change, or a note."""

    __tablename__ = "service_request_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))  # created | status | note
    status: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(64))
    public: Mapped[bool] = mapped_column(Boolean, default=False)

    request: Mapped[ServiceRequest] = relationship(back_populates="notes")

    __table_args__ = (Index("ix_service_request_notes_request", "request_id", "id"),)


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive value (SQLite gives those back) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# -- the catalogue in SQL ---------------------------------------------------------------------

def sync_catalogue(session: Session, specs: Iterable[ServiceSpec] | None = None,
                   at: datetime | None = None) -> int:
    """Upsert the catalogue (the packaged one by default) by service code; returns how many.

    Idempotent, and safe when several processes start at once: each row is one
    INSERT ... ON CONFLICT DO UPDATE on SQLite and PostgreSQL. Services missing from the file are
    left as they are (requests still point at them).
    """
    specs = list(load_catalogue() if specs is None else specs)
    at = utc(at or datetime.now(UTC))
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases: merge, without the concurrency guarantee
        for spec in specs:
            session.merge(ServiceType(**_row(spec, at)))
        return len(specs)
    for spec in specs:
        row = _row(spec, at)
        stmt = insert(ServiceType).values(**row)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[ServiceType.code],
            set_={k: stmt.excluded[k] for k in row if k != "code"},
        ))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ServiceType):
            session.expire(obj)  # rows loaded before the upsert would show the old values
    return len(specs)


def _row(spec: ServiceSpec, at: datetime) -> dict[str, Any]:
    return {
        "code": spec.code, "name": spec.name, "group_name": spec.group,
        "description": spec.description, "keywords": list(spec.keywords), "agency": spec.agency,
        "expected_days": spec.expected_days, "type": spec.type,
        "attributes": [a.to_dict() for a in spec.attributes],
        "external_code": spec.external_code, "active": True, "updated_at": at,
    }


def list_services(session: Session) -> list[ServiceType]:
    """The active services, by group then name (the order menus and Open311 list them in)."""
    rows = session.scalars(select(ServiceType).where(ServiceType.active.is_(True)))
    return sorted(rows, key=lambda s: ((s.group or "").lower(), s.name.lower()))


def get_service(session: Session, code: str) -> ServiceType | None:
    if _CONTROL.search(code):
        return None
    service = session.get(ServiceType, code)
    return service if service is not None and service.active else None


# -- answers to a service's questions ------------------------------------------------------------

def validate_answers(questions: Sequence[Attribute],
                     answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check `answers` (code -> value or list of values) against `questions`; the clean answers.

    List answers are stored by key, numbers as numbers, datetimes in ISO 8601. Raises
    `InvalidRequest` (field ``attribute[code]``) for an unknown question, a value of the wrong kind,
    a key not in the list, or a required question left unanswered.
    """
    by_code = {q.code: q for q in questions if q.variable}
    clean: dict[str, Any] = {}
    for code, raw in answers.items():
        field = f"attribute[{code}]"
        question = by_code.get(code)
        if question is None:
            raise InvalidRequest(field, "not a question of this service")
        values = list(raw) if isinstance(raw, list | tuple) else [raw]
        values = [_printable(str(v).strip(), field) for v in values
                  if v is not None and str(v).strip() != ""]
        if not values:
            continue
        if question.datatype != "multivaluelist" and len(values) > 1:
            raise InvalidRequest(field, "takes a single value")
        clean[code] = _answer(question, values, field)
    for question in by_code.values():
        if question.required and question.code not in clean:
            ask = f" ({question.description})" if question.description else ""
            raise InvalidRequest(f"attribute[{question.code}]", f"required{ask}")
    return clean


def _answer(question: Attribute, values: list[str], field: str) -> Any:
    kind = question.datatype
    if kind in ("singlevaluelist", "multivaluelist"):
        keys = [c.key for c in question.values]
        for value in values:
            if value not in keys:
                raise InvalidRequest(field, f"{value!r} is not one of {', '.join(keys)}")
        return values[0] if kind == "singlevaluelist" else list(dict.fromkeys(values))
    value = values[0]
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise InvalidRequest(field, f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise InvalidRequest(field, f"{value!r} is not a number")
        return int(number) if number.is_integer() else number
    if kind == "datetime":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
        except ValueError:
            raise InvalidRequest(field, f"{value!r} is not an ISO 8601 date and time") from None
    if len(value) > ANSWER_MAX[kind]:
        raise InvalidRequest(field, f"at most {ANSWER_MAX[kind]} characters")
    return value


# -- making and finding requests -----------------------------------------------------------------

def create_request(
    session: Session, *, service_code: str, at: datetime, description: str | None = None,
    address: str | None = None, address_id: str | None = None, zipcode: str | None = None,
    lat: float | str | None = None, long: float | str | None = None,
    callback_number: str | None = None,
    first_name: str | None = None, last_name: str | None = None, email: str | None = None,
    media_url: str | None = None, attributes: Mapping[str, Any] | None = None,
    call_sid: str | None = None, channel: str = "phone", author: str | None = None,
    region: str = "US", tz: tzinfo = UTC,
) -> ServiceRequest:
    """Check, number and record a new open request; returns it with `number` set.

    A location is required (an address, an address id, or lat and long). `callback_number` is
    normalised to E.164 for `region`; `tz` is the center's, for the year in the number.
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
    _printable(description, "description")
    address = _short(address, 255, "address")
    address_id = _short(address_id, 64, "address_id")
    lat, long = _position(lat, long)
    if lat is None and not address and not address_id:
        raise InvalidRequest("location", "required: an address, an address id, or lat "
                                         "and long")
    answers = validate_answers(service.questions(), attributes or {})
    at = utc(at)
    request = ServiceRequest(
        token=str(uuid.uuid4()), service=service, status="open",
        description=description, address=address, address_id=address_id,
        zipcode=_short(zipcode, 16, "zipcode"), lat=lat, long=long,
        callback_number=_callback(callback_number, region),
        first_name=_short(first_name, 100, "first_name"),
        last_name=_short(last_name, 100, "last_name"), email=_email(email),
        agency=service.agency, attributes=answers, media_url=_url(media_url), channel=channel,
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
    log.info("service request %s made (%s, by %s) for %s", request.number, service.code, channel,
             mask(request.callback_number or ""))
    return request


def _printable(value: str, field: str) -> str:
    # PostgreSQL refuses NUL in text, and XML cannot carry control characters at all.
    if _CONTROL.search(value):
        raise InvalidRequest(field, "contains control characters")
    return value


def _short(value: str | None, limit: int, field: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > limit:
        raise InvalidRequest(field, f"longer than {limit} characters")
    return value if value is None else _printable(value, field)


def _position(lat: Any, long: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") and long in (None, ""):
        return None, None
    if lat in (None, "") or long in (None, ""):
        raise InvalidRequest("lat" if lat in (None, "") else "long", "lat and long go together")
    try:
        la, lo = float(lat), float(long)
    except (TypeError, ValueError):
        raise InvalidRequest("lat", "lat and long must be decimal degrees (WGS84)") from None
    if not (math.isfinite(la) and -90 <= la <= 90):
        raise InvalidRequest("lat", "must be between -90 and 90")
    if not (math.isfinite(lo) and -180 <= lo <= 180):
        raise InvalidRequest("long", "must be between -180 and 180")
    return la, lo


def _callback(number: str | None, region: str) -> str | None:
    if not (number or "").strip():
        return None
    e164 = normalize(_printable(number or "", "callback_number"), region)
    if not e164.startswith("+"):
        raise InvalidRequest("callback_number", "not a phone number")
    return e164


def _email(value: str | None) -> str | None:
    value = _short(value, 254, "email")
    if value is not None and not _EMAIL.match(value):
        raise InvalidRequest("email", "not a valid email address")
    return value


def _url(value: str | None) -> str | None:
    value = _short(value, 1024, "media_url")
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequest("media_url", "must be an http or https URL")
    return value


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
    if _CONTROL.search(number):
        return None
    if "-" not in number:
        return find_by_digits(session, number)
    return _by_number(session, number)


def get_by_token(session: Session, token: str) -> ServiceRequest | None:
    if _CONTROL.search(token):
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
    return [v for v in values if not _CONTROL.search(v)]


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
    text = _short(notes, DESCRIPTION_MAX, "notes") or ""
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
    text = _short(text, DESCRIPTION_MAX, "text") or ""
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


def service_notice(request: ServiceRequest, tz: tzinfo = UTC) -> str:
    """One sentence on who acts and by when, for the requester (Open311's service_notice)."""
    who = request.agency or "The city"
    if request.expected_at is None or request.status == "closed":
        return f"{who} has your request."
    when = utc(request.expected_at).astimezone(tz)
    return f"{who} expects to address this by {when:%A, %B} {when.day}."
