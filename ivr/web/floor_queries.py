"""What the floor's pages and its JSON API read from a request: the day asked for and the
Erlang C question, each refused with a 400 that names the parameter."""

from __future__ import annotations

import math
from datetime import date

from flask import request

from ivr.floor import reports, staffing
from ivr.services import Services
from ivr.web.errors import ApiError


def asked_day(svc: Services) -> date:
    """``?day=YYYY-MM-DD`` (the center's local day), today when absent."""
    raw = request.args.get("day", "").strip()
    if not raw:
        return reports.local_day(svc.clock(), svc.settings.timezone)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "bad_day", f"day {raw[:20]!r} is not a date (YYYY-MM-DD)") from None


# Each number of the Erlang C question and its bounds (openapi/console.yaml says the same): a
# day at most, a million calls, the most call-takers Erlang C is asked about.
BOUNDS = {"calls": (0, 1_000_000), "interval": (1, 86_400), "aht": (1, 86_400),
          "target": (0, 86_400), "agents": (0, staffing.MAX_AGENTS), "goal": (1, 99.9)}


def _number(name: str, *, required: bool = True) -> float | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        if required:
            raise ApiError(400, "missing_parameter", f"{name} is required")
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, "bad_parameter", f"{name} must be a number") from None
    low, high = BOUNDS[name]
    if not (math.isfinite(value) and low <= value <= high):
        raise ApiError(400, "bad_parameter", f"{name} must be a number from {low} to {high}")
    return value


def staffing_of_request() -> staffing.Staffing:
    """Erlang C for ``calls, interval, aht, target`` and exactly one of ``agents`` or ``goal``
    (percent) in the query; ApiError 400 naming the parameter otherwise."""
    calls, interval, aht, target = (_number(n) for n in ("calls", "interval", "aht", "target"))
    agents, goal = _number("agents", required=False), _number("goal", required=False)
    if (agents is None) == (goal is None):
        raise ApiError(400, "agents_or_goal", "give exactly one of agents or goal (percent)")
    try:
        load = staffing.Load(calls, interval, aht, target)  # type: ignore[arg-type]
        if agents is not None:
            if not agents.is_integer():
                raise ApiError(400, "bad_parameter", "agents must be a whole number")
            return staffing.for_agents(load, int(agents))
        return staffing.for_goal(load, goal / 100)  # type: ignore[operator]
    except ValueError as exc:
        raise ApiError(400, "bad_parameter", str(exc)) from None
