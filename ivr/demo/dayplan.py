"""Who calls when in a simulated day: arrivals, what each caller wants, how long they wait.

Pure: given a day profile (`ivr.demo.dayprofile`), a random generator and the options, it returns
the list of arrivals; the demo and the load test turn them into emulated callers. Arrivals
follow the profile's hour-of-day shape (a Poisson process within each hour), 311 topics its
request mix; 911 calls come on their own line with the same shape (a simplification: the data
holds 311 requests only). A storm is a surge of extra calls over `storm_minutes`, weighted
towards what storms break (streetlights, water, emergencies).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The keys a caller presses in the shipped 311 flow (ivr/flows/311.yaml) for each topic:
# English, then the main menu, then the report menu.
TOPIC_KEYS: Mapping[str, tuple[str, ...]] = {
    "pothole": ("1", "1", "1"),
    "streetlight": ("1", "1", "2"),
    "noise": ("1", "1", "3"),
    "missed_trash": ("1", "1", "4"),
    "water_leak": ("1", "1", "5"),
    "other": ("1", "1", "0"),
    "status": ("1", "0"),  # straight to a call-taker (the lookup is a call-taker's job today)
}
# The skills a 311 call-taker needs to take every topic's queue.
SKILLS_311 = ("line:311", "topic:streets", "topic:noise", "topic:sanitation", "topic:water")
SKILLS_911 = ("line:911",)
STORM_TOPICS = {"streetlight": 0.35, "water_leak": 0.35, "other": 0.3}


@dataclass(frozen=True)
class Arrival:
    """One caller: when (seconds after the start of the day), which line, what they want, and
    how long they will wait in line before hanging up."""

    at: float
    line: str  # "311" or "911"
    topic: str
    patience: float


@dataclass(frozen=True)
class DayOptions:
    calls: int = 600  # 311 and 911 calls in the whole shift, before any storm
    start_hour: int = 7
    end_hour: int = 19
    emergency_share: float = 0.15
    patience_311: float = 180.0  # mean seconds a 311 caller waits in line
    patience_911: float = 600.0
    storm: bool = False
    storm_calls: float = 0.5  # extra calls, as a share of the day's
    storm_start_hour: float = 10.0
    storm_minutes: float = 60.0

    @property
    def seconds(self) -> float:
        return (self.end_hour - self.start_hour) * 3600.0


def _weights(profile: Mapping[str, Any], start: int, end: int) -> list[float]:
    hours = [float(x) for x in profile["hours"]]
    shares = hours[start:end]
    total = sum(shares)
    if total <= 0:
        raise ValueError(f"the profile has no calls between {start}:00 and {end}:00")
    return [s / total for s in shares]


def _pick(rng: random.Random, shares: Mapping[str, float]) -> str:
    names, weights = zip(*shares.items(), strict=True)
    return rng.choices(names, weights)[0]


def plan(profile: Mapping[str, Any], options: DayOptions, rng: random.Random) -> list[Arrival]:
    """Every arrival of the day, in time order."""
    if not 0 <= options.start_hour < options.end_hour <= 24:
        raise ValueError("the shift must lie within one day (0 <= start < end <= 24)")
    weights = _weights(profile, options.start_hour, options.end_hour)
    topics = {t: float(s) for t, s in profile["topics"].items() if float(s) > 0}
    out: list[Arrival] = []
    for i, share in enumerate(weights):
        out.extend(_hour(rng, i * 3600.0, 3600.0, share * options.calls, topics, options))
    if options.storm:
        begin = (options.storm_start_hour - options.start_hour) * 3600.0
        if not 0 <= begin < options.seconds:
            raise ValueError("the storm must start within the shift")
        length = min(options.storm_minutes * 60.0, options.seconds - begin)
        out.extend(_hour(rng, begin, length, options.calls * options.storm_calls, STORM_TOPICS,
                         options, emergency_share=min(1.0, options.emergency_share * 2)))
    out.sort(key=lambda a: a.at)
    return out


def _hour(rng: random.Random, begin: float, length: float, expected: float,
          topics: Mapping[str, float], options: DayOptions,
          emergency_share: float | None = None) -> list[Arrival]:
    """Poisson arrivals at `expected` calls over [begin, begin + length)."""
    share_911 = options.emergency_share if emergency_share is None else emergency_share
    out = []
    if expected <= 0:
        return out
    t = begin + rng.expovariate(expected / length)
    while t < begin + length:
        if rng.random() < share_911:
            out.append(Arrival(t, "911", "emergency", rng.expovariate(1 / options.patience_911)))
        else:
            out.append(Arrival(t, "311", _pick(rng, topics),
                               rng.expovariate(1 / options.patience_311)))
        t += rng.expovariate(expected / length)
    return out


def keys_for(arrival: Arrival) -> Sequence[str]:
    """What the caller presses (nothing on 911: it goes straight to the emergency queue)."""
    return () if arrival.line == "911" else TOPIC_KEYS[arrival.topic]
