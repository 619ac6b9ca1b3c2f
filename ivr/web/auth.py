"""Who is asking: web sessions of accounts, role checks, and the limit on failed logins.

A web session (Flask's signed cookie, key from ``IVR_SECRET_KEY`` and never a default) holds the
account id, its `Account.stamp` and a session token whose row in SQL (`ivr.accounts.sessions`)
must still be open: signing out, a changed password, a disabled account or an admin's "sign out
everywhere" ends a session on the server, so a copy of the cookie kept from before is worth
nothing. A session lasts at most ``console.session_max_hours`` from sign-in, and ends sooner when
idle for ``console.session_idle_minutes`` (the cookie's signed time, checked by Flask).

Roles are checked by `require`, on every console page and API action. No action takes a
call-taker id from the request: whom an action is for is always the signed-in account, so a
call-taker can never act for another.

Failed logins are counted in Redis twice, per login (from any address: a password guessed slowly
from many addresses) and per client address (over every login: one password tried on many
logins), whether the login exists or not; past either limit sign-in is refused for a while, and
the answer never says whether a login exists. The client address is the TCP peer's, or, behind
``web.trusted_proxies`` proxies, the one they forwarded (werkzeug's ProxyFix, see `ivr.app`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from flask import current_app, g, request, session
from redis import Redis
from sqlalchemy.orm import Session

from ivr.accounts import accounts, sessions
from ivr.accounts.accounts import Account
from ivr.web.errors import ApiError

SESSION_ACCOUNT = "account"
SESSION_STAMP = "stamp"
SESSION_TOKEN = "sid"
MAX_AGE_CONFIG = "IVR_SESSION_MAX_AGE"

TAKES_CALLS = ("call-taker",)
SEES_FLOOR = ("supervisor", "admin")
EDITS_FLOWS = SEES_FLOOR  # supervisors and admins


SESSION_IDLE = timedelta(hours=2)
"""Idle limit: the cookie is re-signed by every request (the console's live stream renews it
every few minutes), and Flask refuses one not renewed within this."""
SESSION_MAX_AGE = timedelta(hours=12)
"""Absolute limit from sign-in, renewals or not: a shift, then sign in again."""


def configure_cookies(app: Any, secure: bool, idle: timedelta = SESSION_IDLE,
                      max_age: timedelta = SESSION_MAX_AGE) -> None:
    """Session cookie settings for the consoles, where the app left Flask's defaults (an app
    or a test that set one keeps its own)."""
    wanted = {
        "SESSION_COOKIE_NAME": "ivr_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "PERMANENT_SESSION_LIFETIME": idle,
    }
    for key, value in wanted.items():
        if app.config.get(key) == app.default_config.get(key):
            app.config[key] = value
    app.config.setdefault(MAX_AGE_CONFIG, max_age)


def wall_clock() -> datetime:
    """Sessions live in people's time, never a simulated day's virtual clock."""
    return datetime.now(UTC)


def _max_age() -> timedelta:
    return current_app.config.get(MAX_AGE_CONFIG, SESSION_MAX_AGE)  # type: ignore[no-any-return]


def secret_key_set() -> bool:
    return bool(current_app.config.get("SECRET_KEY"))


def sign_in(db: Session, account: Account) -> None:
    """Start a fresh web session for `account` (nothing of the session before survives); its
    row is added to `db`, which the caller commits."""
    now = wall_clock()
    sessions.forget_old(db, now, 2 * _max_age())
    session.clear()
    session.permanent = True
    session[SESSION_ACCOUNT] = account.id
    session[SESSION_STAMP] = account.stamp
    session[SESSION_TOKEN] = sessions.open_session(db, account.id, now)
    g.account = account


def sign_out(db: Session) -> None:
    """End this session on the server too (the caller commits `db`) and clear the cookie."""
    sessions.revoke(db, session.get(SESSION_TOKEN), wall_clock())
    session.clear()
    g.account = None


def current_account(db: Session) -> Account | None:
    """The signed-in, active account whose stamp matches the session and whose session is
    still open on the server, else None."""
    if "account" in g:
        return g.account  # type: ignore[no-any-return]
    found = None
    account_id = session.get(SESSION_ACCOUNT)
    if isinstance(account_id, int):
        account = accounts.get_by_id(db, account_id)
        if (account is not None and account.active
                and account.stamp == session.get(SESSION_STAMP)
                and sessions.is_live(db, session.get(SESSION_TOKEN), account.id, wall_clock(),
                                     _max_age())):
            found = account
    g.account = found
    return found


def require(*roles: str, db: Callable[[], Session],
            on_missing: Callable[[], Any] | None = None) -> Callable[..., Any]:
    """Decorator: the view runs only for a signed-in account holding one of `roles` (any
    signed-in account when none are named). Otherwise 401 ``not_signed_in`` (or what
    `on_missing()` returns: a console page redirects to its login form) or 403 ``forbidden``.
    The account is passed to the view as the keyword ``account``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not secret_key_set():
                raise ApiError(503, "no_secret_key",
                               "sign-in is unavailable: IVR_SECRET_KEY is not set on the server")
            account = current_account(db())
            if account is None:
                if on_missing is not None:
                    return on_missing()
                raise ApiError(401, "not_signed_in", "sign in first")
            if roles and not account.has_role(*roles):
                raise ApiError(403, "forbidden",
                               f"this needs the role {' or '.join(roles)}; "
                               f"{account.login} has {', '.join(account.roles)}")
            return view(*args, account=account, **kwargs)

        wrapper.ivr_roles = roles  # type: ignore[attr-defined]  # read by the route table
        return wrapper

    return decorate


