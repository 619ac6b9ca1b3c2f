"""The outbox delivers signed hand-offs to a real HTTP receiver, through real RQ workers, on real
Redis and SQL: retried with backoff until acknowledged, never lost, never processed twice by a
receiver that honours the idempotency key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import yaml
from rq import Queue

from ivr.platform import outbox, outbox_jobs
from ivr.platform.db import make_engine
from tests.ivr.handoff_receiver import Receiver
from tests.ivr.rq_support import BurstWorker

SECRET_NAME = "IVR_DISPATCH_SECRET_TESTPSAP"
SECRET = "s3cret-" + uuid.uuid4().hex
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def engine(settings):  # type: ignore[no-untyped-def]
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(SECRET)
    yield r
    r.close()


@pytest.fixture
def worker_env(settings, tmp_path: Path, backend) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The environment of a worker process of this test's center: its own RQ queue, short
    backoff and lease (real seconds), the signing secret."""
    queue = f"outbox-test-{settings.center}"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "center": settings.center,
        "transfers": {"handoff_queue": queue, "handoff_backoff": [0.3, 0.6],
                      "handoff_lease_seconds": 2},
    }), "utf-8")
    return {**os.environ, "IVR_CONFIG": str(config), "IVR_REDIS_URL": backend.redis_url,
            "IVR_DATABASE_URL": backend.database_url, SECRET_NAME: SECRET,
            "TWILIO_AUTH_TOKEN": "unused", "PYTHONPATH": str(REPO)}


def _settings(worker_env: dict[str, str]):  # type: ignore[no-untyped-def]
    from ivr.platform.config import load_settings

    return load_settings(env=worker_env)


def _add(engine, url: str, key: str) -> int:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        outbox.add(conn, kind="eido-handoff", destination=url, secret_name=SECRET_NAME,
                   payload={"incident": key, "notes": ["gas smell"]}, idempotency_key=key,
                   at=datetime.now(UTC), subject=key[:32])
        message = outbox.by_key(conn, key)
    assert message is not None
    return message.id


def _message(engine, message_id: int) -> outbox.Message:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        found = outbox.get(conn, message_id)
    assert found is not None
    return found


def test_signature_is_hmac_sha256_of_timestamp_and_body_and_refuses_replays() -> None:
    body = b'{"a":1}'
    headers = outbox.signed_headers("k", body, "key-1", 1_800_000_000)
    assert headers[outbox.SIGNATURE] == outbox.signature("k", "1800000000", body)
    assert outbox.verify("k", headers, body, 1_800_000_100)
    assert not outbox.verify("k", headers, b'{"a":2}', 1_800_000_100)  # tampered
    assert not outbox.verify("other", headers, body, 1_800_000_100)  # wrong secret
    assert not outbox.verify("k", headers, body, 1_800_000_000 + 301)  # replayed later
    assert headers[outbox.KEY] == "key-1"


