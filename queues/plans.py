"""What each queue operation sends to its script, given a snapshot of the bucket index, and how
its answer is read: a `Plan` is called with the index and returns a `Call`. `Queues` makes the
plans (its ``_plan_*`` methods); `Queues._run` and `Batch` run them.

The hot ones (push, pop) are small objects rather than closures: a batch holds thousands, a
closure costs an object per captured name, and the garbage collector walks them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from queues import records
from queues.index import Bucket, Index, next_version
from queues.model import (
    PRIORITY_MAX,
    PRIORITY_MIN,
    Entry,
    PushResult,
    make_entry,
    make_push_result,
)

if TYPE_CHECKING:
    from queues.service import Queues

T = TypeVar("T")

# The push scripts' flag: is the call's bucket in the index the client planned with?
_KNOWN = {True: "1", False: "0"}
_DIGITS = {p: str(p) for p in range(PRIORITY_MIN, PRIORITY_MAX + 1)}


class Stale(Exception):
    """A script saw a newer bucket index than the one its keys were computed from."""


@dataclass(slots=True)
class Call(Generic[T]):
    """One planned script call: which script (by name), what to send, how to read the answer,
    and the index that holds once it has run (set when the call adds a bucket)."""

    op: str
    keys: list[str]
    args: list[Any]
    parse: Callable[[Any], T]
    after: Index | None = None


Plan = Callable[[Index], Call[Any]]


def status(raw: Any) -> str:
    """A script's status word (its answer's first element); ``stale`` raises `Stale`."""
    word = records.text(raw[0])
    if word == "stale":
        raise Stale
    return word


def popped(raw: Any) -> Entry | None:
    """Reads pop.lua's answer, one string: the record taken, ``empty`` (None) or ``stale``."""
    if raw == b"empty" or raw == "empty":
        return None
    if raw == b"stale" or raw == "stale":
        raise Stale
    return records.entry(raw)


def entry_if_ok(raw: Any) -> Entry | None:
    """A parser: the entry when the script answered ``ok``, else None (``stale`` raises)."""
    word = raw[0]
    if word == b"ok" or word == "ok":
        return records.entry(raw[1])
    status(raw)
    return None


class PushPlan:
    """A planned push (a `Plan`, as a small object: a batch holds thousands, and closures
    cost an object per captured name)."""

    __slots__ = ("q", "shape", "script", "call_id", "priority", "now", "data", "head")

    def __init__(
        self, q: Queues, shape: PushShape, script: str, call_id: str, priority: int,
        now: float, data: dict[str, str],
    ) -> None:  # fmt: skip
        self.q, self.shape, self.script, self.call_id = q, shape, script, call_id
        self.priority, self.now, self.data = priority, now, data
        self.head = [records.time_arg(now), call_id, _DIGITS[priority], shape.meta,
                     records.body(call_id, shape.reqs_json, data), shape.descriptor]  # fmt: skip

    def __call__(self, index: Index) -> Call[PushResult]:
        bucket = self.shape.bucket
        after = None
        if not index.has(bucket.key):
            after = index.with_bucket(bucket, next_version(index.version, bucket.key))
        args = [index.version, *self.head, _KNOWN[after is None]]
        return Call(self.script, self.shape.keys, args, _PushReply(self, index.version, after),
                    after)  # fmt: skip


class _PushReply:
    """Reads a push's answer; adopts the index the push produced when it did add its bucket."""

    __slots__ = ("plan", "version", "after")

    def __init__(self, plan: PushPlan, version: str, after: Index | None) -> None:
        self.plan, self.version, self.after = plan, version, after

    def __call__(self, raw: Any) -> PushResult:
        # one string (push.lua): status, position, index versions before and after, then the
        # seq (push) or the record (push_front)
        word, pos, before, after_version, rest = records.text(raw).split("\t", 4)
        plan, after = self.plan, self.after
        if after is not None and (before, after_version) == (self.version, after.version):
            plan.q._advance(after)
        if word != "queued":
            return PushResult(word)  # type: ignore[arg-type]
        if plan.script == "push_front":  # placed by the script: read its arrival back
            entry = records.entry(rest)
        else:  # all known here but the seq the script drew (its answer)
            shape = plan.shape
            entry = make_entry(plan.call_id, shape.bucket.queue_class, plan.priority,
                               shape.bucket.skills, float(plan.now), plan.data, False, 0,
                               int(rest))  # fmt: skip
        position = int(pos)
        return make_push_result("queued", position if position > 0 else None, entry)


class PopPlan:
    """A planned pop (a `Plan`; see `PushPlan`)."""

    __slots__ = ("q", "have", "at")

    def __init__(self, q: Queues, have: frozenset[str], at: str) -> None:
        self.q, self.have, self.at = q, have, at

    def __call__(self, index: Index) -> Call[Entry | None]:
        q = self.q
        keys, shape = q._pop_shape(index, self.have)
        return Call("pop", keys, [index.version, self.at, shape], popped)


@dataclass(frozen=True)
class PushShape:
    """What `Queues._push_shape` computes once per (class, requirement set, position wanted):
    the bucket, its descriptor, the requirements as JSON, KEYS, the shape field of push.lua
    (``push_shape`` in _lib.lua)."""

    bucket: Bucket
    descriptor: str
    reqs_json: str
    keys: list[str]
    meta: str | bytes
