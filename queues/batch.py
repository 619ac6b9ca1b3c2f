"""`Batch`: several queue operations streamed through one connection (a pipeline)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from struct import pack
from typing import Any

from hiredis import pack_command
from redis import Redis
from redis.connection import Connection
from redis.exceptions import NoScriptError, ResponseError

from queues.index import Index
from queues.plans import Call, Plan, Stale
from queues.scripts import OP_CODES
from queues.service import Queues

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
    chunk). A chunk is sent as soon as it is full, while the caller goes on adding operations
    (as Jedis and Lettuce pipelines write commands as they come), with up to `AHEAD` chunks in
    flight; `execute()` sends the rest and reads every answer. So Redis works while the caller
    builds the batch, and a batch dropped without `execute()` may have run its first chunks.
    Invalid arguments raise at once, from the method that adds the operation, and add nothing.

    Each operation stays atomic on its own; the batch as a whole is not a transaction. Later
    operations are planned against the index an earlier push of the batch will produce (when it
    adds a bucket). When another process added a bucket meanwhile, the operations that noticed
    (they answer ``stale`` and change nothing) are run again, one by one, after the batch.
    After a Redis restart (the script unknown: nothing of that chunk ran) the operations not
    run yet are sent again, in order, once the script is loaded.
    """

    def __init__(self, queues: Queues) -> None:
        self._q = queues
        self._run = _Run(queues)

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
        self._run.add(
            q._plan_push(call_id, queue_class, priority, skills, now, data, with_position)
        )
        return self

    def pop(self, skills: Iterable[str], now: float) -> Batch:
        self._run.add(self._q._plan_pop(skills, now))
        return self

    def remove(self, call_id: str) -> Batch:
        self._run.add(self._q._plan_by_id("remove", call_id))
        return self

    def requeue(self, call_id: str) -> Batch:
        self._run.add(self._q._plan_by_id("requeue", call_id))
        return self

    def mark_callback(self, call_id: str) -> Batch:
        self._run.add(self._q._plan_callback(call_id))
        return self

    def position(self, call_id: str, now: float) -> Batch:
        self._run.add(self._q._plan_position(call_id, now))
        return self

    def estimate_wait(self, call_id: str, now: float) -> Batch:
        self._run.add(self._q._plan_position(call_id, now, estimate=True))
        return self

    def __len__(self) -> int:
        return len(self._run.plans)

    def execute(self) -> list[Any]:
        """Send what is left, read every answer; the batch is then empty and can be reused."""
        run, self._run = self._run, _Run(self._q)
        return run.finish(reload=True)


