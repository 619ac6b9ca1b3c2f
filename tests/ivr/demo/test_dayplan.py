"""The shape of a simulated day: the profile derived from the Baltimore requests, and the
arrivals planned from it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ivr.demo import dayprofile
from ivr.demo.dayplan import TOPIC_KEYS, DayOptions, keys_for, plan

# `../shared/data/` beside the main checkout (a worktree sits one folder deeper).
ROOT = Path(__file__).resolve().parents[3]
CSV = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared")
            if (p / "data").is_dir()), ROOT) / "data" / "baltimore-311-sample.csv"


def row(kind: str, method: str, created: str) -> dict[str, str]:
    return {"SRType": kind, "MethodReceived": method, "CreatedDate": created}


def test_derive_counts_phone_requests_by_shifted_hour_and_topic() -> None:
    rows = [row("TRM-Pothole Repair", "Phone", "04/12/2018 05:11:26 AM"),
            row("WW-Water Leak (Exterior)", "Phone", "04/12/2018 05:40:00 AM"),
            row("SW-Dirty Alley", "Phone", "04/13/2018 11:00:00 PM"),
            row("TRM-Pothole Repair", "API", "04/12/2018 05:11:26 AM")]
    p = dayprofile.derive(rows, shift_hours=4)
    assert p["requests"] == 3
    assert p["hours"][9] == pytest.approx(2 / 3, abs=1e-4)  # 05:xx shifted to 09:xx
    assert p["hours"][3] == pytest.approx(1 / 3, abs=1e-4)  # 23:00 wraps to 03:00
    assert p["topics"]["pothole"] == p["topics"]["water_leak"] == p["topics"]["missed_trash"]


def test_the_shipped_profile_is_the_one_derived_from_the_data() -> None:
    if not CSV.exists():
        pytest.skip("the shared Baltimore sample is not beside this checkout")
    import csv

    with CSV.open(newline="", encoding="utf-8") as f:
        assert dayprofile.derive(csv.DictReader(f)) == dayprofile.load()


def test_a_planned_day_follows_the_hours_and_the_mix() -> None:
    profile = dayprofile.load()
    arrivals = plan(profile, DayOptions(calls=20000, start_hour=7, end_hour=19,
                                        emergency_share=0.2), random.Random(1))
    assert 19000 < len(arrivals) < 21000
    assert arrivals == sorted(arrivals, key=lambda a: a.at)
    assert all(0 <= a.at < 12 * 3600 for a in arrivals)
    per_hour = [sum(1 for a in arrivals if h * 3600 <= a.at < (h + 1) * 3600) for h in range(12)]
    assert per_hour[3] > 1.5 * per_hour[0]  # 10:00 is busier than 07:00, as in the data
    share_911 = sum(a.line == "911" for a in arrivals) / len(arrivals)
    assert share_911 == pytest.approx(0.2, abs=0.02)
    trash = sum(a.topic == "missed_trash" for a in arrivals if a.line == "311")
    assert trash / sum(a.line == "311" for a in arrivals) == pytest.approx(
        profile["topics"]["missed_trash"], abs=0.02)
    assert {a.topic for a in arrivals if a.line == "311"} <= set(TOPIC_KEYS)
    assert all(keys_for(a) == () for a in arrivals if a.line == "911")


def test_a_storm_adds_a_surge_in_its_window() -> None:
    options = DayOptions(calls=2000, storm=True, storm_start_hour=10, storm_minutes=60)
    calm = plan(dayprofile.load(), DayOptions(calls=2000), random.Random(2))
    storm = plan(dayprofile.load(), options, random.Random(2))
    in_window = [a for a in storm if 3 * 3600 <= a.at < 4 * 3600]
    assert len(storm) - len(calm) == pytest.approx(1000, rel=0.15)
    assert len(in_window) > 1000
    with pytest.raises(ValueError):
        plan(dayprofile.load(), DayOptions(storm=True, storm_start_hour=20), random.Random(0))