@dataclass(frozen=True)
class LoginLimiter:
    """At most `max_failures` failed logins per login (from any address) and
    `address_max_failures` per client address (over all logins) in `window` seconds.

    The keys hold hashes, not logins or addresses: Redis never lists who tried what. A window
    starts at its first failure and is not extended by later ones, so a person who mistyped
    waits at most `window` seconds. A success forgets its login's failures but not its
    address's: one account of one's own must not reset a spray over every other login.
    """

    redis: Redis
    center: str
    max_failures: int = 5
    window: int = 900
    address_max_failures: int = 20

    def _key(self, kind: str, value: str) -> str:
        digest = hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()
        return f"web:{{{self.center}}}:login-failures:{kind}:{digest[:32]}"

    def keys(self, login: str, address: str) -> tuple[str, str]:
        return self._key("login", login.strip().lower()), self._key("address", address)

    def blocked(self, login: str, address: str) -> bool:
        by_login, by_address = self.redis.mget(self.keys(login, address))
        return ((by_login is not None and int(by_login) >= self.max_failures)
                or (by_address is not None and int(by_address) >= self.address_max_failures))

    def failed(self, login: str, address: str) -> int:
        """Count a failure on both; returns the login's count."""
        pipe = self.redis.pipeline(transaction=True)
        for key in self.keys(login, address):
            pipe.set(key, 0, ex=self.window, nx=True)  # the window starts with the first failure
            pipe.incr(key)
        _, by_login, _, _ = pipe.execute()
        return int(by_login)

    def succeeded(self, login: str, address: str) -> None:
        self.redis.delete(self.keys(login, address)[0])


def client_address() -> str:
    """The address failures are counted against: the client's, once ProxyFix (configured by
    ``web.trusted_proxies``) has taken it from the trusted proxies' X-Forwarded-For."""
    return request.remote_addr or "-"


def request_db() -> Session:
    """One SQL session per request for the console pages and API (closed by `close_request_db`,
    which the app registers at teardown)."""
    if "db" not in g:
        g.db = current_app.extensions["ivr"].sessions()
    return g.db  # type: ignore[no-any-return]


def close_request_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()
