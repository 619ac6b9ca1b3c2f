"""The ticker lease: one ticker at a time among several, on every Redis the app runs on."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from ivr import worker
from ivr.platform.lease import Lease, ticker_key
from ivr.platform.redisconn import client as redis_client
from tests.conftest import ALL_BACKENDS, Backend


@pytest.fixture(scope="session", params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """The lease also runs on the Cluster and behind the Sentinels."""
    return request.getfixturevalue(f"{request.param}_backend")


def test_one_holder_until_it_releases_or_its_lease_runs_out(backend: Backend) -> None:
    client = redis_client(backend.redis_url)
    key = ticker_key("t" + uuid.uuid4().hex[:10])
    first, second = Lease(client, key, 0.3), Lease(client, key, 0.3)
    try:
        assert first.hold() and first.hold()  # taken, then renewed
        assert not second.hold()
        first.release()
        assert second.hold() and not first.hold()
        deadline = time.monotonic() + 5
        while not first.hold():  # the holder stops renewing: the lease runs out
            assert time.monotonic() < deadline
            time.sleep(0.02)
        second.release()  # no longer its own: releases nothing
        assert not second.hold()
    finally:
        client.delete(key)
        client.close()


def test_two_tickers_tick_one_at_a_time_and_the_second_takes_over(
    settings, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    ticks: list[tuple[str, float]] = []
    monkeypatch.setattr(worker.connect, "tick", lambda svc: ticks.append(
        (threading.current_thread().name, time.monotonic())))
    stops = {name: threading.Event() for name in ("a", "b")}
    threads = {name: threading.Thread(target=worker.run_ticker, name=name,
                                      args=(settings, stops[name], 0.1), daemon=True)
               for name in stops}
    try:
        for t in threads.values():
            t.start()

        def wait_for(ok, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
            deadline = time.monotonic() + seconds
            while not ok():
                assert time.monotonic() < deadline
                time.sleep(0.02)

        wait_for(lambda: len(ticks) >= 15)
        holders = {name for name, _at in ticks}
        assert len(holders) == 1, holders
        holder = holders.pop()
        other = "b" if holder == "a" else "a"
        stops[holder].set()
        threads[holder].join(20)
        stopped = time.monotonic()
        wait_for(lambda: any(name == other for name, _at in ticks))
        took_over = next(at for name, at in ticks if name == other) - stopped
        assert took_over < 1.0  # released on stop: no waiting out the lease
        count = len(ticks)
        wait_for(lambda: len(ticks) >= count + 5)
        assert {name for name, _at in ticks[count:]} == {other}
    finally:
        for stop in stops.values():
            stop.set()
        for t in threads.values():
            t.join(20)
