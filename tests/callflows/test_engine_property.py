"""Property: whatever callers do to the shipped 311 flow, the engine answers sensibly."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from callflow_helpers import FLOWS, NY, assert_well_formed, said
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callflows import engine
from callflows.actions import Hangup, Input
from callflows.parse import load_flow_file
from callflows.state import CallState

FLOW = load_flow_file(FLOWS / "311.yaml")
TAGS = set(FLOW.languages.values())
WORDS = ["pothole", "bache", "agent", "agente", "emergency", "emergencia", "yes", "sí", "no",
         "two", "uno", "street light", "luz", "¿qué?", "", "1 8 0 0 2 6 9 8", "um"]
EVENTS = ["gather", "gather", "gather", "gather", "record", "overflow", "voicemail",
          "transfer-failed", "hangup", "", "result", "no-result", "app-error"]
# What an application may answer to a lookup or submit, sane or not.
results = st.one_of(
    st.none(), st.text(max_size=5),
    st.dictionaries(st.sampled_from(["status", "number", "digits", "note", "bad key", "", "9x"]),
                    st.one_of(st.none(), st.text(max_size=20), st.integers(), st.floats(),
                              st.dictionaries(st.sampled_from(["en", "es", "fr"]),
                                              st.one_of(st.text(max_size=10), st.none())),
                              st.lists(st.integers(), max_size=2)),
                    max_size=4))

inputs = st.builds(
    Input,
    event=st.sampled_from(EVENTS),
    digits=st.one_of(st.none(), st.text("0123456789*#a ", max_size=14),
                     st.sampled_from(["1", "2", "9", "0", "18002698"])),
    speech=st.one_of(st.none(), st.sampled_from(WORDS),
                     st.text(max_size=30)),
    confidence=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    recording_url=st.one_of(st.none(), st.just("https://rec/1")),
    recording_seconds=st.one_of(st.none(), st.integers(-5, 10_000)),
    result=results,
)
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(NY))
announcements = st.one_of(st.none(), st.just(""), st.just("Offices closed."),
                          st.just({"en": "Snow.", "es": "Nieve."}))


def check_languages(state: CallState, step_says: list) -> None:
    """Prompts speak the call's language; only the language menu speaks every language."""
    if state.node == "welcome":
        assert {s.language for s in step_says} <= TAGS
    else:
        assert all(s.language == FLOW.tag(state.language) for s in step_says), step_says


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(now=moments, announcement=announcements, script=st.lists(inputs, max_size=20),
       minutes=st.integers(0, 5))
def test_random_callers_never_break_the_engine(now: datetime, announcement: object,
                                               script: list[Input], minutes: int) -> None:
    step = engine.start(FLOW, {"caller": "+14105550100", "line": "311",
                               "announcement": announcement}, now)
    assert_well_formed(step)
    check_languages(step.state, said(step))
    for given_input in script:
        state = CallState.from_dict(json.loads(json.dumps(step.state.to_dict())))
        assert state == step.state
        now += timedelta(minutes=minutes)
        step = engine.resume(FLOW, state, given_input, now)
        assert_well_formed(step)
        assert all(s.text.strip() for s in said(step))
        assert (step.state.node is None) == isinstance(step.actions[-1], Hangup)
        check_languages(step.state, said(step))
        assert step.state.language in FLOW.languages
