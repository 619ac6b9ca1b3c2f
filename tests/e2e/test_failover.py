"""Sentinel failover under waiting calls: the primary is killed, a replica is promoted, and the
calls that were waiting are offered to call-takers afterwards.

The test has a Sentinel group of its own (it kills the primary), from tests/redis_engines.py.
Its figures (seconds until the app's client reaches the promoted primary, calls lost) are
printed and kept as the test's user properties (``--junitxml`` shows them).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ivr.sim import answers, hangup, press, wait
from tests.conftest import Backend
from tests.e2e.floor import Floor
from tests.e2e.helpers import events
from tests.redis_engines import Engines, SentinelGroup, server_binary, start_sentinels

CALLS = 10
RECOVER_WITHIN = 60.0  # real seconds: Sentinel's down-after is 1 s, its failover a few more


class TickerFloor(Floor):
    """The floor ticking as `ivr worker`'s ticker does: a tick that meets Redis away fails and
    the next one runs on time (`ivr.worker.run_ticker`)."""

    failed_ticks = 0

    def step(self) -> None:
        try:
            super().step()
        except redis.RedisError:
            self.failed_ticks += 1


@pytest.fixture
def group(tmp_path: Path) -> Iterator[SentinelGroup]:
    if os.environ.get("IVR_TEST_ENGINES", "1") == "0":
        pytest.skip("IVR_TEST_ENGINES=0")
    binary = server_binary()
    if binary is None:
        pytest.skip("no redis-server on PATH")
    engines = Engines(tmp_path / "engines", binary)
    engines.folder.mkdir()
    try:
        yield start_sentinels(engines, "failover")
    finally:
        engines.stop()


@pytest.fixture
def backend(group: SentinelGroup, embedded_backend: Backend) -> Backend:
    """The app's Redis and RQ behind this test's Sentinels."""
    return Backend("sentinel", group.url, embedded_backend.database_url)


def test_calls_waiting_when_the_primary_is_killed_are_offered_after_the_failover(
    center, group: SentinelGroup, record_property  # type: ignore[no-untyped-def]
) -> None:
    floor = TickerFloor(center)
    calls = [center.call([press("1"), press("0"), wait(900), hangup()],
                         caller=f"+1410555{i:04d}", at=float(i)) for i in range(CALLS)]
    floor.run(until=60)
    svc = center.services
    waiting = sum(s.size for s in svc.queues.stats(svc.clock().timestamp()).values())
    assert waiting == CALLS

    os.kill(group.primary_pid, signal.SIGKILL)
    killed = time.monotonic()
    virtual = 60.0
    errors = 0
    while True:
        # Callers' webhooks and the floor's tick go on, one virtual second a turn, while the
        # primary is gone and until the client reaches the promoted replica.
        virtual += 1
        floor.run(until=virtual)
        try:
            if svc.redis.info("replication")["role"] == "master":
                break
        except redis.RedisError:
            errors += 1
        assert time.monotonic() - killed < RECOVER_WITHIN, "no primary after the failover"
        time.sleep(0.05)
    recovered = time.monotonic() - killed
    primary = svc.redis.connection_pool.get_master_address()
    assert primary[1] == group.replica_port  # the replica was promoted

    for i in range(CALLS):
        floor.login(f"taker{i}", phone=answers(after=3, hangup_after=30))
    floor.run(until=virtual + 120)
    offered = [c for c in calls if events(center, c.sid, "offered")]
    lost = CALLS - len(offered)
    record_property("failover_recover_seconds", round(recovered, 2))
    record_property("failover_calls_lost", lost)
    print(f"\nfailover: client on the promoted primary {recovered:.2f} s after SIGKILL "
          f"({errors} failed probes, {floor.failed_ticks} failed ticks); "
          f"calls lost {lost} of {CALLS}")
    assert lost == 0
    assert not [c.sid for c in calls if c.application_error]
