"""The shape of a 311 day, from real requests: share of calls per hour and mix of topics.

`derive` reads Baltimore's 311 service requests (`../shared/data/baltimore-311-sample.csv`:
type, channel, time) and keeps only what a simulated day needs; the result ships as
`ivr/data/day_profile.yaml`, so an installed `ivr demo` needs no CSV. Rebuild it with

    python -m ivr.demo.dayprofile ../shared/data/baltimore-311-sample.csv \\
        > ivr/data/day_profile.yaml

Only requests received by phone count (the others never rang a call-taker). The sample's
timestamps are shifted: its busiest hours fall before dawn. `SHIFT_HOURS` moves them back so
that the day starts at 07:00 and peaks mid-morning, as a 311 center's phones do.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from importlib import resources
from typing import Any

import yaml

SHIFT_HOURS = 4
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"

# A request type's prefix or words -> the topic a caller picks in the shipped 311 menu.
TOPIC_RULES: tuple[tuple[str, str], ...] = (
    ("pothole", "pothole"),
    ("stlight", "streetlight"),
    ("street light", "streetlight"),
    ("noise", "noise"),
    ("ww-", "water_leak"),
    ("sw-", "missed_trash"),
    ("ecc-", "status"),
)
TOPICS = ("pothole", "streetlight", "noise", "water_leak", "missed_trash", "status", "other")


def topic_of(request_type: str) -> str:
    low = request_type.lower()
    for needle, topic in TOPIC_RULES:
        if needle in low:
            return topic
    return "other"


def derive(rows: Iterable[Mapping[str, str]], shift_hours: int = SHIFT_HOURS) -> dict[str, Any]:
    """Hour-of-day shares (local hours 0-23, summing to 1) and topic shares of phone requests."""
    hours: Counter[int] = Counter()
    topics: Counter[str] = Counter()
    for row in rows:
        if row.get("MethodReceived") != "Phone":
            continue
        created = datetime.strptime(row["CreatedDate"], TIME_FORMAT)
        hours[(created.hour + shift_hours) % 24] += 1
        topics[topic_of(row.get("SRType", ""))] += 1
    total = sum(hours.values())
    if not total:
        raise ValueError("no phone requests in the data")
    return {
        "source": "Baltimore 311 service requests received by phone (sample)",
        "requests": total,
        "shift_hours": shift_hours,
        "hours": [round(hours[h] / total, 5) for h in range(24)],
        "topics": {t: round(topics[t] / total, 5) for t in TOPICS},
    }


def load() -> dict[str, Any]:
    """The shipped profile."""
    text = resources.files("ivr").joinpath("data/day_profile.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def main(argv: list[str]) -> None:
    with open(argv[0], newline="", encoding="utf-8") as f:
        profile = derive(csv.DictReader(f))
    sys.stdout.write("# Derived by `python -m ivr.demo.dayprofile` (see ivr/demo/dayprofile.py).\n")
    sys.stdout.write(yaml.safe_dump(profile, sort_keys=False))


if __name__ == "__main__":
    main(sys.argv[1:])
