"""A line's rollover settings (``lines.<name>.rollover``), when a call rolls, and where the
hand-off's location comes from when nobody typed one."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from ivr.calls import calllog
from ivr.platform.config import ConfigError
from ivr.platform.db import transaction
from ivr.service_requests.service import create_request
from ivr.transfers import locations
from ivr.transfers.centers import Rollover, transfer_config

CENTERS = {"county": {"number": "+14435550999"}}


def _with(settings, rollover):  # type: ignore[no-untyped-def]
    lines = {name: dict(spec) for name, spec in settings.raw["lines"].items()}
    lines["911"]["rollover"] = rollover
    return dataclasses.replace(settings, raw={**settings.raw, "lines": lines,
                                              "dispatch_centers": CENTERS})


def test_a_line_names_its_alternate_psap_and_when(settings) -> None:
    rules = transfer_config(_with(settings, {"center": "county", "no_staff_after": 10,
                                             "max_wait": "60", "attempts": 3})).rollover
    assert rules == {"911": Rollover(line="911", center="county", no_staff_after=10.0,
                                     max_wait=60.0, attempts=3)}
    assert rules["911"].earliest == 10.0
    assert transfer_config(settings).rollover == {}  # the defaults roll nothing


@pytest.mark.parametrize(("rollover", "says"), [
    ({"center": "nowhere", "max_wait": 60}, "lines.911.rollover.center"),
    ({"max_wait": 60}, "needs a center"),
    ({"center": "county"}, "needs no_staff_after, max_wait or all_busy_after"),
    ({"center": "county", "max_wait": "soon"}, "max_wait must be a number"),
    ({"center": "county", "max_wait": -1}, "between 0 and 86400"),
    ({"center": "county", "max_wait": 60, "attempts": 0}, "attempts"),
    ({"center": "county", "max_wiat": 60}, "unknown setting"),
])
def test_mistakes_name_the_setting(settings, rollover, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=says):
        transfer_config(_with(settings, rollover))


def test_the_reasons_to_roll() -> None:
    rule = Rollover(line="911", center="c", no_staff_after=10, max_wait=60, all_busy_after=30)
    assert rule.reason(9, on_duty=0, free=0) is None
    assert rule.reason(10, on_duty=0, free=0) == "no-staff"
    assert rule.reason(29, on_duty=2, free=0) is None
    assert rule.reason(30, on_duty=2, free=0) == "all-busy"
    assert rule.reason(59, on_duty=2, free=1) is None  # someone free: routing will offer it
    assert rule.reason(60, on_duty=2, free=1) == "max-wait"
    only_wait = Rollover(line="911", center="c", max_wait=60)
    assert only_wait.reason(3600, on_duty=0, free=0) == "max-wait"
    assert only_wait.reason(59, on_duty=0, free=0) is None


def test_the_location_of_a_call_typed_else_its_service_request(services) -> None:
    at = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    with services.engine.begin() as conn:
        calllog.open_call(conn, sid="CAloc1", line="311", caller="+14105550100",
                          dialed="+14435550311", at=at)
        calllog.open_call(conn, sid="CAloc2", line="311", caller="+14105550100",
                          dialed="+14435550311", at=at)
    with transaction(services.sessions) as session:
        create_request(session, service_code="pothole", at=at, address="400 E Fayette St",
                       zipcode="21202", lat=39.2904, long=-76.6122, call_sid="CAloc1",
                       attributes={"position": "travel-lane", "size": "large"})
    with services.engine.connect() as conn:
        assert locations.of_call(conn, "CAloc1", "  12 Oak Rd ") == locations.Location("12 Oak Rd")
        found = locations.of_call(conn, "CAloc1")
        assert found == locations.Location("400 E Fayette St, 21202", 39.2904, -76.6122)
        assert found.geodetic
        assert locations.of_call(conn, "CAloc2") is None
