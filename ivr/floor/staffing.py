"""Erlang C: how many call-takers a load needs, or what a number of call-takers achieves.

Pure arithmetic, no I/O. The load is `calls` arriving in `interval` seconds with an average handle
time `aht`; its traffic is ``calls * aht / interval`` Erlangs. The probability that a caller
waits comes from Erlang B's recursion ``B(n) = A B(n-1) / (n + A B(n-1))``: the textbook
formula's ``A^N / N!`` overflows a float past ~170 call-takers, while every step of the recursion
stays between 0 and 1, so it is computed in floats for any number of call-takers. (It was once
done in exact fractions: their size grows with every step, and 3,000 call-takers at a large load
took seconds of a web worker, 100,000 far longer.)

Erlang C knows one queue served first come, first served, with callers who never give up: it knows
no priorities (a 311 call behind 911 calls waits longer than it predicts) and no abandonment (it is
pessimistic about waits when callers hang up). `ivr.floor.reports` measures what a day really did,
for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 100_000


@dataclass(frozen=True)
class Staffing:
    """The figures for one staffing level. `asa_seconds` is None (infinite) when the
    call-takers cannot keep up (agents <= erlangs): every caller waits, the line grows."""

    erlangs: float
    agents: int
    p_wait: float
    service_level: float  # share answered within the target, 0..1
    asa_seconds: float | None
    occupancy: float

    def as_dict(self) -> dict[str, float | int | None]:
        return {"erlangs": self.erlangs, "agents": self.agents, "p_wait": self.p_wait,
                "service_level": self.service_level, "asa_seconds": self.asa_seconds,
                "occupancy": self.occupancy}


@dataclass(frozen=True)
class Load:
    """`calls` in `interval` seconds, each taking `aht` seconds; answered within `target`."""

    calls: float
    interval: float
    aht: float
    target: float

    def __post_init__(self) -> None:
        for name in ("calls", "interval", "aht", "target"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, not {value!r}")
        if self.interval <= 0 or self.aht <= 0:
            raise ValueError("interval and aht must be more than 0 seconds")

    @property
    def traffic(self) -> float:
        """The offered traffic in Erlangs."""
        return self.calls * self.aht / self.interval


def _erlang_b(traffic: float, agents: int) -> float:
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def _figures(load: Load, agents: int, b: float) -> Staffing:
    a = load.traffic
    erlangs = float(a)
    if agents <= a:
        return Staffing(erlangs, agents, 1.0, 0.0, None, 1.0 if agents else 0.0)
    c = agents * b / (agents - a * (1 - b))
    free = float(agents - a)
    p_wait = float(c)
    service = 1.0 - p_wait * math.exp(-free * load.target / load.aht)
    return Staffing(
        erlangs=erlangs,
        agents=agents,
        p_wait=p_wait,
        service_level=min(1.0, max(0.0, service)),
        asa_seconds=p_wait * load.aht / free,
        occupancy=float(a / agents),
    )


def for_agents(load: Load, agents: int) -> Staffing:
    """The figures with `agents` call-takers."""
    if not 0 <= agents <= MAX_AGENTS:
        raise ValueError(f"agents must be between 0 and {MAX_AGENTS}")
    return _figures(load, agents, _erlang_b(load.traffic, agents))


def for_goal(load: Load, goal: float) -> Staffing:
    """The fewest call-takers whose service level reaches `goal` (a share, 0 < goal < 1)."""
    if not 0 < goal < 1:
        raise ValueError("the goal is a share strictly between 0 and 1 (e.g. 0.8 for 80%)")
    a = load.traffic
    b = 1.0
    for n in range(1, MAX_AGENTS + 1):  # one pass of the recursion, checked at each step
        b = a * b / (n + a * b)
        if n > a:
            figures = _figures(load, n, b)
            if figures.service_level >= goal:
                return figures
    raise ValueError(f"no staffing up to {MAX_AGENTS} call-takers reaches the goal")
