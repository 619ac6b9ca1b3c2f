"""The SQL records of recordings, their plays, and quality reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ivr.platform.sql import Base, UTCDateTime


class Recording(Base):
    """A recording Twilio made of a call's conference. `delete_after`: when the retention
    period ends (set once it is completed); `deleted_at`: when it was deleted at Twilio."""

    __tablename__ = "recordings"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    center: Mapped[str] = mapped_column(String(64))
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid", ondelete="CASCADE"))
    conference_sid: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))  # in-progress, completed, absent, deleted
    channels: Mapped[int] = mapped_column(Integer, default=1)
    duration: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delete_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_recordings_call", "call_sid"),
        Index("ix_recordings_due", "center", "delete_after"),
    )


class RecordingPlay(Base):
    """Who played which recording, when (every play is kept: the audit of listening)."""

    __tablename__ = "recording_plays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_sid: Mapped[str] = mapped_column(String(64))
    call_sid: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_recording_plays_recording", "recording_sid", "id"),)


class Review(Base):
    """One quality review of one call: the reviewer's score on each question of the form."""

    __tablename__ = "qa_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(ForeignKey("calls.sid", ondelete="CASCADE"))
    agent: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    period: Mapped[str] = mapped_column(String(10))  # the first day of the period, ISO
    reason: Mapped[str] = mapped_column(String(32))  # "sample" or the kind that chose it
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)  # percent of the form's maximum
    comment: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("call_sid", name="uq_qa_reviews_call"),
        Index("ix_qa_reviews_period", "period", "agent"),
    )
