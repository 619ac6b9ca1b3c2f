"""The small parts: speech matching, {var} fields, hours and time windows."""

from __future__ import annotations

from datetime import datetime

import pytest
from callflow_helpers import NY

from callflows import schedule, speech, template


def test_normalize_drops_case_accents_and_punctuation() -> None:
    assert speech.normalize("¡Emergéncia, POR favor!") == "emergencia por favor"


@pytest.mark.parametrize(("heard", "expected"), [
    ("Potholes everywhere.", "pothole"),
    ("the street lights", "street light"),
    ("light", "light"),
    ("spotholes", None),
    ("", None),
])
def test_keyword_matching(heard: str, expected: str | None) -> None:
    words = {"pothole": "a", "street light": "b", "light": "c"}
    match = speech.match_keyword(heard, words)
    assert (match[0] if match else None) == expected


@pytest.mark.parametrize(("heard", "key"), [
    ("1", "1"), ("One.", "1"), ("press 9", "9"), ("el nueve", "9"), ("star", "*"),
    ("oprima el dos", "2"), ("one two", None), ("hello", None),
])
def test_spoken_keys(heard: str, key: str | None) -> None:
    assert speech.spoken_key(heard) == key


def test_template_rendering() -> None:
    values = {"n": "18-00269879", "msg": {"en": "Hi", "es": "Hola"}, "flag": True}
    assert template.render("{n|digits}", values, "en", "en") == "1 8 0 0 2 6 9 8 7 9"
    assert template.render("{msg} {{literal}} {missing}.", values, "es", "en") == \
        "Hola {literal} ."
    assert template.render("{msg}", values, "fr", "en") == "Hi"
    assert template.render("{flag}", values, "en", "en") == "true"
    assert template.problems("ok {a} {b|digits} {{x}}") == []
    assert len(template.problems("{a|nope} { } }")) == 3


def test_schedule_parsing_and_windows() -> None:
    assert schedule.parse_days("fri-mon") == [4, 5, 6, 0]
    assert schedule.parse_days("mon,wed") == [0, 2]
    assert schedule.parse_ranges("13:00-17:00, 08:00-12:00") == ((480, 720), (780, 1020))
    assert schedule.parse_ranges("00:00-24:00") == ((0, 1440),)
    monday_noon = datetime(2026, 3, 2, 12, 0, tzinfo=NY)
    assert schedule.is_open({0: ((480, 720), (780, 1020))}, monday_noon) is False
    assert schedule.in_window(monday_noon, 600, 60, None)  # wraps midnight
    assert not schedule.in_window(monday_noon, None, 720, None)
    assert not schedule.in_window(monday_noon, None, None, frozenset({5, 6}))
    with pytest.raises(ValueError, match="24:00"):
        schedule.parse_clock("24:00")
