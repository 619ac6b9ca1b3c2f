"""Which calls are reviewed: pure, given the period's calls, the settings and a seed.

APCO/NENA ANS 1.107.1 (quality assurance and improvement) asks for a random sample of at least
2 % of the calls each call-taker handled in a period, plus every call of the kinds a center
names. Here, for each call-taker, ``ceil(percent x calls / 100)`` of their calls (at least one
when they took any) are drawn with a generator seeded by (seed, period, call-taker): the same
records and settings always give the same sample, and a call-taker's sample does not move when
another's calls change. Every call of an `always` kind is added, with that kind as its reason.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

EPOCH = date(2024, 1, 1)  # a Monday: periods of 7 days run Monday to Sunday
SAMPLE = "sample"


@dataclass(frozen=True)
class Handled:
    """One call of the period: who handled it ("" for nobody) and its kinds."""

    sid: str
    agent: str
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Pick:
    sid: str
    agent: str
    reasons: tuple[str, ...]  # "sample" and/or the kinds that chose it


@dataclass
class AgentSample:
    """One call-taker's share of the period's sample."""

    agent: str
    calls: int = 0
    required: int = 0
    sampled: list[str] = field(default_factory=list)  # the random draw
    kinds: list[str] = field(default_factory=list)  # calls of an `always` kind

    @property
    def picked(self) -> int:
        return len(set(self.sampled) | set(self.kinds))


def period_start(day: date, days: int) -> date:
    """The first day of the period of `days` days that holds `day`."""
    return EPOCH + timedelta(days=(day - EPOCH).days // days * days)


def required(calls: int, percent: float) -> int:
    """The size of the random sample: `percent` of `calls`, rounded up (one at least)."""
    return math.ceil(calls * percent / 100 - 1e-9) if calls else 0


def draw(calls: Iterable[Handled], percent: float, seed: str, period: date,
         always: Sequence[str]) -> tuple[list[Pick], dict[str, AgentSample]]:
    """The period's picks (in call order within each call-taker) and each call-taker's share."""
    mine: dict[str, list[Handled]] = defaultdict(list)
    listed = list(calls)
    for c in listed:
        mine[c.agent].append(c)
    shares: dict[str, AgentSample] = {}
    reasons: dict[str, list[str]] = defaultdict(list)
    for agent in sorted(mine):
        handled = sorted(mine[agent], key=lambda c: c.sid)
        share = shares[agent] = AgentSample(agent)
        if agent:  # calls nobody handled (a flow's own transfer) are reviewed by kind only
            share.calls = len(handled)
            share.required = required(len(handled), percent)
            rng = random.Random(f"{seed}|{period.isoformat()}|{agent}")
            share.sampled = sorted(c.sid for c in rng.sample(handled, share.required))
            for sid in share.sampled:
                reasons[sid].append(SAMPLE)
        for c in handled:
            kinds = [k for k in always if k in c.kinds]
            if kinds:
                share.kinds.append(c.sid)
                reasons[c.sid].extend(kinds)
    picks = [Pick(c.sid, c.agent, tuple(reasons[c.sid])) for c in listed if c.sid in reasons]
    return picks, shares
