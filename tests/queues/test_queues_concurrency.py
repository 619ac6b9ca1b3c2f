"""Two processes popping the same center at once never get the same call and never lose one."""

from __future__ import annotations

import multiprocessing as mp
import random
from typing import Any

import redis
from queue_support import new_center, purge
from redis.cluster import RedisCluster
from redis.sentinel import SentinelConnectionPool

from ivr.platform.redisconn import client
from queues import QueueClass, Queues

CLASSES = [
    QueueClass("emergency", 0),
    QueueClass("general", 1, aging_seconds=5, aging_max_levels=3),
]
SKILLS = ["line:911", "line:311", "lang:es", "topic:streets"]
CALLS = 1000
T0 = 1_700_000_000.0


def connect(address: dict[str, Any]) -> redis.Redis:
    if "unix" in address:
        return redis.Redis(unix_socket_path=address["unix"])
    return client(address["url"])  # type: ignore[no-any-return]


def address_of(redis_client: Any) -> dict[str, Any]:
    """How a forked process reaches the server of `redis_client` (a URL the app takes)."""
    if isinstance(redis_client, RedisCluster):
        nodes = ",".join(f"{n.host}:{n.port}" for n in redis_client.get_primaries())
        return {"url": f"redis+cluster://{nodes}"}
    pool = redis_client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        sentinels = ",".join(
            "{host}:{port}".format(**s.connection_pool.connection_kwargs)
            for s in pool.sentinel_manager.sentinels)
        return {"url": f"redis+sentinel://{sentinels}/{pool.service_name}"
                       f"/{pool.connection_kwargs.get('db', 0)}"}
    pool_kw = pool.connection_kwargs
    if "path" in pool_kw:
        return {"unix": pool_kw["path"]}
    return {"url": f"redis://{pool_kw['host']}:{pool_kw['port']}/{pool_kw.get('db', 0)}"}


def worker(address: dict[str, Any], center: str, seed: int, start: Any, out: Any) -> None:
    """Pop until the queue is empty; reject about one offer in ten (requeue) to stir things."""
    q = Queues(connect(address), center, CLASSES)
    rng = random.Random(seed)
    taken: list[str] = []
    start.wait()
    now = T0 + 10
    while (entry := q.pop(SKILLS, now)) is not None:
        now += 0.001
        if entry.attempts == 1 and rng.random() < 0.1:
            assert q.requeue(entry.call_id) is not None
            continue
        assert q.complete(entry.call_id)
        taken.append(entry.call_id)
    out.put(taken)


def test_two_processes_popping_share_every_call_exactly_once(redis_client: redis.Redis) -> None:
    center = new_center()
    q = Queues(redis_client, center, CLASSES)
    rng = random.Random(7)
    pushed = set()
    batch = q.pipeline()
    for i in range(CALLS):
        call_id = f"CA{i:05d}"
        cls = "emergency" if rng.random() < 0.2 else "general"
        reqs = set(rng.sample(SKILLS, rng.randint(0, 2)))
        batch.push(call_id, cls, rng.randint(1, 9), reqs, T0 + rng.random() * 10,
                   with_position=False)  # fmt: skip
        pushed.add(call_id)
    assert all(r.queued for r in batch.execute())

    address = address_of(redis_client)
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(address, center, s, start, out)) for s in (1, 2)]
    try:
        for p in procs:
            p.start()
        start.set()
        first, second = out.get(timeout=60), out.get(timeout=60)
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        leftover = redis_client.hlen(q.keys.calls)  # neither waiting nor offered calls remain
        stats = q.stats(T0 + 100)
        purge(redis_client, q.keys, q.classes)

    assert set(first).isdisjoint(second)
    assert len(first) + len(second) == CALLS
    assert set(first) | set(second) == pushed
    assert first and second  # both took part
    assert leftover == 0 and all(s.size == 0 for s in stats.values())
