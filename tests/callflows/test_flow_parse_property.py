"""Property: the parser reports problems in damaged flow files; it never crashes on them."""

from __future__ import annotations

from callflow_helpers import FLOWS
from hypothesis import given, settings
from hypothesis import strategies as st

from callflows.errors import FlowError
from callflows.parse import parse_flow

LINES = (FLOWS / "311.yaml").read_text(encoding="utf-8").splitlines()
TOKENS = ["", "-", "[", "{a: b}", "[1, 2]", "null", "yes", "3", "- x", "&a", "*a", "kind: goto",
          "'", "\t", "next:", "09:00-", "2026-13-01", "{{x}", "<<: {}", "é", "*", "#"]


@st.composite
def damaged(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["drop", "copy", "value", "insert", "indent"]))
        token = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)))
        if how == "drop":
            del lines[at]
        elif how == "copy":
            lines.insert(at, lines[at])
        elif how == "value" and ":" in lines[at]:
            lines[at] = lines[at].split(":", 1)[0] + ": " + token
        elif how == "insert":
            lines.insert(at, " " * draw(st.integers(0, 8)) + token)
        else:
            lines[at] = "  " + lines[at]
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(damaged())
def test_damaged_files_give_errors_not_crashes(text: str) -> None:
    flow, errors = parse_flow(text, "311.yaml")
    assert (flow is None) == bool(errors)
    for error in errors:
        assert isinstance(error, FlowError) and error.line >= 1 and error.message
