"""The figures' definitions on records made for them: offered, answered, abandoned, waits,
service level against each target, handle time with wrap-up, per call-taker and per interval
in the center's local time."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.floor import reports
from tests.ivr.floor.test_audit import BOTH, Day, answered

CONFIG = reports.ReportConfig.from_raw({"reports": {"interval_minutes": 15, "service_levels": {
    "emergency": [{"within": 15, "goal": 90}, {"within": 20, "goal": 95}],
    "general": [{"within": 30, "goal": 80}]}}}, "America/New_York")


@pytest.fixture
def day(services, center_name) -> Day:  # type: ignore[no-untyped-def]
    return Day(services.engine, center_name)


def set_wait(day: Day, name: str, wait: float) -> None:
    from ivr.calls.models import Call

    with day.engine.begin() as conn:
        conn.execute(Call.__table__.update().where(Call.sid == day.sid(name))
                     .values(wait_seconds=wait))


def test_the_definitions(day: Day) -> None:
    day.state("ann", 0, "login", "available", skills=BOTH)
    answered(day, "e1", "ann", 10, "emergency", ["line:911"])     # wait 12 s
    answered(day, "e2", "ann", 1000, "emergency", ["line:911"])   # wait 18 s
    answered(day, "g1", "ann", 2000)                              # wait 25 s, 14:48 local
    day.call("g2", "general", 2100, "abandoned", 2160)             # gave up after 60 s
    day.call("g3", "general", 2200, "callback", 2300)              # left by choice
    day.state("bob", 0, "login", "available", skills=["line:311"])
    day.state("bob", 2101, "offered", "reserved", "g2", skills=["line:311"])
    day.event("g2", 2101, "offered", "bob")
    day.event("g2", 2116, "expired", "bob")
    for name, at in (("e1", 11), ("e2", 1001), ("g1", 2001)):  # as offers.record_offers does
        day.event(name, at, "offered", "ann")
    for name, wait in (("e1", 12), ("e2", 18), ("g1", 25), ("g2", 60), ("g3", 100)):
        set_wait(day, name, wait)
    for name, talk in (("e1", 80), ("e2", 100), ("g1", 90)):
        from ivr.calls import calllog

        with day.engine.begin() as conn:
            calllog.add_event(conn, day.sid(name), day.t(200), "ended", "ann",
                              {"agent": "ann", "talk": talk})
    with day.engine.connect() as conn:
        report = reports.day_report(conn, day.start.date(), CONFIG, day.center)
    e, g = report.classes["emergency"], report.classes["general"]
    assert (e.offered, e.answered, e.abandoned) == (2, 2, 0)
    assert e.service_level(15) == 0.5 and e.service_level(20) == 1.0
    assert e.asa == 15.0 and e.longest_wait == 18
    # wrap-up from the state history: end_call at +100, ready at +130
    assert e.aht == pytest.approx((80 + 30 + 100 + 30) / 2)
    assert (g.offered, g.answered, g.abandoned, g.callbacks) == (3, 1, 1, 1)
    assert g.service_level(30) == 0.5  # 1 answered in time / (1 answered + 1 abandoned)
    assert g.abandon_rate == pytest.approx(1 / 3)
    assert g.longest_wait == 100
    ann, bob = report.agents["ann"], report.agents["bob"]
    assert (ann.offered, ann.answered) == (3, 3)
    assert (bob.offered, bob.missed, bob.answered) == (1, 1, 0)
    starts = sorted({start for start, _name in report.intervals})
    # the day starts at 15:00 UTC (10:00 or 11:00 in New York); calls 10 s, 1000 s, 2000 s in
    local = day.start.astimezone(ZoneInfo("America/New_York"))
    assert starts == [local + timedelta(minutes=m) for m in (0, 15, 30)]
    assert report.intervals[(starts[2], "general")].offered == 3
    table = report.as_dict()
    assert table["classes"]["emergency"]["service_levels"] == [
        {"within": 15, "goal": 90, "label": "90% in 15 s", "value": 0.5},
        {"within": 20, "goal": 95, "label": "95% in 20 s", "value": 1.0}]


def test_the_interval_must_divide_an_hour() -> None:
    with pytest.raises(ValueError, match="divide an hour"):
        reports.ReportConfig.from_raw({"reports": {"interval_minutes": 7}}, "UTC")
