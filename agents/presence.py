"""`Agents`: the presence of a center's call-takers, kept in Redis only.

Each call-taker has one record (a JSON value in the ``presence`` hash) and a place in the
indexes its state calls for: routable call-takers in the ``available`` sorted set by idle time,
running wrap-ups and reject delays in ``timers``, staffing counts per skill set. Every change
is one Lua script that checks the transition against `agents.model.TRANSITIONS`, rewrites the
record and its indexes together, and publishes an event; so no reader ever sees a half-made
change and any process may die at any point. A restarted process reads everything back from
Redis: there is no state in this object beyond caches of data that only grows.

Events: each change publishes one JSON object on `Agents.channel`, in the order the changes
happened, with ``id`` (a per-center counter, usable as a server-sent event id), ``event``
(``login``, ``logout``, ``break``, ``break_pending``, ``break_cancelled``, ``end_break``,
``offered``, ``accepted``, ``rejected``, ``expired``, ``cancelled``, ``end_call``,
``wrap_up_done``, ``ready``, ``skills``), ``agent``, ``state`` (the state after the change),
``at`` (epoch seconds) and, where they apply, ``reason``, ``reservation``, ``call``,
``missed``, ``pending_break``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from redis import Redis

from agents import scripts
from agents.keys import Keys, group_id
from agents.model import (
    Action,
    Presence,
    Rules,
    State,
    TransitionRefused,
    check_agent_id,
    check_skills,
    sources,
)
from agents.queuing import QueueOps, parse_entry
from agents.wire import text as _s
from agents.wire import time_arg as _time
from queues import Queues


class Agents:
    """The call-takers of one center. One per process (it caches the skill-set groups).

    `queues` is the center's `Queues`: handle times are recorded into it when wrap-up ends,
    and staffing is fed to it by `sync_staffing`.
    """

    def __init__(self, redis: Redis, center: str, queues: Queues, rules: Rules | None = None):
        if queues.keys.center != center:
            raise ValueError(f"queues belong to center {queues.keys.center!r}, not {center!r}")
        self.redis = redis
        self.keys = Keys(center)
        self.queues = queues
        self.rules = rules or Rules()
        self.head = [*self.keys.head(), queues.keys.calls]
        self.ops = QueueOps(queues, first=len(self.head) + 1)
        self.scripts = scripts.register(redis)
        self._groups: tuple[str, dict[str, frozenset[str]]] | None = None

    @property
    def channel(self) -> str:
        """The pub/sub channel of this center's events (see the module docstring)."""
        return self.keys.channel

    # -- what a call-taker does ---------------------------------------------------------------

    def login(self, agent_id: str, skills: Iterable[str], now: float) -> Presence:
        """Log in with `skills` (``line:311``, ``lang:es`` ...): available at once."""
        have = check_skills(skills)
        return self._change(Action.LOGIN, agent_id, now, _skills_json(have), group_id(have))

    def logout(self, agent_id: str, now: float) -> Presence:
        """Log out from available, break or wrap-up (wrap-up ends there)."""
        return self._change(Action.LOGOUT, agent_id, now)

    def go_on_break(self, agent_id: str, reason: str, now: float) -> Presence:
        """Go on break now, or, during wrap-up, as soon as wrap-up ends."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("a break needs a reason")
        return self._change(Action.BREAK, agent_id, now, reason.strip())

    def end_break(self, agent_id: str, now: float) -> Presence:
        """Back from break: available, missed offers forgotten. During wrap-up: cancels a
        pending break."""
        return self._change(Action.END_BREAK, agent_id, now)

    def end_call(self, agent_id: str, now: float, call_id: str | None = None) -> Presence:
        """The call ended: wrap-up for `Rules.wrap_up_seconds` (available at once when 0).

        With `call_id`, a report about another call (late or repeated status callback) changes
        nothing and returns the record as it is, instead of being refused.
        """
        wrap = self.rules.wrap_up_seconds
        until = _time(now + wrap) if wrap > 0 else ""
        return self._change(Action.END_CALL, agent_id, now, call_id or "", until)

    def finish_wrap_up(self, agent_id: str, now: float) -> Presence:
        """End wrap-up early: available, or on the break chosen during wrap-up."""
        return self._change(Action.FINISH_WRAP_UP, agent_id, now)

    def set_skills(self, agent_id: str, skills: Iterable[str], now: float) -> Presence:
        """Change a logged-in call-taker's skills (used by the next offer)."""
        have = check_skills(skills)
        return self._change(Action.SET_SKILLS, agent_id, now, _skills_json(have), group_id(have))

    # -- reading ------------------------------------------------------------------------------

    def get(self, agent_id: str) -> Presence | None:
        raw = self.redis.hget(self.keys.presence, check_agent_id(agent_id))
        return None if raw is None else Presence.from_json(raw)  # type: ignore[arg-type]

    def all(self) -> list[Presence]:
        """Every call-taker ever logged in (offline ones too), by id."""
        raw: dict[Any, Any] = self.redis.hgetall(self.keys.presence)  # type: ignore[assignment]
        return sorted((Presence.from_json(v) for v in raw.values()), key=lambda p: p.agent_id)

    def staffing(self) -> dict[str, int]:
        """Call-takers on duty (available, reserved, on a call or in wrap-up) able to serve
        each configured queue class, per `Rules.class_skills`."""
        duty, groups = self._duty()
        out = {}
        for name in self.queues.classes:
            need = self.rules.class_skills.get(name, frozenset())
            out[name] = sum(n for gid, n in duty.items() if need <= groups.get(gid, frozenset()))
        return out

    def on_duty_for(self, skills: Iterable[str]) -> int:
        """Call-takers on duty (available, reserved, on a call or in wrap-up) who hold every
        one of `skills`: those who could answer a call needing them, now or after their call."""
        need = frozenset(skills)
        duty, groups = self._duty()
        return sum(n for gid, n in duty.items() if need <= groups.get(gid, frozenset()))

    def _duty(self) -> tuple[dict[str, int], dict[str, frozenset[str]]]:
        """Call-takers on duty per skill-set group, and the groups' skills."""
        duty = {_s(k): int(v) for k, v in self.redis.hgetall(self.keys.duty).items()}  # type: ignore[union-attr]
        groups = self.groups()
        if any(gid not in groups for gid in duty):
            groups = self.groups(fresh=True)
        return duty, groups

    def sync_staffing(self) -> dict[str, int]:
        """Feed `staffing()` to the queues (their wait estimates read it). Cheap: one read of a
        small hash and one write per class; `Router.tick` calls it."""
        counts = self.staffing()
        for name, n in counts.items():
            self.queues.set_staffing(name, n)
        return counts

    # -- timers -------------------------------------------------------------------------------

    def run_timers(self, now: float, limit: int = 500) -> int:
        """End the wrap-ups and reject delays due by `now`; returns how many. Wrap-ups end at
        their deadline (not at `now`), so idle time is fair however late this runs."""
        done = 0
        while True:
            raw = self.scripts["timers"](keys=self.head, args=[self.channel, _time(now), limit])
            n = int(raw[0])
            self._record_handle(raw[1:], now)
            done += n
            if n < limit:
                return done

    # -- plumbing shared with the router ------------------------------------------------------

    def groups(self, fresh: bool = False) -> dict[str, frozenset[str]]:
        """Skill-set groups by id (they are never removed, so a cached copy is a subset)."""
        return self.group_snapshot(fresh)[1]

    def group_snapshot(self, fresh: bool = False) -> tuple[str, dict[str, frozenset[str]]]:
        """(version, groups), read together."""
        if fresh or self._groups is None:
            pipe = self.redis.pipeline(transaction=True)
            pipe.get(self.keys.groups_version)
            pipe.hgetall(self.keys.groups)
            version, flat = pipe.execute()
            groups = {_s(k): frozenset(json.loads(v) or ()) for k, v in flat.items()}
            self._groups = ("0" if version is None else _s(version), groups)
        return self._groups

    def _change(
        self, action: Action, agent_id: str, now: float, x1: str = "", x2: str = ""
    ) -> Presence:
        check_agent_id(agent_id)
        args = [self.channel, _time(now), action.value, agent_id, sources(action), x1, x2]
        raw = self.scripts["transition"](keys=self.head, args=args)
        status = _s(raw[0])
        if status == "refused":
            raise TransitionRefused(agent_id, action, State(_s(raw[1])))
        if status == "ignored":
            current = self.get(agent_id)
            return current if current is not None else Presence(agent_id, State.OFFLINE, now)
        self._record_handle(raw[2:4], now)
        return Presence.from_json(raw[1])

    def _record_handle(self, flat: list[Any], now: float) -> None:
        """Record the handle times of calls whose wrap-up ended ((queue record, seconds)
        pairs; the record is '' for a call the queue never knew)."""
        for i in range(0, len(flat) - 1, 2):
            record = _s(flat[i])
            if not record:
                continue
            name = parse_entry(record).queue_class
            if name in self.queues.classes:
                self.queues.record_handle_time(name, float(_s(flat[i + 1])), now)


def _skills_json(skills: frozenset[str]) -> str:
    return json.dumps(sorted(skills))
