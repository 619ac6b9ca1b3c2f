"""`Reservations`: what happens to an offer once the router made it.

An open reservation holds one call (taken off the queue, kept in the queue's ``offered`` hash)
and one call-taker (``reserved``). It ends in exactly one of four ways, each one Lua script that
settles the call and the call-taker together:

* accept: the call-taker goes on the call, the call leaves the queue for good;
* reject, or no answer by the deadline (`expire_due`): the call goes back to its original
  place (arrival and sequence kept, as `Queues.requeue` does) and the call-taker is set
  aside: on break after `Rules.max_missed` misses in a row, else available (after
  `Rules.reject_delay`, if any);
* the caller hangs up (`caller_gone`): the offer is cancelled and the call-taker is free at
  once, missed count unchanged.

Two of these can never both happen: each script starts by finding the reservation and the
first one to run deletes it.
"""

from __future__ import annotations

import json
from typing import Any

from agents.model import CallerGone, OfferClosed, Reservation
from agents.presence import Agents
from agents.queuing import parse_entry
from agents.wire import text, time_arg

# Re-reads of the queue's bucket index before giving up (each follows a new bucket).
ATTEMPTS = 8


def reservation_from_json(raw: bytes | str) -> Reservation:
    d = json.loads(raw)
    return Reservation(
        reservation_id=d["id"],
        agent_id=d["agent"],
        entry=parse_entry(d["entry"]),
        offered_at=float(d["at"]),
        expires_at=float(d["exp"]),
    )


class Reservations:
    """The open offers of one center."""

    def __init__(self, agents: Agents) -> None:
        self.agents = agents
        self.redis = agents.redis
        self.keys = agents.keys

    def get(self, reservation_id: str) -> Reservation | None:
        raw = self.redis.hget(self.keys.resv, reservation_id)
        return None if raw is None else reservation_from_json(raw)  # type: ignore[arg-type]

    def all(self) -> list[Reservation]:
        """Every open offer, oldest first."""
        raw: dict[Any, Any] = self.redis.hgetall(self.keys.resv)  # type: ignore[assignment]
        found = (reservation_from_json(v) for v in raw.values())
        return sorted(found, key=lambda r: (r.offered_at, r.reservation_id))

    def for_call(self, call_id: str) -> Reservation | None:
        rid = self.redis.hget(self.keys.by_call, call_id)
        return None if rid is None else self.get(text(rid))

    def accept(self, reservation_id: str, now: float, agent_id: str | None = None) -> Reservation:
        """The call-taker takes the call: on_call; the call is completed in the queue.

        Raises `OfferClosed` when the offer is gone, past its deadline, made to someone other
        than `agent_id` (when given), or its call left the queue meanwhile.
        """
        a = self.agents
        args = [a.channel, time_arg(now), reservation_id, agent_id or ""]
        raw = a.scripts["accept"](keys=a.head, args=args)
        status = text(raw[0])
        if status == "ok":
            return reservation_from_json(raw[1])
        detail = text(raw[1]) if len(raw) > 1 else ""
        raise OfferClosed(reservation_id, status, detail)  # type: ignore[arg-type]

    def reject(self, reservation_id: str, now: float, agent_id: str | None = None) -> Reservation:
        """The call-taker declines: the call goes back to its place, the miss is counted."""
        raw = self._release("reject", now, reservation_id, agent_id or "", 1)
        status = text(raw[0])
        if status != "ok":
            detail = text(raw[1]) if len(raw) > 1 else ""
            raise OfferClosed(reservation_id, status, detail)  # type: ignore[arg-type]
        return reservation_from_json(raw[1])

    def expire_due(self, now: float, limit: int = 200) -> list[Reservation]:
        """Handle every offer whose deadline is at or before `now` as a miss, like `reject`.
        Returns them. Each one counts from its own deadline (idle time, reject delay)."""
        out: list[Reservation] = []
        while True:
            raw = self._release("expire", now, "", "", limit)
            out.extend(reservation_from_json(r) for r in raw[1:])
            if text(raw[0]) == "ok" and len(raw) - 1 < limit:
                return out

    def caller_gone(self, call_id: str, now: float) -> CallerGone:
        """The caller hung up: cancel their offer (the call-taker is available at once, their
        missed count unchanged) or take them out of the queue if still waiting. Idempotent."""
        a = self.agents
        for attempt in range(ATTEMPTS):
            ops = a.ops.by_id(fresh=attempt > 0)
            raw = a.scripts["gone"](
                keys=a.head + ops.keys, args=[a.channel, time_arg(now), call_id, ops.remove]
            )
            status = text(raw[0])
            if status == "stale":
                continue
            if status == "unknown":
                return CallerGone(call_id, "unknown")
            entry = parse_entry(raw[1])
            resv = None
            if status == "offered" and text(raw[2]):
                resv = reservation_from_json(raw[2])
            return CallerGone(call_id, status, entry, resv)  # type: ignore[arg-type]
        raise RuntimeError(f"the bucket index of {self.keys.center} kept changing; giving up")

    def _release(self, mode: str, now: float, rid: str, agent_id: str, limit: int) -> Any:
        a = self.agents
        rules = a.rules
        args = [
            a.channel, time_arg(now), mode, rid, agent_id, rules.max_missed,
            rules.missed_reason, repr(float(rules.reject_delay)), limit,
        ]  # fmt: skip
        for _ in range(ATTEMPTS):
            ops = a.ops.by_id()
            raw = a.scripts["release"](keys=a.head + ops.keys, args=[*args, ops.requeue])
            if text(raw[0]) != "stale":
                return raw
            a.ops.index(fresh=True)
            if len(raw) > 1:
                return raw  # some were settled before the stale plan was noticed
        raise RuntimeError(f"the bucket index of {self.keys.center} kept changing; giving up")
