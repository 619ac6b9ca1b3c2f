"""Call-taker accounts: who may sign in to the consoles, with which roles, skills and phone.

An account's ``login`` is also its call-taker id in Redis presence (`agents.Agents`), so it is
fixed once made: renaming would orphan presence, reservations and reports. Passwords are kept
only as werkzeug scrypt hashes. Accounts are never deleted (call records and audits name them);
they are disabled.

Validation lives here, not in the CLI or the web layer, so every way of changing an account
refuses the same bad input with the same sentence.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.accounts import sessions
from ivr.platform.phones import normalize
from ivr.platform.sql import Base, UTCDateTime

ROLES = ("call-taker", "supervisor", "dispatcher", "admin")
"""call-taker: takes routed calls. supervisor: watches the floor (sees everyone's events).
dispatcher: a dispatch center's receiver of warm transfers. admin: manages accounts."""

SKILL_KINDS = ("line", "lang", "topic")
MIN_PASSWORD = 10
HASH_METHOD = "scrypt"
CLIENT_PREFIX = "client:"

_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_SKILL = re.compile(r"^(line|lang|topic):[a-z0-9][a-z0-9_.-]{0,63}$")
_IDENTITY = re.compile(r"^[A-Za-z0-9_.-]{1,121}$")


class AccountError(ValueError):
    """Input refused; `str(error)` says which field and why."""


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "client:<identity>" (the browser phone, Twilio Client) or an E.164 number (a desk phone).
    contact: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def client_identity(self) -> str | None:
        """The Twilio Client identity of the browser phone, or None for a desk phone."""
        if self.contact.startswith(CLIENT_PREFIX):
            return self.contact[len(CLIENT_PREFIX):]
        return None

    @property
    def stamp(self) -> str:
        """Changes when the password changes or the account is disabled: a web session made
        before then no longer matches and is signed out."""
        raw = f"{self.password_hash}|{self.active}".encode()
        return hashlib.sha256(raw).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        """What the consoles and `ivr agents list` show (never the hash)."""
        return {
            "login": self.login,
            "name": self.name,
            "roles": list(self.roles),
            "skills": list(self.skills),
            "contact": self.contact,
            "active": self.active,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


# -- validation ----------------------------------------------------------------------------------

def check_login(login: str) -> str:
    value = (login or "").strip().lower()
    if not _LOGIN.match(value):
        raise AccountError(
            f"login {login!r}: 2 to 64 characters, lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit")
    return value


def check_name(name: str) -> str:
    value = " ".join((name or "").split())
    if not value or len(value) > 200:
        raise AccountError("name: 1 to 200 characters")
    return value


def check_roles(roles: Iterable[str]) -> list[str]:
    out = sorted({r.strip().lower() for r in roles if r and r.strip()})
    if not out:
        raise AccountError(f"roles: at least one of {', '.join(ROLES)}")
    unknown = [r for r in out if r not in ROLES]
    if unknown:
        raise AccountError(f"role {unknown[0]!r} is unknown; roles are {', '.join(ROLES)}")
    return out


def check_skills(skills: Iterable[str]) -> list[str]:
    out = sorted({s.strip().lower() for s in skills if s and s.strip()})
    for skill in out:
        if not _SKILL.match(skill):
            raise AccountError(
                f"skill {skill!r}: write KIND:VALUE with KIND one of {', '.join(SKILL_KINDS)} "
                "(line:311, lang:es, topic:streets)")
    return out


def check_contact(contact: str, region: str = "US") -> str:
    """``client:<identity>`` for the browser phone, or a phone number (stored as E.164)."""
    value = (contact or "").strip()
    if value.startswith(CLIENT_PREFIX):
        if not _IDENTITY.match(value[len(CLIENT_PREFIX):]):
            raise AccountError(f"contact {contact!r}: a client identity is 1 to 121 letters, "
                               "digits, '.', '_' or '-'")
        return value
    number = normalize(value, region)
    if not (number.startswith("+") and number[1:].isdigit() and 8 <= len(number) <= 16):
        raise AccountError(f"contact {contact!r}: client:<identity> for the browser phone, or a "
                           "phone number such as +14435550123")
    return number


def check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise AccountError("password: at most 1024 characters")
    return password


def hash_password(password: str) -> str:
    return generate_password_hash(check_password(password), method=HASH_METHOD)


@cache
def _dummy_hash() -> str:
    """Checked when a login does not exist, so a failed login takes as long either way."""
    return generate_password_hash("not the password of anyone", method=HASH_METHOD)


# -- the store -----------------------------------------------------------------------------------

def get(session: Session, login: str) -> Account | None:
    try:
        value = check_login(login)
    except AccountError:
        return None
    return session.scalars(select(Account).where(Account.login == value)).first()


def get_by_id(session: Session, account_id: int) -> Account | None:
    return session.get(Account, account_id)


def contact_of(session: Session, login: str) -> str | None:
    """Where to ring the call-taker `login` (for the Telephony adapter's `contacts`); None
    for an unknown or disabled account."""
    account = get(session, login)
    return account.contact if account is not None and account.active else None


def all_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.login)))


def create(
    session: Session, *, login: str, name: str, password: str, roles: Iterable[str],
    skills: Iterable[str] = (), contact: str | None = None, now: datetime, region: str = "US",
) -> Account:
    """Add an account; the contact defaults to the browser phone ``client:<login>``."""
    value = check_login(login)
    if get(session, value) is not None:
        raise AccountError(f"login {value!r} is taken")
    account = Account(
        login=value, name=check_name(name), password_hash=hash_password(password),
        roles=check_roles(roles), skills=check_skills(skills),
        contact=check_contact(contact or f"{CLIENT_PREFIX}{value}", region),
        active=True, created_at=now, updated_at=now,
    )
    session.add(account)
    session.flush()
    return account


def update(
    session: Session, login: str, *, now: datetime, region: str = "US", name: str | None = None,
    password: str | None = None, roles: Iterable[str] | None = None,
    skills: Iterable[str] | None = None, contact: str | None = None, active: bool | None = None,
) -> Account:
    """Change the given fields (None leaves one as it is)."""
    account = get(session, login)
    if account is None:
        raise AccountError(f"no account {login!r}")
    if name is not None:
        account.name = check_name(name)
    if password is not None:
        account.password_hash = hash_password(password)
    if roles is not None:
        account.roles = check_roles(roles)
    if skills is not None:
        account.skills = check_skills(skills)
    if contact is not None:
        account.contact = check_contact(contact, region)
    if active is not None:
        account.active = active
    if password is not None or active is False:
        # The stamp signs such sessions out too; the rows say so on the server as well.
        sessions.revoke_all(session, account.id, now,
                            "password-changed" if password is not None else "disabled")
    account.updated_at = now
    session.flush()
    return account


def authenticate(session: Session, login: str, password: str) -> Account | None:
    """The active account whose password this is, else None. Unknown logins cost one hash
    check too, so timing does not tell which logins exist."""
    account = get(session, login)
    if account is None or not account.active:
        check_password_hash(_dummy_hash(), password or "")
        return None
    if not check_password_hash(account.password_hash, password or ""):
        return None
    return account


def disabled_with(session: Session, login: str, password: str) -> bool:
    """Whether `login` is a disabled account and `password` its right password: only then may
    a sign-in page say the account is disabled (a wrong password learns nothing). Costs one
    hash check whatever the answer, as `authenticate` does."""
    account = get(session, login)
    if account is None or account.active:
        check_password_hash(_dummy_hash(), password or "")
        return False
    return check_password_hash(account.password_hash, password or "")
