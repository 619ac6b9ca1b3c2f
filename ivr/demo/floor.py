"""A floor of scripted call-takers on the emulator: they log in, their consoles act on offers
by a script, and their phones are the emulator's parties (a call-taker's talk time is how long
their phone stays on the call). Tests, `ivr demo` and `bench/load.py` use it. It lives beside
the app, not in `ivr.sim`, because it drives the app (the emulator never imports it).

The floor is the console's side only: offers are accepted through `connect.accept`, as the
console API does. With `ticks=True` it also plays `ivr worker`'s ticker (`connect.tick` every
virtual second): the app shares the emulator's virtual clock. Against a served app, whose own
worker ticks on real time, it runs with `ticks=False`.

The step re-arms itself, so the simulation is never idle: run it with `sim.run(until=...)`.

Where a transfer to dispatch plugs in (issue 5, warm transfer, built on another branch):
`on_call_started` hooks run once for every call a call-taker is put on, at the step that first
sees it. A scripted transfer is such a hook that, for a share of the calls, asks for the
transfer as the console does (issue 5's `ivr.transfers.start_warm`, then `complete` once the
dispatcher answers), with the dispatch line answered by an emulator party (`sim.on_dial`). No
transfer entry point exists on this branch, so this floor never transfers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from agents import AgentError, Presence, Reservation, TelephonyError
from ivr.connect import actions as connect
from ivr.services import Services
from ivr.sim.call import Call
from ivr.sim.callers import Party, answers
from ivr.sim.emulator import Emulator

AGENT_PREFIX = "client:"


@dataclass(frozen=True)
class Console:
    """What a call-taker does with an offer: ``accept`` or ``reject`` it `after` seconds, or
    ``ignore`` it (it times out)."""

    action: str = "accept"
    after: float = 2.0


ACCEPT = Console("accept")
REJECT = Console("reject", 1.0)
IGNORE = Console("ignore")


@dataclass(frozen=True)
class HandleTimes:
    """Talk time of a call, drawn per call: log-normal (call-center handle times are skewed:
    most calls are short, a few run long) with this median, clipped to [low, high]."""

    median: float = 150.0
    sigma: float = 0.5
    low: float = 20.0
    high: float = 1200.0
    ring: float = 3.0

    def draw(self, rng: random.Random) -> float:
        return min(max(rng.lognormvariate(math.log(self.median), self.sigma), self.low), self.high)


@dataclass
class Floor:
    """Scripted call-takers on `svc` (the app's services) and `sim` (the emulator).

    `handle`: when given, every call-taker's phone answers after `handle.ring` seconds and
    hangs up after a talk time drawn for that call (unless `login` names a fixed phone).
    `on_call_started(agent, call_id, now)` hooks run once per call a call-taker is put on.
    `free_to_offer` collects, for the first offer a call-taker gets after becoming free, the
    seconds a free call-taker and the call they were offered spent apart: from the later of
    "they became free" and "the call joined the line" to the offer.
    """

    svc: Services
    sim: Emulator
    ticks: bool = True
    interval: float = 1.0
    handle: HandleTimes | None = None
    seed: int = 0
    consoles: dict[str, Console] = field(default_factory=dict)
    refused: list[Exception] = field(default_factory=list)
    states: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    free_to_offer: list[float] = field(default_factory=list)
    accepted: int = 0
    talk_times: list[float] = field(default_factory=list)
    on_step: list[Callable[[float], None]] = field(default_factory=list)
    on_call_started: list[Callable[[str, str, float], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._seen: set[str] = set()
        self._last_offer: dict[str, float] = {}
        self._on_calls: set[str] = set()
        if self.handle is not None:
            self.sim.party_resolver = self.phone_for
        self.sim.sched.call_later(self.interval, self._step)

    def now(self) -> float:
        """The app's time (the emulator's virtual clock in-process; real time when served)."""
        return self.svc.clock().timestamp()

    def phone_for(self, to: str) -> Party | None:
        """A call-taker's phone for one ring: answers, talks a drawn handle time, hangs up."""
        if self.handle is None or not to.startswith(AGENT_PREFIX):
            return None
        talk = self.handle.draw(self.rng)
        self.talk_times.append(talk)
        return answers(after=self.handle.ring, hangup_after=talk)

    def login(self, agent: str, skills: Iterable[str] = ("line:311",),
              phone: Party | None = None, console: Console = ACCEPT) -> Presence:
        """Log a call-taker in. Without `phone` (and without `handle`), their phone answers
        after 3 s and talks 2 minutes."""
        if phone is not None or self.handle is None:
            self.sim.on_dial(f"{AGENT_PREFIX}{agent}",
                             phone or answers(after=3, hangup_after=120))
        self.consoles[agent] = console
        presence = self.svc.agents.login(agent, skills, self.now())
        connect.route(self.svc)
        return presence

    def state(self, agent: str) -> str:
        p = self.svc.agents.get(agent)
        return p.state.value if p else "offline"

    def legs(self, agent: str) -> list[Call]:
        """The calls the center placed to this call-taker, in order."""
        return [c for c in self.sim.calls.values() if c.to == f"{AGENT_PREFIX}{agent}"]

    def run(self, until: float) -> None:
        self.sim.run(until=until)

    def step(self) -> None:
        """One look at the floor: the tick (if this floor ticks), then every console acts on
        its offers."""
        now = self.now()
        if self.ticks:
            connect.tick(self.svc, now)
        presences = {p.agent_id: p for p in self.svc.agents.all()}
        for r in self.svc.router.reservations.all():
            self._note_offer(r, presences)
            console = self.consoles.get(r.agent_id, IGNORE)
            if console.action == "ignore" or now < r.offered_at + console.after:
                continue
            try:
                if console.action == "accept":
                    connect.accept(self.svc, r.reservation_id, r.agent_id, now)
                    self.accepted += 1
                else:
                    connect.reject(self.svc, r.reservation_id, r.agent_id, now)
            except (AgentError, TelephonyError) as exc:
                self.refused.append(exc)
        for p in self.svc.agents.all():
            seen = self.states.setdefault(p.agent_id, [])
            if not seen or seen[-1][1] != p.state.value:
                seen.append((self.sim.clock.elapsed, p.state.value))
            if p.state.value == "on_call" and p.call_id and p.call_id not in self._on_calls:
                self._on_calls.add(p.call_id)
                for hook in self.on_call_started:
                    hook(p.agent_id, p.call_id, now)
        for fn in self.on_step:
            fn(now)

    def _note_offer(self, r: Reservation, presences: dict[str, Presence]) -> None:
        if r.reservation_id in self._seen:
            return
        self._seen.add(r.reservation_id)
        p = presences.get(r.agent_id)
        free = p.idle_since if p is not None else None
        last = self._last_offer.get(r.agent_id, float("-inf"))
        self._last_offer[r.agent_id] = r.offered_at
        if free is not None and free > last:  # not a second offer after a miss
            self.free_to_offer.append(max(r.offered_at - max(free, r.entry.arrival), 0.0))

    def _step(self) -> None:
        with self.sim.sched.unlocked():  # REST requests the app makes need the emulator's lock
            self.step()
        self.sim.sched.call_later(self.interval, self._step)
