"""How the agents scripts run the queue's own operations inside their atomic step.

An offer must take a call off the queue and reserve a call-taker in one atomic step (see
`agents.routing`), and settling an offer must put the call back or drop it together with the
call-taker's change. Redis scripts cannot call other scripts, so the agents scripts embed the
queue's scripts instead of re-implementing them:

* Lua: a queue script (queues' ``_lib.lua`` then the script's file, as ``queues.scripts``
  assembles them) becomes the function ``q_<name>(KEYS, ARGV)``: local ``KEYS`` and ``ARGV``
  shadow the globals, so the queue's code runs unchanged on the tables the agents script
  builds for it, and its ``return`` becomes the function's result (see `embedded`).
* Python: those tables are exactly what the queue's own planner would send
  (``Queues._plan_pop`` and ``Queues._plan_by_id`` on its cached bucket index),
  planned once per index snapshot with placeholders for the values only known later: `NOW`
  (the time of the call) and `CALL` (a call id the script finds itself, e.g. the call of an
  expiring reservation). The script substitutes them (``q_op`` in ``scripts/_lib.lua``).
  A plan travels as one ARGV value (`pack`): one value instead of dozens halves the client's
  cost of a routing call, most of which is redis-py encoding arguments.

So agents/ knows no bucket, member or index format. What it does rely on: the reply shapes
documented at the top of pop.lua (the record, or a status word), requeue.lua, remove.lua and
complete.lua (a status first, then the record); where a record keeps its call id (``call_of`` in
``scripts/_lib.lua``, the one piece of record format on this side); that complete.lua takes KEYS
= {calls}, ARGV = {call id} as `Queues.complete` sends them; that the calls a call-taker may
take all sit in the buckets `Index.eligible` names (routing skips the pop of a group whose
buckets do not exist: Redis drops an empty sorted set); and the private names used here
(``_snapshot``, ``_refresh``, ``_plan_pop``, ``_plan_by_id``, ``queues.records.entry``). Every
queue key travels in KEYS, next to the agents keys (same hash tag), so this stays valid on Redis
Cluster. tests/agents/test_queue_seam.py pins the agreement with `Queues` down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from queues import Entry, Queues
from queues.index import Index
from queues.records import entry as _entry
from queues.records import time_arg

NOW = 5e-324
"""Placeholder time: positive (the queue accepts it), and never a real epoch."""
NOW_TEXT = time_arg(NOW)
CALL = "\x00call"
"""Placeholder call id: no call id starts with a NUL character."""


def parse_entry(raw: bytes | str) -> Entry:
    """A queue record as the queue stores and returns it."""
    return _entry(raw)


def embedded(name: str) -> str:
    """Queue script `name` as the Lua function ``q_<name>(KEYS, ARGV)``.

    On its first call in a run it defines queues' ``_lib.lua`` in a scope whose own ``KEYS``
    and ``ARGV`` locals shadow the globals (a run that needs no queue operation pays nothing);
    each call points them at its arguments, then runs the script's text (the library, then
    the script, as `queues.scripts.source` assembles them).
    """
    folder = files("queues").joinpath("scripts")
    lib = folder.joinpath("_lib.lua").read_text(encoding="utf-8")
    own = folder.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    return (
        f"local q_{name}_run\n"
        f"local function q_{name}(keys_, argv_)\n"
        f"if q_{name}_run == nil then\n"
        "local KEYS, ARGV\n"
        f"{lib}\n"
        f"q_{name}_run = function(k, a)\n"
        "KEYS, ARGV = k, a\n"
        f"-- queues/scripts/{name}.lua\n{own}\n"
        "end\n"
        "end\n"
        f"return q_{name}_run(keys_, argv_)\n"
        "end\n"
    )


def pack(values: Iterable[Any]) -> bytes:
    """Values (str, bytes or int) as one string: each is its length, ":", its bytes
    (``unpack_plan`` in ``scripts/_lib.lua`` reads it back)."""
    out = bytearray()
    for value in values:
        raw = value if isinstance(value, bytes) else str(value).encode()
        out += b"%d:%b" % (len(raw), raw)
    return bytes(out)


class _Union:
    """Queue keys appended after the agents KEYS, each once; ops name them by position."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.keys: list[str] = []
        self._at: dict[str, int] = {}

    def op(self, keys: Iterable[str], args: Iterable[Any]) -> list[Any]:
        """An op: its key positions (1-based in KEYS), the number of args, the args."""
        positions = []
        for key in keys:
            at = self._at.get(key)
            if at is None:
                at = self._at[key] = self.first + len(self.keys)
                self.keys.append(key)
            positions.append(str(at))
        values = list(args)  # as the queue sends them (str, bytes or int)
        return [",".join(positions), str(len(values)), *values]


@dataclass(frozen=True)
class ByIdOps:
    """The queue's requeue and remove for a call the script names, on one index snapshot
    (each a packed op)."""

    index: Index
    keys: list[str]
    requeue: bytes
    remove: bytes


@dataclass(frozen=True)
class PopOps:
    """The queue's pop for every group's skills, on one index snapshot and groups version.
    `plan`, packed: the number of groups, then per group its id, the KEYS positions of the
    buckets its call-takers may serve (`Index.eligible`), and its pop op. A group none of whose
    buckets exists (Redis drops an empty sorted set) has no call: routing skips its pop."""

    index: Index
    groups_version: str
    keys: list[str]
    plan: bytes


class QueueOps:
    """Plans the queue operations the agents scripts embed, cached per index snapshot.

    `first`: the KEYS position where the queue keys start (after the agents keys).
    """

    def __init__(self, queues: Queues, first: int) -> None:
        self.queues = queues
        self.first = first
        self._by_id: ByIdOps | None = None
        self._pops: PopOps | None = None

    def index(self, fresh: bool = False) -> Index:
        """The queue's cached bucket index (re-read when `fresh`: a script answered stale)."""
        return self.queues._refresh() if fresh else self.queues._snapshot()

    def by_id(self, fresh: bool = False) -> ByIdOps:
        index = self.index(fresh)
        cached = self._by_id
        if cached is None or cached.index is not index:
            union = _Union(self.first)
            requeue = self.queues._plan_by_id("requeue", CALL)(index)
            remove = self.queues._plan_by_id("remove", CALL)(index)
            ops = [union.op(requeue.keys, requeue.args), union.op(remove.keys, remove.args)]
            cached = self._by_id = ByIdOps(index, union.keys, *map(pack, ops))
        return cached

    def pops(
        self, groups_version: str, groups: Mapping[str, frozenset[str]], fresh: bool = False
    ) -> PopOps:
        index = self.index(fresh)
        cached = self._pops
        if cached is None or cached.index is not index or cached.groups_version != groups_version:
            union = _Union(self.first)
            args: list[Any] = [str(len(groups))]
            for gid, skills in groups.items():
                buckets = union.op(index.eligible(skills)[0], ())[0]
                pop = self.queues._plan_pop(skills, NOW)(index)
                args += [gid, buckets, *union.op(pop.keys, pop.args)]
            cached = self._pops = PopOps(index, groups_version, union.keys, pack(args))
        return cached
