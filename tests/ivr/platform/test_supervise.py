"""The restart backoff of `ivr serve`: doubled while a process keeps dying, capped, forgiven
once it stayed up; and its settings, refused with a sentence when they make no sense."""

from __future__ import annotations

import pytest

from ivr.platform.config import ConfigError
from ivr.platform.supervise import Backoff, BackoffPolicy, backoff_policy


def test_a_process_dying_at_once_waits_longer_each_time_up_to_the_cap() -> None:
    b = Backoff(BackoffPolicy(first=0.5, factor=2, cap=5, stable_after=60))
    now, delays = 0.0, []
    for _ in range(6):
        delay = b.delay(started_at=now, died_at=now + 1)  # up one second each time
        delays.append(delay)
        now += 1 + delay
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_a_process_that_stayed_up_starts_again_from_the_first_delay() -> None:
    b = Backoff(BackoffPolicy(first=0.5, cap=30, stable_after=60))
    assert [b.delay(0, 1), b.delay(2, 3), b.delay(4, 5)] == [0.5, 1.0, 2.0]
    assert b.delay(10, 70) == 0.5  # a minute up: forgiven
    assert b.delay(71, 72) == 1.0


def test_settings_of_serve() -> None:
    policy = backoff_policy({"serve": {"restart_first_seconds": 2, "restart_max_seconds": 8}})
    assert (policy.first, policy.cap, policy.stable_after) == (2.0, 8.0, 60.0)
    assert backoff_policy({}) == BackoffPolicy()
    with pytest.raises(ConfigError, match="restart_first_seconds"):
        backoff_policy({"serve": {"restart_first_seconds": 10, "restart_max_seconds": 1}})
    with pytest.raises(ConfigError, match="numbers"):
        backoff_policy({"serve": {"restart_max_seconds": "soon"}})
