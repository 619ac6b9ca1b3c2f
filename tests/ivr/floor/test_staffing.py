"""Erlang C against published figures, its properties, and the `ivr staffing` command."""

from __future__ import annotations

import json
import math
import time

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.cli.main import main
from ivr.floor import staffing

# 360 calls in 30 minutes, 240 s handle time, 20 s target: the textbook example.
BOOK = staffing.Load(calls=360, interval=1800, aht=240, target=20)


def test_published_figures_for_55_agents() -> None:
    f = staffing.for_agents(BOOK, 55)
    assert f.erlangs == 48
    assert math.isclose(f.p_wait, 0.2387, abs_tol=5e-4)
    assert math.isclose(f.asa_seconds or 0, 8.18, abs_tol=0.05)
    assert math.isclose(f.service_level, 0.8668, abs_tol=5e-4)
    assert math.isclose(f.occupancy, 48 / 55)


def test_54_is_the_fewest_for_80_percent_in_20_seconds() -> None:
    best = staffing.for_goal(BOOK, 0.80)
    assert best.agents == 54
    assert best.service_level >= 0.80
    assert staffing.for_agents(BOOK, 53).service_level < 0.80


def test_too_few_agents_never_catch_up() -> None:
    f = staffing.for_agents(BOOK, 48)
    assert (f.p_wait, f.service_level, f.asa_seconds) == (1.0, 0.0, None)


def test_hundreds_of_agents_do_not_overflow() -> None:
    # A**N / N! overflows a float here; the exact recursion does not.
    big = staffing.Load(calls=6000, interval=1800, aht=240, target=20)
    f = staffing.for_goal(big, 0.9)
    assert 800 < f.agents < 900
    assert 0 < f.p_wait < 1 and f.service_level >= 0.9
    assert staffing.for_agents(big, f.agents - 1).service_level < 0.9


loads = st.builds(staffing.Load, calls=st.integers(1, 2000), interval=st.sampled_from([900, 1800]),
                  aht=st.integers(30, 900), target=st.integers(0, 60))


@settings(max_examples=60, deadline=None)
@given(loads, st.integers(0, 40))
def test_more_agents_never_make_it_worse(load: staffing.Load, extra: int) -> None:
    n = math.floor(load.traffic) + 1 + extra
    fewer, more = staffing.for_agents(load, n), staffing.for_agents(load, n + 1)
    assert more.p_wait <= fewer.p_wait + 1e-12
    assert more.service_level >= fewer.service_level - 1e-12
    assert (more.asa_seconds or 0) <= (fewer.asa_seconds or 0) + 1e-9
    assert 0 <= fewer.p_wait <= 1 and 0 <= fewer.service_level <= 1


@settings(max_examples=40, deadline=None)
@given(loads, st.floats(0.5, 0.95))
def test_the_goal_gives_the_fewest_agents_that_reach_it(load: staffing.Load, goal: float) -> None:
    best = staffing.for_goal(load, goal)
    assert best.service_level >= goal
    assert best.agents > load.traffic
    if best.agents - 1 > load.traffic:
        assert staffing.for_agents(load, best.agents - 1).service_level < goal


def test_cli_json_has_exactly_the_documented_keys() -> None:
    result = CliRunner().invoke(main, ["staffing", "--calls", "360", "--interval", "1800",
                                       "--aht", "240", "--target", "20", "--agents", "55",
                                       "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"erlangs", "agents", "p_wait", "service_level", "asa_seconds",
                        "occupancy"}
    assert out["agents"] == 55 and math.isclose(out["service_level"], 0.8668, abs_tol=5e-4)


def test_cli_goal_and_its_errors() -> None:
    args = ["staffing", "--calls", "360", "--interval", "1800", "--aht", "240", "--target", "20"]
    result = CliRunner().invoke(main, [*args, "--goal", "80", "--json"])
    assert json.loads(result.output)["agents"] == 54
    both = CliRunner().invoke(main, [*args, "--goal", "80", "--agents", "5"])
    assert both.exit_code == 2 and "exactly one" in both.output
    neither = CliRunner().invoke(main, args)
    assert neither.exit_code == 2
    bad = CliRunner().invoke(main, [*args, "--goal", "100"])
    assert bad.exit_code == 2


def test_the_largest_question_answers_at_once() -> None:
    """The most call-takers at a huge load: the exact fractions this replaced took seconds
    for 3,000 (a web worker held by one request) and did not finish for 100,000."""
    huge = staffing.Load(calls=1e9, interval=1, aht=1e6, target=20)
    started = time.perf_counter()
    figures = staffing.for_agents(huge, staffing.MAX_AGENTS)
    busy = staffing.for_agents(staffing.Load(calls=9000, interval=3600, aht=1000, target=20),
                               3000)
    assert time.perf_counter() - started < 1.0
    assert figures.p_wait == 1.0 and figures.asa_seconds is None
    assert 0 < busy.p_wait < 1 and busy.agents == 3000
