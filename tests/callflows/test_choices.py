"""What a caller chose, in words, from the shipped flows' own prompts."""

from __future__ import annotations

from pathlib import Path

import pytest

from callflows.choices import described
from callflows.parse import load_flow_file

FLOWS = Path(__file__).resolve().parents[2] / "ivr" / "flows"


@pytest.fixture(scope="module")
def flow_311():  # type: ignore[no-untyped-def]
    return load_flow_file(FLOWS / "311.yaml")


def test_keys_read_as_what_the_menu_offered_for_them(flow_311) -> None:  # type: ignore[no-untyped-def]
    path = ["welcome", "welcome:1", "announcement", "hours", "main", "main:1", "report",
            "report:2", "topic_streetlight"]
    assert described(flow_311, path) == [
        "English (1)", "Report a problem (1)", "A streetlight that is out (2)"]


def test_spanish_callers_choices_read_in_the_consoles_language(flow_311) -> None:  # type: ignore[no-untyped-def]
    assert described(flow_311, ["welcome:2", "main:0"]) == [
        "Spanish (2)", "Speak with a call-taker (0)"]


def test_spoken_words_and_unknown_keys(flow_311) -> None:  # type: ignore[no-untyped-def]
    assert described(flow_311, ["main:pothole"]) == ['Said "pothole"']
    assert described(flow_311, ["gone_node:3"]) == ["Pressed 3"]
    assert all("_" not in words and ":" not in words
               for words in described(flow_311, [f"report:{k}" for k in "123450"]))
