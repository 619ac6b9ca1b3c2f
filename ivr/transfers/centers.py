"""The ``dispatch_centers:`` and ``transfers:`` settings: where emergency transfers go.

A dispatch center has a primary destination (a number in E.164 or a ``sip:`` address), an
optional secondary one (tried when the primary is busy, does not answer or fails), the URL that
receives its hand-offs, and the *name* of the environment variable holding the secret that signs
them (default ``IVR_DISPATCH_SECRET_<NAME>``). The secret itself never lives in a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.platform.config import ConfigError, Settings
from ivr.platform.outbox_jobs import delivery_config
from ivr.transfers.pidf import CIVIC_ORDER

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def secret_env_name(center: str) -> str:
    """The default environment variable of a center's signing secret."""
    return "IVR_DISPATCH_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", center).upper()


def _destination(value: Any, where: str) -> str:
    text = str(value or "").strip()
    if not (_E164.match(text) or text.startswith("sip:")):
        raise ConfigError(f"{where}: {text!r} is neither an E.164 number (+1...) nor sip:...")
    return text


@dataclass(frozen=True)
class DispatchCenter:
    """One destination of transfers (see the module docstring)."""

    name: str
    label: str
    number: str
    secondary: str | None
    handoff_url: str | None
    secret_env: str
    agency: str

    def destination(self, which: str) -> str | None:
        return self.number if which == "primary" else self.secondary

    def secret(self, env: Mapping[str, str] | None = None) -> str | None:
        return (os.environ if env is None else env).get(self.secret_env) or None


@dataclass(frozen=True)
class Reclassify:
    """Where a 911 call reclassified as non-emergency goes: the line it then counts as, and the
    queue class, priority and skills it waits with (at the front of that class)."""

    line: str = "311"
    queue_class: str = "general"
    priority: int = 5
    skills: tuple[str, ...] = ("line:311",)


@dataclass(frozen=True)
class Rollover:
    """A line's rollover to an alternate PSAP (`ivr.transfers.rollover`): thresholds in
    seconds waited, None when that reason does not apply."""

    line: str
    center: str
    no_staff_after: float | None = None
    max_wait: float | None = None
    all_busy_after: float | None = None
    retry_after: float = 60.0
    attempts: int = 2

    @property
    def earliest(self) -> float:
        return min(t for t in (self.no_staff_after, self.max_wait, self.all_busy_after)
                   if t is not None)

    def reason(self, waited: float, on_duty: int, free: int) -> str | None:
        """Why a call that waited `waited` seconds rolls over now, or None. `on_duty`: the
        call-takers with the call's skills signed in and not on break; `free`: those of them
        available."""
        if self.no_staff_after is not None and on_duty == 0 and waited >= self.no_staff_after:
            return "no-staff"
        if self.max_wait is not None and waited >= self.max_wait:
            return "max-wait"
        if (self.all_busy_after is not None and on_duty > 0 and free == 0
                and waited >= self.all_busy_after):
            return "all-busy"
        return None


def _seconds(spec: Mapping[str, Any], key: str, where: str) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.{key} must be a number of seconds") from None
    if not 0 <= seconds <= 86400:
        raise ConfigError(f"{where}.{key} must be between 0 and 86400 seconds")
    return seconds


def rollover_rules(settings: Settings, centers: Iterable[str]) -> dict[str, Rollover]:
    """The ``rollover:`` of every line that has one (`ivr.transfers.rollover`); `ConfigError`
    names a wrong setting (`centers`: the configured dispatch centers)."""
    out = {}
    for name, spec in (settings.raw.get("lines") or {}).items():
        raw = (spec or {}).get("rollover")
        if not raw:
            continue
        where = f"lines.{name}.rollover"
        if not isinstance(raw, dict) or not raw.get("center"):
            raise ConfigError(f"{where} needs a center (one of dispatch_centers)")
        center = str(raw["center"])
        if center not in centers:
            raise ConfigError(f"{where}.center: {center!r} is not one of dispatch_centers")
        unknown = set(raw) - {"center", "no_staff_after", "max_wait", "all_busy_after",
                              "retry_after", "attempts"}
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
        rule = Rollover(line=str(name), center=center,
                        no_staff_after=_seconds(raw, "no_staff_after", where),
                        max_wait=_seconds(raw, "max_wait", where),
                        all_busy_after=_seconds(raw, "all_busy_after", where),
                        retry_after=_seconds(raw, "retry_after", where) or Rollover.retry_after,
                        attempts=int(raw.get("attempts", Rollover.attempts)))
        if rule.no_staff_after is None and rule.max_wait is None and rule.all_busy_after is None:
            raise ConfigError(f"{where} needs no_staff_after, max_wait or all_busy_after")
        if not 1 <= rule.attempts <= 10:
            raise ConfigError(f"{where}.attempts must be between 1 and 10")
        out[str(name)] = rule
    return out


