"""`Batch`: several queue operations sent through one pipeline (one round trip)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from queues.service import Plan, Queues, Stale


class Batch:
    """Queue operations with the methods below, then `execute()` returns their results in
    order: the same values the `Queues` methods return.

    Each operation stays atomic on its own; the batch as a whole is not a transaction. Later
    operations are planned against the index an earlier push of the batch will produce (when it
    adds a bucket). When another process added a bucket meanwhile, the operations that noticed
    (they answer ``stale`` and change nothing) are run again, one by one, after the batch.
    """

    def __init__(self, queues: Queues) -> None:
        self._q = queues
        self._plans: list[Plan] = []

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
    ) -> Batch:
        q = self._q
        plan = q._plan_push(call_id, queue_class, priority, skills, now, data, with_position)
        self._plans.append(plan)
        return self

    def pop(self, skills: Iterable[str], now: float) -> Batch:
        self._plans.append(self._q._plan_pop(skills, now))
        return self

    def remove(self, call_id: str) -> Batch:
        self._plans.append(self._q._plan_by_id("remove", call_id))
        return self

    def requeue(self, call_id: str) -> Batch:
        self._plans.append(self._q._plan_by_id("requeue", call_id))
        return self

    def mark_callback(self, call_id: str) -> Batch:
        self._plans.append(self._q._plan_callback(call_id))
        return self

    def position(self, call_id: str, now: float) -> Batch:
        self._plans.append(self._q._plan_position(call_id, now))
        return self

    def estimate_wait(self, call_id: str, now: float) -> Batch:
        self._plans.append(self._q._plan_position(call_id, now, estimate=True))
        return self

    def __len__(self) -> int:
        return len(self._plans)

    def execute(self) -> list[Any]:
        plans, self._plans = self._plans, []
        if not plans:
            return []
        q = self._q
        index = q._snapshot()
        calls = []
        for plan in plans:
            call = plan(index)
            calls.append(call)
            if call.after is not None:
                index = call.after
        pipe = q.redis.pipeline(transaction=False)
        for call in calls:
            call.script(keys=call.keys, args=call.args, client=pipe)
        results: list[Any] = []
        redo = []
        for i, (call, raw) in enumerate(zip(calls, pipe.execute(), strict=True)):
            try:
                results.append(call.parse(raw))
            except Stale:
                results.append(None)
                redo.append(i)
        if redo:
            q._refresh()
            for i in redo:
                results[i] = q._run(plans[i])
        return results
