"""Web sessions held on the server, so that one can be ended before its cookie expires.

The console's cookie is signed (Flask) and carries a random session token; SQL keeps a row per
session under the token's SHA-256 (a copy of the table signs nobody in). A session counts only
while its row exists, is not revoked and is younger than the absolute lifetime, whatever the
cookie says: signing out revokes the row, a changed password or a disabled account revokes every
row of the account (`ivr.accounts.accounts.update`), and an admin can sign an account out
everywhere. The idle limit is the cookie's own: Flask refuses a cookie not re-signed within
``PERMANENT_SESSION_LIFETIME`` (its signature carries the time it was made).

Times here are wall-clock times passed in by the caller (a session's life is a person's, not
the virtual clock of a simulated day).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ivr.platform.sql import Base, UTCDateTime


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    account_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_why: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_web_sessions_account", "account_id"),
                      Index("ix_web_sessions_created", "created_at"))


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(db: Session, account_id: int, now: datetime) -> str:
    """A new session for the account; returns the token the cookie carries (flushed, not
    committed: the caller's transaction)."""
    token = secrets.token_urlsafe(32)
    db.add(WebSession(id=_key(token), account_id=account_id, created_at=now))
    db.flush()
    return token


def is_live(db: Session, token: object, account_id: int, now: datetime,
            lifetime: timedelta) -> bool:
    """Whether `token` names an unrevoked session of `account_id` younger than `lifetime`."""
    if not isinstance(token, str) or not token:
        return False
    row = db.get(WebSession, _key(token))
    return (row is not None and row.account_id == account_id and row.revoked_at is None
            and now - row.created_at < lifetime)


def revoke(db: Session, token: object, now: datetime, why: str = "signed-out") -> None:
    if isinstance(token, str) and token:
        db.execute(update(WebSession).where(WebSession.id == _key(token),
                                            WebSession.revoked_at.is_(None))
                   .values(revoked_at=now, revoked_why=why))


def revoke_all(db: Session, account_id: int, now: datetime, why: str) -> int:
    """End every open session of the account; returns how many were open."""
    result = db.execute(update(WebSession).where(WebSession.account_id == account_id,
                                                 WebSession.revoked_at.is_(None))
                        .values(revoked_at=now, revoked_why=why))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_count(db: Session, account_id: int, now: datetime, lifetime: timedelta) -> int:
    rows = db.scalars(select(WebSession.created_at).where(
        WebSession.account_id == account_id, WebSession.revoked_at.is_(None)))
    return sum(1 for created in rows if now - created < lifetime)


def forget_old(db: Session, now: datetime, keep: timedelta) -> int:
    """Delete rows that ended or expired more than `keep` ago (they prove nothing more)."""
    old = now - keep
    result = db.execute(WebSession.__table__.delete().where(WebSession.created_at < old))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
