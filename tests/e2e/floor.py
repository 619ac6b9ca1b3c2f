"""A floor of call-takers for end-to-end tests: they log in, their consoles act on offers by a
script, their phones are the emulator's scripted parties, and the floor's clock ticks every
virtual second as `ivr worker` does (`connect.tick`).

The tick re-arms itself, so the simulation is never idle: run it with `Floor.run(until=...)`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from agents import AgentError, Presence, TelephonyError
from ivr import connect
from ivr.sim import Call, Party, answers


@dataclass(frozen=True)
class Console:
    """What a call-taker does with an offer: ``accept`` or ``reject`` it `after` seconds, or
    ``ignore`` it (it times out)."""

    action: str = "accept"
    after: float = 2.0


ACCEPT = Console("accept")
REJECT = Console("reject", 1.0)
IGNORE = Console("ignore")


@dataclass
class Floor:
    center: object
    consoles: dict[str, Console] = field(default_factory=dict)
    refused: list[Exception] = field(default_factory=list)
    states: dict[str, list[tuple[float, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.svc = self.center.services  # type: ignore[attr-defined]
        self.sim = self.center.sim  # type: ignore[attr-defined]
        self.sim.sched.call_later(1.0, self._tick)

    def now(self) -> float:
        return self.sim.clock.now().timestamp()

    def login(self, agent: str, skills: Iterable[str] = ("line:311",),
              phone: Party | None = None, console: Console = ACCEPT) -> Presence:
        """Log a call-taker in with a phone (default: answers after 3 s, talks 2 minutes)."""
        self.sim.on_dial(f"client:{agent}", phone or answers(after=3, hangup_after=120))
        self.consoles[agent] = console
        presence = self.svc.agents.login(agent, skills, self.now())
        connect.route(self.svc)
        return presence

    def state(self, agent: str) -> str:
        p = self.svc.agents.get(agent)
        return p.state.value if p else "offline"

    def legs(self, agent: str) -> list[Call]:
        """The calls the center placed to this call-taker, in order."""
        return [c for c in self.sim.calls.values() if c.to == f"client:{agent}"]

    def run(self, until: float) -> None:
        self.sim.run(until=until)

    def _tick(self) -> None:
        with self.sim.sched.unlocked():  # REST requests the app makes need the emulator's lock
            now = self.now()
            connect.tick(self.svc, now)
            for r in self.svc.router.reservations.all():
                console = self.consoles.get(r.agent_id, IGNORE)
                if console.action == "ignore" or now < r.offered_at + console.after:
                    continue
                try:
                    if console.action == "accept":
                        connect.accept(self.svc, r.reservation_id, r.agent_id, now)
                    else:
                        connect.reject(self.svc, r.reservation_id, r.agent_id, now)
                except (AgentError, TelephonyError) as exc:
                    self.refused.append(exc)
            for p in self.svc.agents.all():
                seen = self.states.setdefault(p.agent_id, [])
                if not seen or seen[-1][1] != p.state.value:
                    seen.append((self.sim.clock.elapsed, p.state.value))
        self.sim.sched.call_later(1.0, self._tick)