def test_a_receiver_failing_three_times_gets_it_on_the_fourth_with_backoff(
        engine, receiver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(SECRET_NAME, SECRET)
    receiver.fail_first = 3
    key = "transfer-" + uuid.uuid4().hex
    mid = _add(engine, receiver.url, key)
    steps = (1.0, 2.0, 4.0)
    now = time.time()
    results, waits = [], []
    for _ in range(4):
        results.append(outbox.attempt(engine, mid, lease=30, steps=steps, now=now))
        m = _message(engine, mid)
        if m.delivered_at is None:
            assert outbox.attempt(engine, mid, lease=30, steps=steps, now=now) == "skipped"
            waits.append(round((m.next_attempt_at - datetime.fromtimestamp(now, UTC))
                               .total_seconds(), 3))
            now = m.next_attempt_at.timestamp()  # not before the backoff is over
    assert results == ["retry", "retry", "retry", "delivered"]
    assert waits == [1.0, 2.0, 4.0]
    m = _message(engine, mid)
    assert m.attempts == 4 and m.delivered_at is not None and m.last_error is None
    assert [r.key for r in receiver.received] == [key] * 4
    assert all(r.signed for r in receiver.received)
    assert list(receiver.processed) == [key]
    assert outbox.attempt(engine, mid, lease=30, steps=steps) == "skipped"  # never again


def test_a_missing_secret_is_never_sent_unsigned(engine, receiver, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(SECRET_NAME, raising=False)
    mid = _add(engine, receiver.url, "transfer-" + uuid.uuid4().hex)
    assert outbox.attempt(engine, mid, lease=30, steps=(5.0,)) == "retry"
    assert receiver.received == []
    assert SECRET_NAME in (_message(engine, mid).last_error or "")


def test_delivered_by_an_rq_worker_from_the_kick_or_from_the_sweep_after_a_lost_job(
        engine, receiver, worker_env) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(worker_env)
    conn = redis.Redis.from_url(worker_env["IVR_REDIS_URL"])
    q = Queue(outbox_jobs.queue_name(settings), connection=conn)
    first = _add(engine, receiver.url, "transfer-" + uuid.uuid4().hex)
    outbox_jobs.kick(settings, first, conn)
    second = _add(engine, receiver.url, "transfer-" + uuid.uuid4().hex)
    outbox_jobs.kick(settings, second, conn)
    q.empty()  # Redis lost both jobs (a restart without persistence): only SQL knows
    assert {first, second} <= set(outbox_jobs.sweep(settings, engine, datetime.now(UTC), conn))
    swept_again = outbox_jobs.sweep(settings, engine, datetime.now(UTC), conn)
    assert first not in swept_again and second not in swept_again  # one job per attempt
    old = dict(os.environ)
    os.environ.update(worker_env)
    try:
        BurstWorker([q], connection=conn).work(burst=True)
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert _message(engine, first).delivered_at is not None
    assert _message(engine, second).delivered_at is not None
    assert len(receiver.processed) == 2 and all(r.signed for r in receiver.received)
    conn.close()


def _worker(worker_env: dict[str, str], queue: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        # A SimpleWorker runs the job in the worker's own process (RQ's forking worker puts its
        # work horse in a session of its own), so killing the worker kills the delivery.
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--worker-class",
         "tests.ivr.rq_support.BurstWorker", "--url", worker_env["IVR_REDIS_URL"], queue],
        env=worker_env, cwd=REPO, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_killed_mid_delivery_loses_nothing_and_nothing_is_processed_twice(
        engine, receiver, worker_env) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(worker_env)
    conn = redis.Redis.from_url(worker_env["IVR_REDIS_URL"])
    receiver.stall_first = True  # the first POST hangs: the worker is killed during it
    key = "transfer-" + uuid.uuid4().hex
    mid = _add(engine, receiver.url, key)
    outbox_jobs.kick(settings, mid, conn)
    queue = outbox_jobs.queue_name(settings)
    first = _worker(worker_env, queue)
    try:
        assert receiver.first_arrived.wait(30), "the worker never posted"
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its work horse, mid-request
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    receiver.release.set()
    m = _message(engine, mid)
    assert m.delivered_at is None and m.attempts == 1  # claimed, never acknowledged
    # The lease (2 s) holds the message meanwhile: no second sender while one may still post.
    assert mid not in outbox_jobs.sweep(settings, engine, datetime.now(UTC), conn)
    later = m.next_attempt_at + timedelta(seconds=0.1)  # type: ignore[operator]
    time.sleep(max(0.0, (later - datetime.now(UTC)).total_seconds()))
    assert mid in outbox_jobs.sweep(settings, engine, datetime.now(UTC), conn)
    second = _worker(worker_env, queue)
    assert second.wait(60) == 0
    m = _message(engine, mid)
    assert m.delivered_at is not None and m.attempts == 2
    assert all(r.signed for r in receiver.received)
    assert {r.key for r in receiver.received} == {key}
    assert list(receiver.processed) == [key]  # the receiver acted once
    conn.close()


def test_through_rq_a_receiver_failing_three_times_is_retried_until_it_acknowledges(
        engine, receiver, worker_env) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(worker_env)
    conn = redis.Redis.from_url(worker_env["IVR_REDIS_URL"])
    q = Queue(outbox_jobs.queue_name(settings), connection=conn)
    receiver.fail_first = 3
    key = "transfer-" + uuid.uuid4().hex
    mid = _add(engine, receiver.url, key)
    outbox_jobs.kick(settings, mid, conn)
    old = dict(os.environ)
    os.environ.update(worker_env)
    try:
        # The worker and the ticker's sweep, in turn, until the receiver has acknowledged: a
        # condition with a generous deadline, however slow a loaded machine makes each turn.
        # Nothing here assumes how long a delivery or a backoff takes.
        deadline = time.monotonic() + 180
        while _message(engine, mid).delivered_at is None:
            assert time.monotonic() < deadline, \
                f"not delivered after 180 s: {_message(engine, mid)}"
            BurstWorker([q], connection=conn).work(burst=True)
            outbox_jobs.sweep(settings, engine, datetime.now(UTC), conn)
            time.sleep(0.05)  # a poll interval, not a guess at how long anything takes
    finally:
        os.environ.clear()
        os.environ.update(old)
        conn.close()
    m = _message(engine, mid)
    assert m.delivered_at is not None and m.attempts == 4
    assert [r.key for r in receiver.received] == [key] * 4
    assert all(r.signed for r in receiver.received)
    stamps = [int(r.headers[outbox.TIMESTAMP]) for r in receiver.received]
    assert stamps == sorted(stamps)
    assert list(receiver.processed) == [key]


@pytest.mark.parametrize("keeps_data", [True, False], ids=["aof", "data-lost"])
def test_a_redis_restart_between_the_commit_and_the_delivery_loses_nothing(
        engine, receiver, worker_env, tmp_path: Path, keeps_data: bool) -> None:  # type: ignore[no-untyped-def]
    """A Redis of its own, restarted after the job was enqueued: with its append-only file the
    job is still there; without it (a Redis without persistence, a failover to a replica that
    never got it) the sweep enqueues the message again from SQL."""
    from ivr.platform.redisconn import start_embedded, stop_embedded

    folder = tmp_path / "redis"
    url = start_embedded(folder)
    settings = _settings({**worker_env, "IVR_REDIS_URL": url})
    key = "transfer-" + uuid.uuid4().hex
    mid = _add(engine, receiver.url, key)
    conn = redis.Redis.from_url(url)
    outbox_jobs.kick(settings, mid, conn)
    assert Queue(outbox_jobs.queue_name(settings), connection=conn).count == 1
    conn.close()
    stop_embedded(folder)
    if not keeps_data:
        for path in folder.rglob("*"):
            if path.is_file() and ("aof" in path.name or path.suffix in (".db", ".rdb")):
                path.unlink()
    url = start_embedded(folder)
    conn = redis.Redis.from_url(url)
    q = Queue(outbox_jobs.queue_name(settings), connection=conn)
    assert q.count == (1 if keeps_data else 0)
    swept = outbox_jobs.sweep(settings, engine, datetime.now(UTC), conn)
    assert (mid in swept) is (not keeps_data)  # a job that survived is not enqueued twice
    old = dict(os.environ)
    os.environ.update({**worker_env, "IVR_REDIS_URL": url})
    try:
        BurstWorker([q], connection=conn).work(burst=True)
    finally:
        os.environ.clear()
        os.environ.update(old)
        conn.close()
        stop_embedded(folder)
    assert _message(engine, mid).delivered_at is not None
    assert [r.key for r in receiver.received] == [key]  # once, either way
