"""When to restart a process that died: exponential backoff, capped, forgiven after a while.

Pure: the caller says when a process started and when it died (monotonic seconds); `ivr.serve`
does the process work. A process that keeps dying right after its start is restarted ever
later (`first`, doubled each time, at most `cap`); one that stayed up `stable_after` seconds
died of something new, and starts again from `first`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.platform.config import ConfigError


@dataclass(frozen=True)
class BackoffPolicy:
    first: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    stable_after: float = 60.0


@dataclass
class Backoff:
    """The restart delays of one supervised process."""

    policy: BackoffPolicy
    failures: int = 0

    def delay(self, started_at: float, died_at: float) -> float:
        """Seconds to wait before the next start of a process that ran [started_at, died_at]."""
        if died_at - started_at >= self.policy.stable_after:
            self.failures = 0
        p = self.policy
        wait = min(p.cap, p.first * p.factor ** self.failures)
        self.failures += 1
        return wait


def backoff_policy(raw: dict[str, Any]) -> BackoffPolicy:
    """Read the ``serve:`` settings ``restart_first_seconds``, ``restart_max_seconds`` and
    ``restart_forgiven_after_seconds``; `ConfigError` names the fault."""
    spec = dict(raw.get("serve") or {})
    default = BackoffPolicy()
    try:
        policy = BackoffPolicy(
            first=float(spec.get("restart_first_seconds", default.first)),
            cap=float(spec.get("restart_max_seconds", default.cap)),
            stable_after=float(spec.get("restart_forgiven_after_seconds",
                                        default.stable_after)))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"serve.restart_*: seconds, as numbers ({exc})") from exc
    if not 0 < policy.first <= policy.cap or policy.stable_after <= 0:
        raise ConfigError("serve: need 0 < restart_first_seconds <= restart_max_seconds and a "
                          "positive restart_forgiven_after_seconds")
    return policy
