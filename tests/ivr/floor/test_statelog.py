"""The call-takers' state history: every presence change agents/ makes reaches SQL, in order,
once, whoever drains the log and however often."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ivr.floor import statelog
from ivr.floor.models import AgentState

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC).timestamp()


def history(svc) -> list[tuple]:  # type: ignore[no-untyped-def]
    with svc.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(AgentState.agent, AgentState.event, AgentState.state, AgentState.reason,
                   AgentState.skills, AgentState.at)
            .where(AgentState.center == svc.settings.center).order_by(AgentState.seq))]


def test_each_change_is_recorded_once_in_order_with_the_skills(services) -> None:  # type: ignore[no-untyped-def]
    svc = services
    svc.agents.login("ann", ["line:311", "line:911"], T0)
    svc.agents.go_on_break("ann", "Meal", T0 + 60)
    svc.agents.end_break("ann", T0 + 120)
    assert statelog.drain(svc.agents, svc.engine) == 3
    svc.agents.logout("ann", T0 + 180)
    # a second process draining at the same time: nothing twice
    assert statelog.drain(svc.agents, svc.engine) + statelog.drain(svc.agents, svc.engine) == 1
    rows = history(svc)
    assert [(a, e, s, r) for a, e, s, r, _k, _t in rows] == [
        ("ann", "login", "available", None), ("ann", "break", "on_break", "Meal"),
        ("ann", "end_break", "available", None), ("ann", "logout", "offline", None)]
    assert rows[0][4] == ["line:311", "line:911"]
    assert rows[1][5] == datetime.fromtimestamp(T0 + 60, UTC)
    assert svc.redis.xlen(svc.agents.keys.log) == 0


def test_an_entry_copied_twice_is_stored_once(services) -> None:  # type: ignore[no-untyped-def]
    svc = services
    svc.agents.login("bob", ["line:311"], T0)
    entries = svc.redis.xrange(svc.agents.keys.log)
    assert statelog.drain(svc.agents, svc.engine) == 1
    for _id, fields in entries:  # as if a drain died after its insert, before its delete
        svc.redis.xadd(svc.agents.keys.log, fields)
    statelog.drain(svc.agents, svc.engine)
    assert [(a, e) for a, e, *_ in history(svc)] == [("bob", "login")]


def test_a_batch_boundary_loses_nothing(services) -> None:  # type: ignore[no-untyped-def]
    svc = services
    for i in range(7):
        svc.agents.login(f"c{i}", ["line:311"], T0 + i)
    assert statelog.drain(svc.agents, svc.engine, batch=3) == 7
    assert [a for a, *_ in history(svc)] == [f"c{i}" for i in range(7)]


def test_times_keep_their_microseconds(services) -> None:  # type: ignore[no-untyped-def]
    # The event's JSON number keeps 14 digits (100 us at today's epoch); the log keeps all.
    svc = services
    svc.agents.login("dee", ["line:311"], T0 + 0.123457)
    statelog.drain(svc.agents, svc.engine)
    [row] = history(svc)
    assert row[5] == datetime.fromtimestamp(T0 + 0.123457, UTC)
    assert row[5].microsecond == 123457
