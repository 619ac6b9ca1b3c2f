"""`Batch`: several queue operations sent through one pipeline (one round trip)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hiredis import pack_command
from redis import Redis
from redis.connection import Connection
from redis.exceptions import NoScriptError, ResponseError

from queues.service import Call, Plan, Queues, Stale

# Operations per chunk of a streamed batch: big enough that a chunk's replies are waiting when
# they are read, small enough that Redis starts on the first one at once.
CHUNK = 64


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
        """Run the batch: planned, sent and read back in chunks, so that Redis runs one chunk
        while this process plans the next and reads the one before (both cores busy)."""
        plans, self._plans = self._plans, []
        if not plans:
            return []
        q = self._q
        index = q._snapshot()
        results: list[Any] = [None] * len(plans)
        redo: list[int] = []
        errors: list[Exception] = []

        def settle(first: int, calls: list[Call[Any]], replies: list[Any]) -> None:
            for i, (call, raw) in enumerate(zip(calls, replies, strict=True), start=first):
                if isinstance(raw, NoScriptError):
                    redo.append(i)  # not run (Redis restarted): `_run` loads the script
                elif isinstance(raw, Exception):
                    errors.append(raw)
                else:
                    try:
                        results[i] = call.parse(raw)
                    except Stale:
                        redo.append(i)

        with _Stream(q.redis) as stream:
            sent: tuple[int, list[Call[Any]]] | None = None
            for first in range(0, len(plans), CHUNK):
                calls = []
                for plan in plans[first:first + CHUNK]:
                    call = plan(index)
                    calls.append(call)
                    if call.after is not None:
                        index = call.after
                stream.send(calls)
                if sent is not None:
                    settle(sent[0], sent[1], stream.read(len(sent[1])))
                sent = (first, calls)
            if sent is not None:
                settle(sent[0], sent[1], stream.read(len(sent[1])))
        if errors:
            raise errors[0]
        if redo:
            q._refresh()
            for i in redo:
                results[i] = q._run(plans[i])
        return results


class _Stream:
    """Script calls written to one pooled connection without waiting for their replies, read
    back later in order: a pipeline whose requests and replies overlap Redis's work.

    Every reply that was asked for is read before the connection goes back to the pool, so a
    failure never leaves replies on the socket for the next user; a connection error drops the
    connection instead.
    """

    def __init__(self, client: Redis) -> None:
        self._pool = client.connection_pool
        self._conn: Connection | None = None
        self._unread = 0

    def __enter__(self) -> _Stream:
        self._conn = self._pool.get_connection()
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if exc is not None and self._unread:
            conn.disconnect()  # replies may still be on the way: never reuse this socket
        self._pool.release(conn)

    def send(self, calls: list[Call[Any]]) -> None:
        assert self._conn is not None
        packed = b"".join([
            pack_command(("EVALSHA", c.script.sha, len(c.keys), *c.keys, *c.args)) for c in calls
        ])
        self._unread += len(calls)
        self._conn.send_packed_command([packed], check_health=False)

    def read(self, n: int) -> list[Any]:
        """The next `n` replies; an error reply is returned as its exception, not raised."""
        assert self._conn is not None
        out: list[Any] = []
        for _ in range(n):
            try:
                out.append(self._conn.read_response())
            except ResponseError as exc:
                out.append(exc)
            self._unread -= 1
        return out
