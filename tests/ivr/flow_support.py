"""Helpers of the flow-version tests: the shipped 311 text and small edits of it."""

from __future__ import annotations

from pathlib import Path

FLOWS = Path(__file__).resolve().parents[2] / "ivr" / "flows"
TEXT_311 = (FLOWS / "311.yaml").read_text("utf-8")
MAIN_EN = "To report a problem, like a pothole or a streetlight that is out, press 1."
REPORT_EN = "For a pothole, press 1."


def edited(old: str, new: str, text: str = TEXT_311) -> str:
    """`text` with `old` replaced once (the test fails at once if `old` is not there)."""
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    """1-based line of the line that is exactly `fragment`, else of the first holding it."""
    lines = text.splitlines()
    if fragment in lines:
        return lines.index(fragment) + 1
    for number, line in enumerate(lines, start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} is not in the text")