class _Run:
    """One execution of a batch: its operations, the chunks in flight and the answers so far."""

    def __init__(self, queues: Queues) -> None:
        self.q = queues
        self.plans: list[Plan] = []
        self.results: list[Any] = []
        self.sent = 0  # plans[:sent] are planned and sent
        self.stream: _Stream | None = None
        self.index: Index | None = None  # what the next chunk is planned against
        self.inflight: deque[tuple[int, list[Call[Any]]]] = deque()
        self.redo: list[int] = []  # answered stale: run again on their own
        self.unrun: list[int] = []  # in chunks answered NOSCRIPT: nothing of them ran
        self.errors: list[Exception] = []
        self.failure: BaseException | None = None  # from the connection, raised at execute

    def add(self, plan: Plan) -> None:
        self.plans.append(plan)
        if len(self.plans) - self.sent >= CHUNK and not self.unrun and self.failure is None:
            try:
                self.send_chunk()
            except Exception as exc:  # the connection failed: execute() raises it
                self.failure = exc
                self.close(failed=True)

    def send_chunk(self) -> None:
        q = self.q
        if self.stream is None:
            self.stream = _Stream(q.redis, q.keys.calls)
            self.index = q._snapshot()
        index = self.index
        assert index is not None
        calls = []
        for plan in self.plans[self.sent:self.sent + CHUNK]:
            call = plan(index)
            calls.append(call)
            if call.after is not None:
                index = call.after
        self.index = index
        self.results += [None] * len(calls)
        self.stream.send(q._scripts["batch"].sha, calls)
        self.inflight.append((self.sent, calls))
        self.sent += len(calls)
        if len(self.inflight) > AHEAD:
            self.settle()

    def settle(self) -> None:
        """Read the answer of the oldest chunk in flight."""
        assert self.stream is not None
        first, calls = self.inflight.popleft()
        reply = self.stream.read()
        if isinstance(reply, NoScriptError):
            self.unrun.extend(range(first, first + len(calls)))
        elif isinstance(reply, Exception):
            self.errors.append(reply)
        else:
            results = self.results
            for i, (call, raw) in enumerate(zip(calls, reply, strict=True), start=first):
                try:
                    results[i] = call.parse(raw)
                except Stale:
                    self.redo.append(i)

    def close(self, failed: bool = False) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close(failed)

    def finish(self, reload: bool) -> list[Any]:
        q, plans = self.q, self.plans
        try:
            if self.failure is not None:
                raise self.failure
            while self.sent < len(plans) and not self.unrun:
                self.send_chunk()
            while self.inflight:
                self.settle()
        except BaseException:
            self.close(failed=True)
            raise
        self.close()
        if self.errors:
            raise self.errors[0]
        results = self.results + [None] * (len(plans) - len(self.results))
        if self.unrun:
            # Redis restarted or flushed its scripts: once the script is loaded again, the
            # operations not run yet go in order (one by one if it is gone again at once).
            rest = [*self.unrun, *range(self.sent, len(plans))]
            if reload:
                q.redis.script_load(q._scripts["batch"].script)
                again = _Run(q)
                for i in rest:
                    again.add(plans[i])
                answers = again.finish(reload=False)
            else:
                q._refresh()
                answers = [q._run(plans[i]) for i in rest]
            for i, answer in zip(rest, answers, strict=True):
                results[i] = answer
        if self.redo:
            q._refresh()
            for i in self.redo:
                results[i] = q._run(plans[i])
        return results


def _pool_for(client: Redis, key: str) -> Any:
    """The connection pool of the server holding `key`: the client's own, or on a Redis Cluster
    the pool of the node serving the key's slot (every key of a center shares its hash tag, so
    one node holds them all)."""
    if hasattr(client, "get_node_from_key"):  # redis.cluster.RedisCluster
        node = client.get_node_from_key(key)
        return client.get_redis_connection(node).connection_pool
    return client.connection_pool


class _Stream:
    """Script calls written to one pooled connection without waiting for their replies, read
    back later in order: a pipeline whose requests and replies overlap Redis's work.

    Every reply that was asked for is read before the connection goes back to the pool, so a
    failure never leaves replies on the socket for the next user; a connection error drops the
    connection instead.
    """

    def __init__(self, client: Redis, key: str) -> None:
        self._pool = _pool_for(client, key)
        self._unread = 0
        self._conn: Connection | None = None  # set first: __del__ runs if the next line raises
        self._conn = self._pool.get_connection()

    def close(self, failed: bool = False) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if failed and self._unread:
            conn.disconnect()  # replies may still be on the way: never reuse this socket
        self._pool.release(conn)

    def __del__(self) -> None:  # a batch dropped without execute(): its replies go unread
        if self._conn is not None and self._unread:
            self._conn.disconnect()

    def send(self, sha: str, calls: list[Call[Any]]) -> None:
        """One call of the ``batch`` script (script `sha`) running `calls` in order."""
        assert self._conn is not None
        keys: dict[str, int] = {}
        # an operation's head: its code, its number of arguments, its keys (batch.lua); the
        # operations of one shape share their key list object, so most heads are made once
        heads: dict[int, tuple[str, int, bytes]] = {}
        argv: list[Any] = []
        for call in calls:
            names, args = call.keys, call.args
            known = heads.get(id(names))
            if known is not None and known[0] == call.op and known[1] == len(args):
                head = known[2]
            else:
                head = pack(f">BB{len(names)}H", OP_CODES[call.op], len(args),
                            *[keys.setdefault(k, len(keys) + 1) for k in names])  # fmt: skip
                heads[id(names)] = (call.op, len(args), head)
            argv.append(head)
            argv += args
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
