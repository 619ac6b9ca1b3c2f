"""Every key a script receives or touches carries the center's hash tag (Redis Cluster), and the
scripts ship as package data."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from importlib.resources import files

import pytest
import redis
from queue_support import MakeQueues, new_center, purge
from redis.cluster import key_slot
from redis.commands.core import Script
from redis.exceptions import ClusterCrossSlotError

from queues import QueueClass, Queues, scripts

CLASSES = [
    QueueClass("emergency", 0, max_size=10, max_wait=60),
    QueueClass("general", 1, max_wait=60, aging_seconds=30, aging_max_levels=2,
               target_answer_seconds=20),
]  # fmt: skip
T0 = 1_700_000_000.0


def exercise(q: Queues) -> None:
    """Every public operation at least once, the pipeline included."""
    q.push("a", "general", 5, {"line:311"}, T0, {"lang": "en"})
    q.push("b", "emergency", 1, {"line:911", "lang:es"}, T0 + 1)
    q.push("c", "general", 3, set(), T0 + 2, with_position=False)
    q.position("a", T0 + 3)
    q.set_staffing("general", 3)
    q.record_handle_time("general", 120.0, T0)
    q.estimate_wait("a", T0 + 3)
    q.stats(T0 + 100)
    q.due_overflow(T0 + 100)
    q.mark_callback("a")
    q.pop({"line:311"}, T0 + 4)
    q.requeue("c")
    q.pop({"line:311"}, T0 + 4)
    q.complete("c")
    q.remove("a")
    batch = q.pipeline().push("d", "general", 4, {"line:311"}, T0 + 5).pop({"line:311"}, T0 + 6)
    batch.position("b", T0 + 6).remove("b").requeue("d").mark_callback("d").estimate_wait("d", 9)
    batch.execute()
    q.push_front("e", "general", 4, {"line:311"}, T0 + 7)


def test_every_key_passed_to_a_script_shares_the_center_hash_tag(
    make_queues: MakeQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, list[list[str]]] = {}
    sha1 = lambda text: hashlib.sha1(text.encode()).hexdigest()  # noqa: E731
    names = {sha1(scripts.source(n)): n for n in scripts.NAMES}
    real_call = Script.__call__

    def spy(self: Script, keys=(), args=(), client=None):  # type: ignore[no-untyped-def]
        seen.setdefault(names[self.sha], []).append(list(keys))
        return real_call(self, keys, args, client)

    monkeypatch.setattr(Script, "__call__", spy)
    q = make_queues(CLASSES)
    exercise(q)
    assert set(seen) == set(scripts.NAMES)
    tag = "{" + q.keys.center + "}"
    slot = key_slot(q.keys.calls.encode())
    for name, calls in seen.items():
        for keys in calls:
            assert keys, name
            for key in keys:
                assert tag in key and key.index("{") == key.index(tag), (name, key)
                assert key_slot(key.encode()) == slot, (name, key)


_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
_HEAD = re.compile(r"^\S+ \[\d+ ([^\]]*)\] ")
# Commands the scripts use; each takes exactly one key, its first argument.
_ONE_KEY = {
    "HSETNX", "HSET", "HGET", "HDEL", "HEXISTS", "HINCRBY", "INCR", "DECR", "ZADD", "ZREM",
    "ZRANGE", "ZCOUNT", "ZCARD", "ZRANK", "ZRANGEBYSCORE", "ZRANGEBYLEX", "ZLEXCOUNT", "LPUSH",
    "LTRIM", "LRANGE",
}  # fmt: skip


def test_scripts_touch_only_keys_they_received(embedded_redis: redis.Redis) -> None:
    """Watch the embedded server with MONITOR: every command a script runs must name a key that
    its EVALSHA passed in KEYS (nothing built inside Lua). Embedded only: a shared server's
    MONITOR shows other clients' scripts too."""
    stop = "stop-" + uuid.uuid4().hex
    lines: list[str] = []
    monitor = embedded_redis.monitor()
    monitor.__enter__()

    def read() -> None:
        while True:
            raw = monitor.connection.read_response()
            line = raw.decode() if isinstance(raw, bytes) else str(raw)
            lines.append(line)
            if stop in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    q = Queues(embedded_redis, new_center(), CLASSES)
    try:
        exercise(q)
        embedded_redis.echo(stop)
        reader.join(10)
    finally:
        monitor.__exit__()
        purge(embedded_redis, q.keys, q.classes)
    assert not reader.is_alive()

    given: set[str] | None = None
    checked = 0
    for line in lines:
        head = _HEAD.match(line)
        if head is None:
            continue
        args = _ARG.findall(line[head.end() - 1 :])
        command = args[0].upper()
        if head.group(1) != "lua":
            if command == "EVALSHA":
                given = set(args[3 : 3 + int(args[2])])
            continue
        assert given is not None, line
        assert command in _ONE_KEY, line
        assert args[1] in given, line
        checked += 1
    assert checked > 50


def test_the_scripts_ship_with_the_package() -> None:
    folder = files("queues").joinpath("scripts")
    for name in (*scripts.NAMES, "_lib"):
        assert folder.joinpath(f"{name}.lua").is_file(), name


def test_the_cluster_itself_keeps_every_key_of_a_center_on_one_slot(cluster_redis) -> None:  # type: ignore[no-untyped-def]
    """On the run's real Redis Cluster: the keys every operation leaves behind all hash, by
    the server's own CLUSTER KEYSLOT, to one slot of one node; and that node refuses a script
    whose keys span two centers (so the scripts above would fail if a key lost its tag)."""
    q = Queues(cluster_redis, new_center(), CLASSES)
    try:
        exercise(q)
        keys = list(cluster_redis.scan_iter(match=f"*{{{q.keys.center}}}*", count=1000))
        assert len(keys) >= 5, keys
        slots = {cluster_redis.cluster_keyslot(k) for k in keys}
        assert len(slots) == 1, slots
        slot = slots.pop()
        node = cluster_redis.get_redis_connection(cluster_redis.get_node_from_key(keys[0]))
        assert node.cluster("countkeysinslot", slot) >= len(keys)
        with pytest.raises(ClusterCrossSlotError):  # the node's CROSSSLOT reply
            node.eval("return 1", 2, keys[0], "{" + new_center() + "}:x")
    finally:
        purge(cluster_redis, q.keys, q.classes)
