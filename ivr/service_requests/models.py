"""The SQL tables of service requests: the catalogue's services, requests, their history, and
the links between calls and the requests they made or asked about.

Plain mapped classes, no behaviour: `ivr.service_requests` checks, numbers and changes requests,
`service_types` keeps the catalogue in SQL, `links` joins calls to requests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.platform.sql import Base
from ivr.service_requests.catalogue import Attribute

LINK_KINDS = ("created", "asked", "updated")


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
    # A location a caller spoke on the phone, recorded; a call-taker writes `address` from it.
    address_audio_url: Mapped[str | None] = mapped_column(String(1024))
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


class CallRequestLink(Base):
    """A call made, asked about or changed a request: the call-taker sees it on the call, and the
    call's record lists its requests. One row per call, request and kind."""

    __tablename__ = "call_request_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id",
                                                       ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # one of LINK_KINDS
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str | None] = mapped_column(String(64))  # the call-taker; None for the phone flow

    __table_args__ = (
        UniqueConstraint("call_sid", "request_id", "kind", name="uq_call_request_links"),
        Index("ix_call_request_links_request", "request_id"),
    )


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive value (SQLite gives those back) is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
