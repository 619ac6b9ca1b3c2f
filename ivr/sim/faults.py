"""Faults the emulator injects on Twilio's side of the wire, and its log of them.

- An **outage** of the app's host: from `start` to `end` (virtual offsets; `end` None: until
  brought back) every request to that host is refused, as a connection to a restarting server
  is. What follows is Twilio's own rule (reference/TWILIO.md, "Timeouts and failures"): a TwiML
  request that fails is error 11205 and goes to the number's fallback URL (with `ErrorCode` and
  `ErrorUrl`) if it has one on a host that answers, else the caller hears the application
  error; a status callback that fails is not sent again (Twilio does not retry them), so it is
  lost.
- A **lost status callback** by policy (`StatusPolicy(lose=..., lose_events=...)`).

Every fault that touched a request is in `Faults.log` (`Fault.kind` ``refused`` or
``status_lost``), so a test can say what the app never received.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Fault:
    t: float  # virtual offset
    kind: str  # "refused" (a request to a host that was down) or "status_lost"
    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


@dataclass
class Outage:
    """`host` (a name, or name:port) refuses connections in [start, end)."""

    host: str
    start: float
    end: float | None = None

    def covers(self, url: str, t: float) -> bool:
        parts = urlsplit(url)
        if self.host not in (parts.netloc, parts.hostname):
            return False
        return self.start <= t and (self.end is None or t < self.end)


@dataclass
class Faults:
    """The outages planned and the log of what the faults did."""

    outages: list[Outage] = field(default_factory=list)
    log: list[Fault] = field(default_factory=list)

    def refuses(self, url: str, t: float) -> Outage | None:
        return next((o for o in self.outages if o.covers(url, t)), None)

    def record(self, t: float, kind: str, **data: Any) -> None:
        self.log.append(Fault(t, kind, data))

    def of(self, kind: str) -> list[Fault]:
        return [f for f in self.log if f.kind == kind]
