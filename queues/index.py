"""The client-side copy of a center's bucket index.

Waiting calls live in buckets, one per (class, requirement set); their number is small (classes
x distinct requirement sets) and buckets are never removed from the index, only added. A script
may only touch keys it receives in KEYS, so the client must name the buckets: it keeps this copy,
tagged with the index version it was read at, and passes the version along. Pop, which needs
the complete list, first compares versions and answers ``stale`` on a mismatch; the client then
re-reads the index and retries. Since buckets are only added, a stale copy is still a subset of
the truth, which is enough for remove and requeue: they answer ``stale`` only when the call's
bucket is missing. Positions, stats and overflow read the per-class orders and need no bucket.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

from queues.model import QueueClass

# Distinct call-taker skill sets remembered per snapshot; a floor has far fewer.
_MEMO = 4096


@dataclass(frozen=True)
class Bucket:
    """One bucket: its key, and the class and requirement set of the calls it holds."""

    key: str
    queue_class: str
    skills: frozenset[str]

    def descriptor(self) -> str:
        return json.dumps({"c": self.queue_class, "r": sorted(self.skills)}, separators=(",", ":"))

    @classmethod
    def from_descriptor(cls, key: str, raw: str) -> Bucket:
        data = json.loads(raw)
        return cls(key, data["c"], frozenset(data.get("r") or ()))


def next_version(version: str, key: str) -> str:
    """The index version after bucket `key` is added at `version` (as ``_lib.lua`` computes it).

    A count plus a digest of the history, not a bare counter: a pipeline plans its later
    operations against the version its own push will produce, and a bare counter would let
    another process's different addition pass for it.
    """
    digest = hashlib.sha1(f"{version}\n{key}".encode()).hexdigest()[:16]
    return f"{version_count(version) + 1}:{digest}"


def version_count(version: str) -> int:
    match = re.match(r"\d+", version)
    return int(match.group()) if match else 0


def class_specs(classes: Mapping[str, QueueClass]) -> bytes:
    """How the configured classes are described to the scripts, by slot (see ``_lib.lua``):
    4 big-endian doubles each, rank, aging seconds (0: none), aging levels, aging floor."""
    return b"".join(
        struct.pack(
            ">dddd",
            c.rank,
            c.aging_seconds if c.ages and c.aging_seconds else 0.0,
            c.aging_max_levels,
            c.aging_floor,
        )
        for c in classes.values()
    )


@dataclass
class Index:
    """A snapshot of the index at `version`, with the lists the scripts need precomputed.

    `classes` are the configured classes in configuration order; a class's slot is its 1-based
    place there. `known` holds the buckets of configured classes sorted by rank (pop stops at
    the first rank that has a call); buckets of other classes (dropped from configuration) are
    only in `all_keys`, so that their calls can still be removed.
    """

    version: str
    buckets: tuple[Bucket, ...]
    classes: Mapping[str, QueueClass]
    slots: dict[str, int] = field(init=False)
    all_keys: list[str] = field(init=False)
    all_set: frozenset[str] = field(init=False)
    all_classes: list[str] = field(init=False)
    known: list[Bucket] = field(init=False)
    _counts: dict[str, int] = field(init=False)
    _eligible: dict[frozenset[str], tuple[list[str], bytes]] = field(
        init=False, default_factory=dict
    )
    # pop's KEYS and shape per skill set on this snapshot (built by Queues._pop_shape)
    pops: dict[frozenset[str], tuple[list[str], bytes]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.slots = {name: i + 1 for i, name in enumerate(self.classes)}
        self.all_keys = [b.key for b in self.buckets]
        self.all_set = frozenset(self.all_keys)
        extra = sorted({b.queue_class for b in self.buckets} - set(self.classes))
        self.all_classes = [*self.classes, *extra]
        self.known = sorted(
            (b for b in self.buckets if b.queue_class in self.classes),
            key=lambda b: (self.classes[b.queue_class].rank, self.slots[b.queue_class], b.key),
        )
        self._counts = {name: 0 for name in self.classes}
        for b in self.known:
            self._counts[b.queue_class] += 1

    @classmethod
    def read(cls, flat: list, prefix: str, classes: Mapping[str, QueueClass]) -> Index:
        """Build from the index hash (HGETALL, flattened); `prefix` starts every bucket key."""
        pairs = [_s(x) for x in flat]
        fields = dict(zip(pairs[::2], pairs[1::2], strict=True))
        buckets = tuple(
            Bucket.from_descriptor(k, v) for k, v in sorted(fields.items()) if k.startswith(prefix)
        )
        return cls(fields.get("version", "0"), buckets, classes)

    def has(self, key: str) -> bool:
        return key in self.all_set

    def with_bucket(self, bucket: Bucket, version: str) -> Index:
        """The index after `bucket` was added, which moved it to `version`."""
        return Index(version, self.buckets + (bucket,), self.classes)

    def eligible(self, skills: frozenset[str]) -> tuple[list[str], bytes]:
        """The buckets a call-taker with `skills` may serve, and what pop reads for them: by
        rank, the class's order when every bucket of the class is eligible (one zset instead
        of one per bucket), else each eligible bucket (``pop.lua`` describes the encoding)."""
        hit = self._eligible.get(skills)
        if hit is None:
            if len(self._eligible) >= _MEMO:
                self._eligible.clear()
            mine = [b for b in self.known if b.skills <= skills]
            covered = {name: 0 for name in self.classes}
            for b in mine:
                covered[b.queue_class] += 1
            first = 3 + len(self.classes)  # pop's KEYS: calls, index, the orders, the buckets
            sources = bytearray()
            for j, b in enumerate(mine):
                slot = self.slots[b.queue_class]
                if covered[b.queue_class] < self._counts[b.queue_class]:
                    sources += struct.pack(">BH", slot, first + j)
                elif j == 0 or mine[j - 1].queue_class != b.queue_class:
                    sources += struct.pack(">BH", slot, 2 + slot)  # the class's order, once
            hit = self._eligible[skills] = ([b.key for b in mine], bytes(sources))
        return hit


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
