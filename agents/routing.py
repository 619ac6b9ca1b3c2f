"""`Router`: matching waiting calls with available call-takers.

The rule. Available call-takers are taken longest idle first; each is offered the best waiting
call their skills allow, in the queue's own order (class rank first, so 911 before 311 for a
call-taker who can take both; then aged priority, arrival, sequence). A call whose requirements
nobody available meets stays in line without blocking anyone (a 911 call needing ``lang:es``
does not keep an English-only call-taker from 311 calls). A new call therefore goes to the
longest-idle call-taker who can take it, and a call-taker who becomes free gets the best call
they can take.

Atomicity: one script per match, not two steps. Why not "reserve the call-taker with a
compare-and-set, then `Queues.pop`, then undo on no call"? Each step is atomic, so nothing is
ever reserved twice, but the intermediate states are visible to other processes: a call-taker
hidden while their router pops an empty queue is missed by the router of a call pushed in that
instant, and both routers give up (a lost wake-up: a call waits next to an idle call-taker). A
process dying between the steps strands a call in the queue's offered state with no
reservation, which only a sweep over the queue's data could find, and whose requeue would race
a new offer of the same call. So ``route.lua`` does all of it in one script: walk the available
set, take the call with the queue's own pop script (embedded, see `agents.queuing`), write the
reservation, move the call-taker to ``reserved``, publish the event. Redis runs scripts one at
a time, so two processes can never reserve the same call or the same call-taker, no state
between "popped" and "reserved" exists, and any interleaving of routers, pushes and presence
changes ends with every possible match made. Accept, reject, expiry and hang-up settle the call
(the queue's complete, requeue, remove) and the call-taker together the same way (see
`agents.reservations`).

Cost. Call-takers with the same skills form a group, and a group that finds no call is dry for
the rest of the run; a group none of whose eligible buckets holds a call is known dry from one
EXISTS, without a pop. So a run asks the queue about each group at most once beyond the
matches it makes, and stops as soon as every group is matched out or dry. A match costs one
pop (the queue's: a few O(log n) reads per eligible bucket): independent of the number of
waiting calls, and of available call-takers except for walking past members of dry groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.model import Reservation, check_agent_id
from agents.presence import Agents
from agents.reservations import ATTEMPTS, Reservations, reservation_from_json
from agents.wire import text, time_arg


@dataclass(frozen=True)
class Tick:
    """What one `Router.tick` did."""

    timers: int
    expired: list[Reservation]
    offered: list[Reservation]
    staffing: dict[str, int]


class Router:
    """Routing for one center. `batch`: matches per script run (a run blocks Redis while it
    works; at roughly 20 microseconds a match, 64 keep every run around a millisecond)."""

    def __init__(self, agents: Agents, *, batch: int = 64) -> None:
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.agents = agents
        self.reservations = Reservations(agents)
        self.batch = batch

    def route(self, now: float) -> list[Reservation]:
        """Make every match possible at `now` and return the offers made (call after any
        event: a call queued, a call-taker available, an offer rejected or expired)."""
        out: list[Reservation] = []
        while True:
            status, made = self._run(now, "")
            out.extend(made)
            if status != "more":
                return out

    def offer(self, agent_id: str, now: float) -> Reservation | None:
        """Offer the best waiting call to this one call-taker if they are available (cheaper
        than `route` when only they changed). None when there is no call for them."""
        _, made = self._run(now, check_agent_id(agent_id))
        return made[0] if made else None

    def tick(self, now: float) -> Tick:
        """The periodic work (every second or so, from any one or more processes): due
        wrap-ups and reject delays, due offer timeouts, then routing, then staffing."""
        timers = self.agents.run_timers(now)
        expired = self.reservations.expire_due(now)
        offered = self.route(now)
        staffing = self.agents.sync_staffing()
        return Tick(timers, expired, offered, staffing)

    # -- internals ----------------------------------------------------------------------------

    def _run(self, now: float, only: str) -> tuple[str, list[Reservation]]:
        a = self.agents
        deadline = time_arg(now + a.rules.offer_timeout)
        for attempt in range(ATTEMPTS):
            fresh = attempt > 0
            version, groups = a.group_snapshot(fresh)
            ops = a.ops.pops(version, groups, fresh)
            args = [a.channel, time_arg(now), version, self.batch, deadline, only, ops.plan]
            raw = a.scripts["route"](keys=a.head + ops.keys, args=args)
            status = text(raw[0])
            made = [reservation_from_json(r) for r in raw[1:]]
            if status != "stale" or made:
                return ("more" if status == "stale" else status), made
        raise RuntimeError(f"the indexes of {a.keys.center} kept changing; giving up")
