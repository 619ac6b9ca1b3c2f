"""The live state of calls in progress, in Redis, shared by every web process.

One small JSON document per call. Besides the flow state it keeps `seq` and the last TwiML answered:
a replayed or out-of-date webhook (a Gather posted twice, a retry after a slow answer) gets the same
document again instead of advancing the call twice.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

import redis

from callflows.state import CallState

LIVE_TTL = 24 * 3600  # a call longer than a day is abandoned state, not a call

# Where a call stands in its life, which decides how its end is recorded.
PHASES = ("flow", "queued", "transfer", "connecting", "connected", "done", "ended")


@dataclass(frozen=True)
class LiveCall:
    sid: str
    line: str
    state: CallState
    seq: int = 0
    phase: str = "flow"
    outcome: str | None = None  # the outcome if the call ended now (set as the flow progresses)
    last_twiml: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def evolve(self, **changes: Any) -> LiveCall:
        return replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(
            {
                "sid": self.sid, "line": self.line, "state": self.state.to_dict(),
                "seq": self.seq, "phase": self.phase, "outcome": self.outcome,
                "last_twiml": self.last_twiml, "extra": self.extra,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> LiveCall:
        data = json.loads(text)
        return cls(
            sid=data["sid"], line=data["line"], state=CallState.from_dict(data["state"]),
            seq=int(data["seq"]), phase=data["phase"], outcome=data.get("outcome"),
            last_twiml=data.get("last_twiml", ""), extra=data.get("extra") or {},
        )


class LiveCalls:
    def __init__(self, client: redis.Redis, center: str) -> None:
        self._r = client
        self._prefix = f"ivr:{{{center}}}:call:"

    def key(self, sid: str) -> str:
        return self._prefix + sid

    def get(self, sid: str) -> LiveCall | None:
        raw = self._r.get(self.key(sid))
        return LiveCall.from_json(raw) if raw else None

    def put(self, call: LiveCall, ttl: int = LIVE_TTL) -> None:
        self._r.set(self.key(call.sid), call.to_json(), ex=ttl)

    def delete(self, sid: str) -> None:
        self._r.delete(self.key(sid))

    def first_time(self, token: str, ttl: int = LIVE_TTL) -> bool:
        """True the first time `token` is seen: de-duplicates callbacks Twilio sends twice."""
        return bool(self._r.set(f"{self._prefix}seen:{token}", "1", nx=True, ex=ttl))

    def forget(self, token: str) -> None:
        """Undo `first_time` when the work it guarded failed, so the event can be applied again
        (from the journal after an outage). Best effort: Redis may be what failed."""
        with contextlib.suppress(redis.RedisError):
            self._r.delete(f"{self._prefix}seen:{token}")