@dataclass(frozen=True)
class TransferConfig:
    """The ``transfers:`` settings.

    `ring_seconds`: how long a dispatch line rings before the attempt counts as no answer.
    `menu`: a flow's transfer to a line (``"911"``) goes, at once, to this dispatch center
    instead, with a hand-off marked as coming from the menu (empty: to the line, as before).
    `agency`: this center's own agency id in the hand-offs. `reclassify`: see `Reclassify`.
    `civic`: the RFC 5139 parts a typed address leaves out (``country``, state ``A1``, city
    ``A3``), filled into the hand-off's PIDF-LO (`ivr.transfers.pidf`). `rollover`: by line,
    read from ``lines.<name>.rollover``.
    How hand-offs are delivered (``handoff_lease_seconds``, ``handoff_backoff``,
    ``handoff_queue``) is the outbox's: `ivr.platform.outbox_jobs.DeliveryConfig`.
    """

    ring_seconds: int = 30
    menu: dict[str, str] = field(default_factory=dict)
    agency: str = "311.city.example"
    centers: dict[str, DispatchCenter] = field(default_factory=dict)
    reclassify: Reclassify = field(default_factory=Reclassify)
    civic: dict[str, str] = field(default_factory=dict)
    rollover: dict[str, Rollover] = field(default_factory=dict)

    def center(self, name: str) -> DispatchCenter | None:
        return self.centers.get(name)

    def for_menu_line(self, line: str | None) -> DispatchCenter | None:
        name = self.menu.get(line or "")
        return self.centers.get(name) if name else None


def transfer_config(settings: Settings) -> TransferConfig:
    """Read and check ``dispatch_centers:`` and ``transfers:``; `ConfigError` names the fault."""
    spec = dict(settings.raw.get("transfers") or {})
    agency = str(spec.get("agency") or TransferConfig.agency)
    centers: dict[str, DispatchCenter] = {}
    for name, raw in (settings.raw.get("dispatch_centers") or {}).items():
        name = str(name)
        if not _NAME.match(name) or not isinstance(raw, dict):
            raise ConfigError(f"dispatch_centers: {name!r} needs a short name and a mapping")
        where = f"dispatch_centers.{name}"
        secondary = raw.get("secondary")
        url = raw.get("handoff_url")
        if url is not None and not str(url).startswith(("http://", "https://")):
            raise ConfigError(f"{where}.handoff_url must be an http(s) URL")
        centers[name] = DispatchCenter(
            name=name, label=str(raw.get("label") or name),
            number=_destination(raw.get("number"), f"{where}.number"),
            secondary=_destination(secondary, f"{where}.secondary") if secondary else None,
            handoff_url=str(url) if url else None,
            secret_env=str(raw.get("secret_env") or secret_env_name(name)),
            agency=str(raw.get("agency") or f"{name}.dispatch"),
        )
    menu = {str(k): str(v) for k, v in (spec.get("menu") or {}).items()}
    for line, name in menu.items():
        if name not in centers:
            raise ConfigError(f"transfers.menu: line {line!r} names no dispatch center {name!r}")
    delivery_config(settings)  # the hand-offs' delivery settings, checked with the rest
    ring = int(spec.get("ring_seconds") or TransferConfig.ring_seconds)
    if not 5 <= ring <= 600:
        raise ConfigError("transfers.ring_seconds must be between 5 and 600")
    raw = dict(spec.get("reclassify") or {})
    line = str(raw.get("line") or Reclassify.line)
    if line not in settings.lines:
        raise ConfigError(f"transfers.reclassify.line: {line!r} is not one of the lines")
    reclassify = Reclassify(
        line=line, queue_class=str(raw.get("class") or Reclassify.queue_class),
        priority=int(raw.get("priority") or Reclassify.priority),
        skills=tuple(str(s) for s in raw.get("skills") or (f"line:{line}",)))
    civic = {"country": settings.default_region,
             **{str(k): str(v) for k, v in (spec.get("civic") or {}).items() if v}}
    unknown = set(civic) - set(CIVIC_ORDER)
    if unknown:
        raise ConfigError(f"transfers.civic: {', '.join(sorted(unknown))} not RFC 5139 "
                          "civic address elements (country, A1, A3, ...)")
    return TransferConfig(
        reclassify=reclassify, ring_seconds=ring, menu=menu, agency=agency, centers=centers,
        civic=civic, rollover=rollover_rules(settings, centers),
    )
