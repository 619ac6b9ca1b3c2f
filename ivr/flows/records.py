"""SQL records of call flows: drafts, published versions, live pointers, announcements, audit.

One `FlowRecord` row per (center, flow) holds the draft (with a revision number for optimistic
locking) and the live version's number: a line runs the live version of the flow it names.
Published versions (`FlowVersion`) are written once and never changed. Every change, and every
refused attempt, is a `FlowAudit` row. A line's storm or closure message is a `LineAnnouncement`.
Rows carry the center's name, so centers sharing one database never see each other's flows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.sql import Base, UTCDateTime


class FlowRecord(Base):
    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    draft: Mapped[str] = mapped_column(Text)
    # Raised by every save: a save names the revision it started from (optimistic locking).
    draft_revision: Mapped[int] = mapped_column(Integer)
    draft_saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    draft_saved_by: Mapped[str] = mapped_column(String(64))
    live_version: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("center", "name", name="uq_flows_center_name"),)


class FlowVersion(Base):
    __tablename__ = "flow_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (
        UniqueConstraint("center", "name", "version", name="uq_flow_versions_center_name_version"),
    )


class FlowAudit(Base):
    """Who did what to a flow or a line, when; `data` holds versions, revisions or the diff."""

    __tablename__ = "flow_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(80))  # "flow:311" or "line:311"
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_flow_audit_subject", "center", "subject", "id"),)


class LineAnnouncement(Base):
    """A storm or closure message the line's flow speaks (var `announcement`) while it is set."""

    __tablename__ = "line_announcements"

    center: Mapped[str] = mapped_column(String(64), primary_key=True)
    line: Mapped[str] = mapped_column(String(32), primary_key=True)
    text: Mapped[dict[str, str]] = mapped_column(JSON)  # language key -> text
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
    set_by: Mapped[str] = mapped_column(String(64))
