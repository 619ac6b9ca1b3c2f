"""`Batch`: several queue operations sent through one pipeline (one round trip)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from struct import pack
from typing import Any

from hiredis import pack_command
from redis import Redis
from redis.connection import Connection
from redis.exceptions import NoScriptError, ResponseError

from queues.service import Call, Plan, Queues, Stale

# Operations per chunk of a streamed batch: big enough that a chunk's replies are waiting when
# they are read, small enough that Redis starts on the first one at once.
CHUNK = 64
# Chunks sent before the first reply is read.
AHEAD = 2


class Batch:
    """Queue operations with the methods below, then `execute()` returns their results in
    order: the same values the `Queues` methods return.

    The operations travel in chunks of `CHUNK`, each chunk one call of the ``batch`` script
    (the library is set up once per chunk, and the client packs and reads one command per
    chunk); up to `AHEAD` chunks are in flight while the next is planned.

    Each operation stays atomic on its own; the batch as a whole is not a transaction. Later
    operations are planned against the index an earlier push of the batch will produce (when it
    adds a bucket). When another process added a bucket meanwhile, the operations that noticed
    (they answer ``stale`` and change nothing) are run again, one by one, after the batch.
    After a Redis restart (the script unknown: nothing of that chunk ran) the rest of the batch
    is sent again, in order, once the script is loaded.
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
        return self._execute(plans, reload=True) if plans else []

    def _execute(self, plans: list[Plan], reload: bool) -> list[Any]:
        q = self._q
        index = q._snapshot()
        results: list[Any] = [None] * len(plans)
        redo: list[int] = []
        unrun: list[int] = []  # chunks Redis answered NOSCRIPT: nothing of them ran
        errors: list[Exception] = []

        def settle(first: int, calls: list[Call[Any]], reply: Any) -> None:
            if isinstance(reply, NoScriptError):
                unrun.extend(range(first, first + len(calls)))
            elif isinstance(reply, Exception):
                errors.append(reply)
            else:
                for i, (call, raw) in enumerate(zip(calls, reply, strict=True), start=first):
                    try:
                        results[i] = call.parse(raw)
                    except Stale:
                        redo.append(i)

        sha = q._scripts["batch"].sha
        first = 0
        with _Stream(q.redis) as stream:
            sent: deque[tuple[int, list[Call[Any]]]] = deque()
            while first < len(plans) and not unrun:
                calls = []
                for plan in plans[first:first + CHUNK]:
                    call = plan(index)
                    calls.append(call)
                    if call.after is not None:
                        index = call.after
                stream.send(sha, calls)
                sent.append((first, calls))
                first += len(calls)
                if len(sent) > AHEAD:
                    settle(*sent.popleft(), stream.read())
            while sent:
                settle(*sent.popleft(), stream.read())
        if errors:
            raise errors[0]
        if unrun:
            # Redis restarted or flushed its scripts: once the script is loaded again, the
            # operations not run yet go in order (one by one if it is gone again at once).
            rest = [*unrun, *range(first, len(plans))]
            if reload:
                q.redis.script_load(q._scripts["batch"].script)
                again = self._execute([plans[i] for i in rest], reload=False)
            else:
                q._refresh()
                again = [q._run(plans[i]) for i in rest]
            for i, result in zip(rest, again, strict=True):
                results[i] = result
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

    def send(self, sha: str, calls: list[Call[Any]]) -> None:
        """One call of the ``batch`` script (script `sha`) running `calls` in order."""
        assert self._conn is not None
        keys: dict[str, int] = {}
        packed: dict[tuple[str, ...], bytes] = {}  # most operations repeat a key list
        argv: list[Any] = []
        for call in calls:
            names = tuple(call.keys)
            slots = packed.get(names)
            if slots is None:
                slots = packed[names] = pack(
                    f">{len(names)}H", *[keys.setdefault(k, len(keys) + 1) for k in names])
            argv += [call.op, slots, len(call.args), *call.args]
        command = pack_command(("EVALSHA", sha, len(keys), *keys, *argv))
        self._unread += 1
        self._conn.send_packed_command([command], check_health=False)

    def read(self) -> Any:
        """The next reply; an error reply is returned as its exception, not raised."""
        assert self._conn is not None
        try:
            return self._conn.read_response()
        except ResponseError as exc:
            return exc
        finally:
            self._unread -= 1
