"""The ``console:`` settings (see ivr/defaults/config.yaml), read once into a typed value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ivr.calls.callview import DEFAULT_DISPOSITIONS
from ivr.platform.config import ConfigError, Settings


@dataclass(frozen=True)
class ConsoleOptions:
    """`dispositions`: wrap-up code -> label, in the order shown. `break_reasons`: offered on
    the console (any short reason is accepted). `secure_cookies`: session cookie only over
    HTTPS (``auto``: when the public URL is https)."""

    dispositions: dict[str, str]
    break_reasons: tuple[str, ...]
    login_max_failures: int
    login_window_seconds: int
    address_max_failures: int
    events_heartbeat_seconds: float
    events_lifetime_seconds: float
    voice_token_ttl: int
    secure_cookies: bool
    session_idle: timedelta = timedelta(hours=2)
    session_max_age: timedelta = timedelta(hours=12)


def console_options(settings: Settings) -> ConsoleOptions:
    raw: dict[str, Any] = dict(settings.raw.get("console") or {})
    dispositions = _dispositions(raw.get("dispositions"))
    secure = raw.get("secure_cookies", "auto")
    if secure == "auto":
        secure = settings.public_url.startswith("https://")
    try:
        return ConsoleOptions(
            dispositions=dispositions,
            break_reasons=tuple(str(r) for r in raw.get("break_reasons") or ("Break",)),
            login_max_failures=int(raw.get("login_max_failures", 5)),
            login_window_seconds=int(raw.get("login_window_seconds", 900)),
            address_max_failures=int(raw.get("address_max_failures", 20)),
            events_heartbeat_seconds=float(raw.get("events_heartbeat_seconds", 15)),
            events_lifetime_seconds=float(raw.get("events_lifetime_seconds", 300)),
            voice_token_ttl=int(raw.get("voice_token_ttl", 3600)),
            secure_cookies=bool(secure),
            session_idle=timedelta(minutes=float(raw.get("session_idle_minutes", 120))),
            session_max_age=timedelta(hours=float(raw.get("session_max_hours", 12))),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"console settings: {exc}") from exc


def _dispositions(spec: Any) -> dict[str, str]:
    """``[{code: resolved, label: Resolved}, ...]`` -> {code: label}, in order."""
    if not spec:
        return dict(DEFAULT_DISPOSITIONS)
    out: dict[str, str] = {}
    for item in spec if isinstance(spec, list) else [None]:
        if not isinstance(item, dict) or not str(item.get("code") or "").strip():
            raise ConfigError("console.dispositions: a list of {code: ..., label: ...}")
        code = str(item["code"]).strip()
        out[code] = str(item.get("label") or code)
    return out


def trusted_proxies(settings: Settings) -> int:
    """``web.trusted_proxies``: how many proxies in front of the app append to X-Forwarded-For
    (0: none; the header is then ignored, as any client could write it)."""
    value = (settings.raw.get("web") or {}).get("trusted_proxies", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"web.trusted_proxies must be a whole number >= 0, not {value!r}")
    return value
