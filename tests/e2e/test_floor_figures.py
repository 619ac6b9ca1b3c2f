"""The floor's figures and the audit on emulated calls through the real app: the call-takers'
state history reaches SQL, a clean run has no violation, and the wallboard, ``/metrics`` and
the reports agree with each other and with what the callers did.

Each test runs on a day of its own (the SQL records of a test session are shared): a random
Monday, 10:00 in New York, when the 311 line is open.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ivr.floor import audit, reports, wallboard
from ivr.floor.models import AgentState
from ivr.sim import answers, hangup, press, wait
from tests.e2e.conftest import LINE_911
from tests.e2e.floor import ACCEPT, REJECT, Floor

TO_A_CALL_TAKER = [press("1"), press("0")]
PATIENT = [*TO_A_CALL_TAKER, wait(900), hangup()]
BOTH = ("line:311", "line:911")


def a_monday() -> datetime:
    monday = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)
    return monday + timedelta(weeks=random.randrange(5000))


def busy_day(center_factory):  # type: ignore[no-untyped-def]
    """Two call-takers, 311 calls (one abandons, one is rejected first), 911 calls behind
    them; run until every call is over."""
    start = a_monday()
    center = center_factory(start=start)
    floor = Floor(center)
    floor.login("carol", skills=BOTH, phone=answers(after=3, hangup_after=60))
    floor.login("dave", skills=("line:311",), phone=answers(after=3, hangup_after=90),
                console=REJECT)
    floor.run(until=1)
    placed = {"general": [], "emergency": []}
    for i in range(4):
        placed["general"].append(center.call(PATIENT, caller=f"+1410555010{i}", at=2 + i))
    quitter = center.call([*TO_A_CALL_TAKER, wait(30), hangup()], caller="+14105550109", at=3)
    for i in range(3):
        placed["emergency"].append(center.call([wait(900), hangup()], line=LINE_911,
                                               caller=f"+1410555911{i}", at=50 + 20 * i))
    floor.run(until=60)
    floor.consoles["dave"] = ACCEPT  # dave rejected a few (maybe into a break); now he takes
    if floor.state("dave") == "on_break":
        center.services.agents.end_break("dave", floor.now())
    floor.run(until=1500)
    return center, start, placed, quitter


def test_a_clean_day_has_no_violation_and_the_figures_agree(center_factory) -> None:  # type: ignore[no-untyped-def]
    center, start, placed, quitter = busy_day(center_factory)
    svc = center.services
    day_start, day_end = reports.day_span(start.date(), svc.settings.timezone)
    found = audit.audit_services(svc, day_start, day_end)
    assert found == [], "\n".join(map(str, found))

    with svc.engine.connect() as conn:
        states = list(conn.execute(select(AgentState.agent, AgentState.event)
                                   .where(AgentState.at >= day_start, AgentState.at < day_end)))
        report = reports.day_report(conn, start.date(), wallboard.report_config(svc),
                                        svc.settings.center)
    events = {(a, e) for a, e in states}
    assert {("carol", "login"), ("carol", "offered"), ("carol", "accepted"),
            ("carol", "end_call"), ("dave", "rejected")} <= events

    general, emergency = report.classes["general"], report.classes["emergency"]
    assert (emergency.offered, emergency.answered, emergency.abandoned) == (3, 3, 0)
    assert (general.offered, general.answered, general.abandoned) == (5, 4, 1)
    assert report.agents["dave"].missed >= 1
    assert report.agents["carol"].answered + report.agents["dave"].answered == 7
    # handle time: talk (60 s or 90 s) plus 30 s of wrap-up
    assert 85 <= (report.agents["carol"].aht or 0) <= 100
    assert all(c.wait is not None for c in report.calls)

    board = wallboard.compute(svc, start + timedelta(seconds=1500))
    by_class = {c["queue_class"]: c for c in board["classes"]}
    for name, figures in report.classes.items():
        expected = figures.as_dict(wallboard.report_config(svc).targets_of(name))
        assert {k: by_class[name][k] for k in expected} == expected
    assert [c["queue_class"] for c in board["classes"]] == ["emergency", "general"]
    assert by_class["emergency"]["agents"]["available"] + \
        by_class["emergency"]["agents"]["wrap_up"] == 1  # carol only: dave lacks line:911
    assert "<svg" in by_class["general"]["chart_svg"]
    text = wallboard.prometheus(board)
    assert 'ivr_calls_answered_today{queue_class="emergency"} 3' in text
    assert 'ivr_calls_abandoned_today{queue_class="general"} 1' in text
    assert quitter.sid in {c.sid for c in report.calls if c.outcome == "abandoned"}
