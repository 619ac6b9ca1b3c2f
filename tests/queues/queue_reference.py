"""A pure-Python reference of the queue rules, for the model-based tests.

Deliberately naive: every call lives in one dict and each answer is a sort or a count over all
of them, straight from the rule in `queues.model` (no buckets, no prefixes, no Lua).
"""

from __future__ import annotations

from dataclasses import replace

from queues import ClassStats, Entry, PushResult, QueueClass


def effective(cls: QueueClass, priority: int, arrival: float, now: float) -> int:
    levels = 0
    if cls.aging_seconds is not None:
        while levels < cls.aging_max_levels and arrival <= now - (levels + 1) * cls.aging_seconds:
            levels += 1
    return max(min(priority, cls.aging_floor), priority - levels)


class Reference:
    def __init__(self, classes: list[QueueClass]) -> None:
        self.classes = {c.name: c for c in classes}
        self.waiting: dict[str, Entry] = {}
        self.offered: dict[str, Entry] = {}
        self.seq = 0

    def key(self, e: Entry, now: float) -> tuple[int, int, float, int]:
        cls = self.classes[e.queue_class]
        return (cls.rank, effective(cls, e.priority, e.arrival, now), e.arrival, e.seq)

    def push(
        self,
        call_id: str,
        queue_class: str,
        priority: int,
        skills: frozenset[str],
        now: float,
        data: dict[str, str],
    ) -> PushResult:
        if call_id in self.waiting or call_id in self.offered:
            return PushResult("duplicate")
        limit = self.classes[queue_class].max_size
        size = sum(1 for e in self.waiting.values() if e.queue_class == queue_class)
        if limit is not None and size >= limit:
            return PushResult("full")
        self.seq += 1
        entry = Entry(call_id, queue_class, priority, frozenset(skills), now, dict(data),
                      seq=self.seq)  # fmt: skip
        self.waiting[call_id] = entry
        return PushResult("queued", self.position(call_id, now), entry)

    def pop(self, skills: frozenset[str], now: float) -> Entry | None:
        able = [e for e in self.waiting.values() if e.skills <= skills]
        if not able:
            return None
        best = min(able, key=lambda e: self.key(e, now))
        del self.waiting[best.call_id]
        best = replace(best, attempts=best.attempts + 1)
        self.offered[best.call_id] = best
        return best

    def remove(self, call_id: str) -> Entry | None:
        return self.waiting.pop(call_id, None) or self.offered.pop(call_id, None)

    def requeue(self, call_id: str) -> Entry | None:
        entry = self.offered.pop(call_id, None)
        if entry is not None:
            self.waiting[call_id] = entry
        return entry

    def complete(self, call_id: str) -> bool:
        return self.offered.pop(call_id, None) is not None

    def mark_callback(self, call_id: str) -> Entry | None:
        for where in (self.waiting, self.offered):
            if call_id in where:
                where[call_id] = replace(where[call_id], callback=True)
                return where[call_id]
        return None

    def position(self, call_id: str, now: float) -> int | None:
        if call_id not in self.waiting:
            return None
        mine = self.key(self.waiting[call_id], now)
        return 1 + sum(1 for e in self.waiting.values() if self.key(e, now) < mine)

    def stats(self, now: float) -> dict[str, ClassStats]:
        out = {}
        for name, cls in self.classes.items():
            mine = [e for e in self.waiting.values() if e.queue_class == name]
            oldest = min((e.arrival for e in mine), default=None)
            target = cls.target_answer_seconds
            over = 0 if target is None else sum(1 for e in mine if e.arrival < now - target)
            longest = 0.0 if oldest is None else max(0.0, now - oldest)
            out[name] = ClassStats(name, len(mine), longest, over)
        return out

    def due_overflow(self, now: float, limit: int = 100) -> list[Entry]:
        due = []
        for e in self.waiting.values():
            max_wait = self.classes[e.queue_class].max_wait
            if max_wait is not None and e.arrival <= now - max_wait:
                due.append(e)
        return sorted(due, key=lambda e: (e.arrival, e.seq))[:limit]
