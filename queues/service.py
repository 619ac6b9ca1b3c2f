"""`Queues`: the waiting calls of one center, kept in Redis.

Layout (details in `queues.keys` and ``scripts/_lib.lua``): waiting calls sit in buckets, one
sorted set per (class, requirement set), ordered by (priority, arrival, seq) through their
member bytes; one more such set per class holds all of the class's calls, for sizes, waits,
positions and overflow. Why buckets, and why aging is applied when reading rather than baked
into a score:

* Requirements. A call-taker may only take calls whose requirements are a subset of their
  skills, and the 911-before-311 rule holds per call-taker: a 911 call that needs ``lang:es``
  must not keep an English-only call-taker from 311 calls. Pop therefore looks only at the
  buckets whose requirement set the call-taker covers, and never at a call it could not take.
* Aging. Bounded aging (max levels, a floor) makes the effective priority a non-linear
  function of the wait, so no static score orders a class correctly at every instant. Within
  one base priority, though, an older call has aged at least as much as a younger one, so
  order by arrival *is* order by (effective priority, arrival, seq) at any `now`. Pop reads the
  head of each eligible bucket, then the oldest call of only those worse priorities that aging
  could bring level (at most `aging_max_levels` of them), and compares them with aging applied
  at `now`. Position counts, in the class order, everything below the target's effective
  priority plus, for each priority aging can bring level, the prefix of calls ahead: one
  O(log n) ZLEXCOUNT per priority examined. Rank is compared before effective priority, so
  aging never lifts a call above a better-ranked class.

Every operation that touches several keys is one Lua script (one round trip, atomic); keys
are passed in KEYS; time is always a parameter. See `queues.index` for how the client names
the buckets to the scripts and why a script may answer ``stale``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from redis import Redis

from queues import records, scripts
from queues.index import Bucket, Index, class_specs, version_count
from queues.keys import Keys
from queues.model import (
    EMERGENCY,
    PRIORITY_MAX,
    PRIORITY_MIN,
    ClassStats,
    Entry,
    PushResult,
    QueueClass,
    WaitEstimate,
)
from queues.plans import (
    Call,
    Plan,
    PopPlan,
    PushPlan,
    PushShape,
    Stale,
    entry_if_ok,
    status,
)

if TYPE_CHECKING:
    from queues.batch import Batch

# Re-reads of the index before giving up: each retry follows a concurrent bucket creation.
_ATTEMPTS = 8


class Queues:
    """The priority queues of waiting calls of one center.

    Construct one per process (it caches the bucket index) with a redis-py client (bytes or
    str replies), the center name and the configured classes. Every method is one round trip,
    plus one to re-read the index after another process added a bucket.
    """

    def __init__(
        self,
        redis: Redis,
        center: str,
        classes: Iterable[QueueClass],
        *,
        handle_window: int = 50,
        handle_max_age: float = 3600.0,
    ) -> None:
        self.redis = redis
        self.keys = Keys(center)
        self.classes: dict[str, QueueClass] = {}
        for cls in classes:
            if cls.name in self.classes:
                raise ValueError(f"queue class {cls.name!r} is configured twice")
            self.classes[cls.name] = cls
        emergency = self.classes.get(EMERGENCY)
        if emergency is not None:
            for cls in self.classes.values():
                if cls is not emergency and cls.rank <= emergency.rank:
                    raise ValueError(
                        f"queue class {cls.name!r} must rank below {EMERGENCY!r} "
                        f"(rank > {emergency.rank})"
                    )
        if handle_window < 1:
            raise ValueError("handle_window must be >= 1")
        self.handle_window = handle_window
        self.handle_max_age = handle_max_age
        k = self.keys
        self._specs = class_specs(self.classes)
        if len(self.classes) > 255:
            raise ValueError("at most 255 queue classes")  # a class slot is one byte
        self._pop_head = bytes([len(self.classes)]) + self._specs
        self._slot = {name: i + 1 for i, name in enumerate(self.classes)}
        self._orders = [k.order(name) for name in self.classes]
        # per class, for the position at push: the orders of the classes ranked above it
        # (counted whole), and the orders and slots of the classes of its rank (itself included)
        self._better: dict[str, list[str]] = {}
        self._same: dict[str, tuple[list[str], str]] = {}
        for name, cls in self.classes.items():
            self._better[name] = [
                k.order(o.name) for o in self.classes.values() if o.rank < cls.rank
            ]
            same = [o.name for o in self.classes.values() if o.rank == cls.rank]
            self._same[name] = (
                [k.order(o) for o in same],
                "".join(chr(48 + self._slot[o]) for o in same),
            )
        self._position_keys = [k.calls, k.staffing]
        for name in self.classes:
            self._position_keys += [k.order(name), k.handle(name)]
        self._names = " ".join(self.classes)
        self._push_shapes: dict[tuple[str, frozenset[str], bool], PushShape] = {}
        self._checked: dict[frozenset[str], frozenset[str]] = {}
        self._scripts = scripts.register(redis)
        self._index: Index | None = None

    # -- waiting calls ------------------------------------------------------------------------

    def push(
        self,
        call_id: str,
        queue_class: str,
        priority: int,
        skills: Iterable[str],
        now: float,
        data: Mapping[str, str] | None = None,
        *,
        with_position: bool = True,
    ) -> PushResult:
        """Put a call in line at `now`. ``full`` when its class holds `max_size` waiting calls,
        ``duplicate`` when the id is already waiting or offered. The position is that of
        `position(call_id, now)` (None when `with_position` is False, which saves its cost)."""
        plan = self._plan_push(call_id, queue_class, priority, skills, now, data, with_position)
        return self._run(plan)

    def push_front(
        self,
        call_id: str,
        queue_class: str,
        priority: int,
        skills: Iterable[str],
        now: float,
        data: Mapping[str, str] | None = None,
    ) -> PushResult:
        """Put a call in line ahead of every call waiting in its class (best base priority of
        the class, arrival just before its oldest call): a caller back from a failed transfer,
        a 911 call reclassified as 311. Never ``full`` (the caller was already being served);
        ``duplicate`` as for `push`. One script, atomic."""
        plan = self._plan_push(call_id, queue_class, priority, skills, now, data, False,
                               script="push_front")
        return self._run(plan)

    def pop(self, skills: Iterable[str], now: float) -> Entry | None:
        """Take the best waiting call whose requirements are all within `skills`, and hold it as
        offered (until `complete`, `requeue` or `remove`). None when there is none."""
        return self._run(self._plan_pop(skills, now))

    def remove(self, call_id: str) -> Entry | None:
        """Forget a waiting or offered call (the caller hung up). Returns it (`Entry.wait` gives
        its wait), or None when unknown."""
        return self._run(self._plan_by_id("remove", call_id))

    def requeue(self, call_id: str) -> Entry | None:
        """Put an offered call back at its original place (arrival, seq and priority unchanged,
        `attempts` kept). None when the call is not offered. Ignores `max_size`."""
        return self._run(self._plan_by_id("requeue", call_id))

    def complete(self, call_id: str) -> bool:
        """Drop an offered call that was answered. False when it is not offered."""
        return bool(self._scripts["complete"](keys=[self.keys.calls], args=[call_id]))

    def mark_callback(self, call_id: str) -> Entry | None:
        """Flag a waiting (or offered) call as a callback without changing its place.
        Returns the flagged entry, or None when unknown."""
        return self._run(self._plan_callback(call_id))

    # -- where a caller stands ----------------------------------------------------------------

    def position(self, call_id: str, now: float) -> int | None:
        """1 + the number of waiting calls that a call-taker able to take every call would be
        offered before this one at `now`: all calls of better-ranked classes, plus the calls of
        the same rank with a smaller (effective priority, arrival, seq). None when the call is
        not waiting (or its class is no longer configured)."""
        return self._run(self._plan_position(call_id, now))

    def estimate_wait(self, call_id: str, now: float) -> WaitEstimate | None:
        """Estimated wait of a waiting call:

            seconds = position * mean recent handle time of its class / max(1, agents)

        where the handle times are the last `handle_window` recorded for the class within
        `handle_max_age` seconds (the class's `default_handle_seconds` when there are none),
        and agents the staffing last recorded with `set_staffing`. None when not waiting."""
        return self._run(self._plan_position(call_id, now, estimate=True))

    def set_staffing(self, queue_class: str, agents: int) -> None:
        """Record how many call-takers serve `queue_class` (read by `estimate_wait`)."""
        self._class(queue_class)
        if agents < 0:
            raise ValueError("agents must be >= 0")
        self.redis.hset(self.keys.staffing, queue_class, int(agents))

    def record_handle_time(self, queue_class: str, seconds: float, now: float) -> None:
        """Add one handle time (talk + wrap-up, in seconds) to the class's rolling window."""
        self._class(queue_class)
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError("handle time must be a finite number of seconds >= 0")
        self._scripts["handle"](
            keys=[self.keys.handle(queue_class)],
            args=[records.time_arg(now), repr(float(seconds)), self.handle_window],
        )

    # -- the floor ----------------------------------------------------------------------------

    def stats(self, now: float) -> dict[str, ClassStats]:
        """Size, longest wait and calls over target, for every configured class."""
        return self._run(self._plan_stats(now, 0))[0]

    def due_overflow(self, now: float, limit: int = 100,
                     waited: float | None = None) -> list[Entry]:
        """Waiting calls whose wait reached their class's `max_wait` (``arrival <= now -
        max_wait``), or `waited` seconds in every class when given, oldest first, at most
        `limit`. The caller moves them on (and `remove`s them); listing changes nothing.
        Offered calls are not waiting: they are not listed."""
        if limit < 1:
            raise ValueError("limit must be >= 1")
        if waited is not None and not (math.isfinite(waited) and waited >= 0):
            raise ValueError("waited must be a finite number of seconds >= 0")
        return self._run(self._plan_stats(now, limit, waited))[1]

    def pipeline(self) -> Batch:
        """A batch of operations sent in one pipeline (see `Batch`)."""
        from queues.batch import Batch

        return Batch(self)

    # -- plans: what each operation sends, given an index snapshot ----------------------------

    def _plan_push(
        self,
        call_id: str,
        queue_class: str,
        priority: int,
        skills: Iterable[str],
        now: float,
        data: Mapping[str, str] | None,
        with_position: bool,
        script: str = "push",
    ) -> Plan:
        shape = self._push_shape(queue_class, skills, with_position)
        if not isinstance(priority, int) or not PRIORITY_MIN <= priority <= PRIORITY_MAX:
            raise ValueError(f"priority must be an integer in {PRIORITY_MIN}..{PRIORITY_MAX}")
        records.check_id(call_id)
        return PushPlan(self, shape, script, call_id, priority, now, records.check_data(data))

    def _plan_pop(self, skills: Iterable[str], now: float) -> Plan:
        return PopPlan(self, self._skills(skills), records.time_arg(now))

    def _plan_by_id(self, name: str, call_id: str) -> Plan:
        k = self.keys

        def plan(index: Index) -> Call[Entry | None]:
            orders = [k.order(c) for c in index.all_classes]
            keys = [k.calls, *orders, *index.all_keys]
            args = [call_id, " ".join(index.all_classes)]
            return Call(name, keys, args, entry_if_ok)

        return plan

    def _plan_callback(self, call_id: str) -> Plan:
        keys = [self.keys.calls]
        return lambda index: Call("callback", keys, [call_id], entry_if_ok)

    def _plan_position(self, call_id: str, now: float, estimate: bool = False) -> Plan:
        args = [records.time_arg(now), call_id, self._specs, self._names, int(estimate)]

        def parse(raw: Any) -> Any:
            if status(raw) != "ok":
                return None
            pos = int(raw[1])
            if not estimate:
                return pos
            name, agents = records.text(raw[2]), int(records.text(raw[3]))
            return self._estimate(pos, name, agents, raw[4:], now)

        return lambda index: Call("position", self._position_keys, args, parse)

    def _plan_stats(self, now: float, limit: int, waited: float | None = None) -> Plan:
        records.time_arg(now)
        args: list[Any] = [limit]
        for cls in self.classes.values():
            target = cls.target_answer_seconds
            max_wait = cls.max_wait if waited is None else waited
            args.append("" if target is None else repr(now - target))
            args.append("" if max_wait is None else repr(now - max_wait))
        keys = [self.keys.calls, *self._orders]

        def parse(raw: Any) -> tuple[dict[str, ClassStats], list[Entry]]:
            stats = {}
            for name, (size, head, over) in zip(self.classes, raw, strict=False):
                oldest = records.text(head)
                wait = max(0.0, now - float(oldest)) if oldest else 0.0
                stats[name] = ClassStats(name, int(size), wait, int(over))
            due = sorted(map(records.entry, raw[-1]), key=lambda e: (e.arrival, e.seq))
            return stats, due[:limit]

        return lambda index: Call("stats", keys, args, parse)

    # -- running plans ------------------------------------------------------------------------

    def _run(self, plan: Plan) -> Any:
        for _ in range(_ATTEMPTS):
            call = plan(self._snapshot())
            try:
                return call.parse(self._scripts[call.op](keys=call.keys, args=call.args))
            except Stale:
                self._refresh()
        raise RuntimeError(f"the bucket index of {self.keys.center} kept changing; giving up")

    def _snapshot(self) -> Index:
        index = self._index
        return index if index is not None else self._refresh()

    def _refresh(self) -> Index:
        fields = self.redis.hgetall(self.keys.index)
        flat = [x for pair in fields.items() for x in pair]  # type: ignore[union-attr]
        self._index = Index.read(flat, self.keys.prefix + "b:", self.classes)
        return self._index

    def _advance(self, after: Index) -> None:
        """Adopt the index a push of ours produced, unless a newer one is already known."""
        current = self._index
        if current is None or version_count(current.version) < version_count(after.version):
            self._index = after

    def _estimate(
        self, pos: int, name: str, agents: int, samples: list[Any], now: float
    ) -> WaitEstimate:
        cls = self.classes[name]
        horizon = now - self.handle_max_age
        recent = []
        for sample in samples:
            at, _, seconds = records.text(sample).partition("|")
            if records.time_value(at) >= horizon:
                recent.append(float(seconds))
        handle = sum(recent) / len(recent) if recent else cls.default_handle_seconds
        return WaitEstimate(pos, pos * handle / max(1, agents), agents, handle, len(recent))

    def _push_shape(
        self, queue_class: str, skills: Iterable[str], with_position: bool
    ) -> PushShape:
        """What every push of a (class, requirement set, position wanted) sends alike: the same
        few combinations come back all day, so they are computed (and the class and the
        requirements checked) once."""
        reqs = self._skills(skills)
        key = (queue_class, reqs, with_position)
        shape = self._push_shapes.get(key)
        if shape is None:
            cls = self._class(queue_class)
            if len(self._push_shapes) >= 4096:
                self._push_shapes.clear()
            bucket = Bucket(self.keys.bucket(queue_class, reqs), queue_class, reqs)
            slot = self._slot[queue_class]
            keys = [self.keys.calls, self.keys.index, self._orders[slot - 1], bucket.key,
                    self.keys.seq]  # fmt: skip
            better = self._better[queue_class] if with_position else []
            max_size = "" if cls.max_size is None else cls.max_size
            meta: str | bytes = (
                f"{queue_class}\t{max_size}\t{int(with_position)}\t{len(better)}\t{slot}"
            )
            if with_position:
                same, slots = self._same[queue_class]
                keys += [*better, *same]
                meta = f"{meta}\t{slots}\t".encode() + self._specs
            shape = PushShape(bucket, bucket.descriptor(), records.dumps(sorted(reqs)), keys,
                               meta)  # fmt: skip
            self._push_shapes[key] = shape
        return shape

    def _skills(self, skills: Iterable[str]) -> frozenset[str]:
        """`skills` as a checked frozenset (each distinct set checked once)."""
        if isinstance(skills, str):
            records.skill_set(skills)  # raises the usual TypeError
        have = skills if type(skills) is frozenset else frozenset(skills)
        checked = self._checked.get(have)
        if checked is None:
            checked = records.skill_set(have)
            if len(self._checked) >= 4096:
                self._checked.clear()
            self._checked[checked] = checked
        return checked

    def _pop_shape(self, index: Index, have: frozenset[str]) -> tuple[list[str], bytes]:
        """Pop's KEYS and shape (``pop_shape`` in _lib.lua) for a call-taker with `have` on
        `index` (kept on the index: one list object, which a batch packs once per chunk)."""
        shape = index.pops.get(have)
        if shape is None:
            if len(index.pops) >= 4096:
                index.pops.clear()
            keys, sources = index.eligible(have)
            shape = index.pops[have] = ([self.keys.calls, self.keys.index, *self._orders, *keys],
                                        self._pop_head + sources)  # fmt: skip
        return shape

    def _class(self, name: str) -> QueueClass:
        try:
            return self.classes[name]
        except KeyError:
            raise ValueError(f"unknown queue class {name!r}") from None
