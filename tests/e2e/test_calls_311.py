"""Residents dial 311 and 911: every shipped menu path, through the real app and the emulator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr.sim import hangup, press, record, say, silence, wait
from tests.e2e.conftest import LINE_911
from tests.e2e.helpers import all_final, enqueued, events
from tests.e2e.helpers import record as sql_record

# After the menus, callers hang up after a while in line so every call ends.
THEN_HANG_UP = [wait(60), hangup()]

REPORT_PATHS = [
    ("1", "pothole", {"line:311", "topic:streets"}),
    ("2", "streetlight", {"line:311", "topic:streets"}),
    ("3", "noise", {"line:311", "topic:noise"}),
    ("4", "missed_trash", {"line:311", "topic:sanitation"}),
    ("5", "water_leak", {"line:311", "topic:water"}),
    ("0", "other", {"line:311"}),
]


@pytest.mark.parametrize("key,topic,skills", REPORT_PATHS)
def test_report_a_problem_reaches_the_right_call_takers(center, key, topic, skills) -> None:
    call = center.call([press("1"), press("1"), press(key), *THEN_HANG_UP])
    center.run()
    assert not call.application_error
    assert enqueued(center, call.sid) == ("general", skills)
    (_kind, _detail, data), = events(center, call.sid, "enqueue")
    assert data["vars"]["topic"] == topic
    assert "welcome:1" in data["path"] and "main:1" in data["path"]
    assert "Please stay on the line" in call.heard_text()
    rec = sql_record(center, call.sid)
    assert rec.outcome == "abandoned" and rec.wait_seconds is not None


@pytest.mark.parametrize("key,topic,skills", REPORT_PATHS)
def test_spanish_caller_hears_spanish_and_needs_a_spanish_speaker(center, key, topic,
                                                                  skills) -> None:
    call = center.call([press("2"), press("1"), press(key), *THEN_HANG_UP])
    center.run()
    heard = call.heard()
    assert any("Para reportar un problema" in h for h in heard)
    assert not any("To report a problem" in h for h in heard[2:])
    assert enqueued(center, call.sid) == ("general", skills | {"lang:es"})
    assert "permanezca en la línea" in call.heard_text()
    assert sql_record(center, call.sid).language == "es"


def test_talk_to_a_call_taker(center) -> None:
    call = center.call([press("1"), press("0"), *THEN_HANG_UP])
    center.run()
    assert enqueued(center, call.sid) == ("general", {"line:311"})


def test_check_a_request_collects_the_number_and_looks_it_up(center):
    call = center.call([press("1"), press("2"), press("1800269879#"), press("1"),
                        *THEN_HANG_UP])
    center.run()
    text = call.heard_text()
    assert "You entered one eight, double oh two six, nine eight seven nine." in text
    assert "we could not find request one eight, double oh two six, nine eight seven nine." in text
    assert any("request_number=1800269879" in d for _k, d, _x in events(center, call.sid))


def test_press_9_goes_to_the_911_line_at_once(center) -> None:
    call = center.call([press("1"), press("9"), *THEN_HANG_UP])
    center.run()
    assert "Connecting you to 9 1 1" in call.heard_text()
    assert enqueued(center, call.sid) == ("emergency", {"line:911"})
    (_k, _d, data), = [t for t in events(center, call.sid, "transfer") if t[1] == "line 911"]
    assert data == {"from": "311", "reason": "menu-emergency"}


def test_press_9_during_the_greeting(center) -> None:
    call = center.call([press("9"), *THEN_HANG_UP])
    center.run()
    assert enqueued(center, call.sid) == ("emergency", {"line:911"})


def test_saying_emergency_in_spanish(center) -> None:
    call = center.call([press("2"), say("es una emergencia", confidence=0.8), *THEN_HANG_UP])
    center.run()
    assert "Le estamos comunicando con el 9 1 1" in call.heard_text()
    assert enqueued(center, call.sid)[0] == "emergency"


def test_speech_pothole(center) -> None:
    call = center.call([press("1"), say("there is a pothole on my street"), say("yes"),
                        *THEN_HANG_UP])
    center.run()
    assert "A pothole, is that right?" in call.heard_text()
    assert enqueued(center, call.sid) == ("general", {"line:311", "topic:streets"})


def test_wrong_keys_then_recovery(center) -> None:
    call = center.call([press("1"), press("7"), press("1"), press("2"), *THEN_HANG_UP])
    center.run()
    assert "Sorry" in call.heard_text() or "sorry" in call.heard_text()
    assert enqueued(center, call.sid) == ("general", {"line:311", "topic:streets"})
    assert any(k == "invalid" for k, _d, _x in events(center, call.sid))


def test_no_input_twice_reaches_a_person(center) -> None:
    call = center.call([press("1"), silence(), silence(), silence(), *THEN_HANG_UP])
    center.run()
    assert enqueued(center, call.sid)[0] == "general"
    assert any(k == "no-input" for k, _d, _x in events(center, call.sid))


def test_911_line_goes_straight_to_the_emergency_queue(center) -> None:
    call = center.call([*THEN_HANG_UP], line=LINE_911)
    center.run()
    assert enqueued(center, call.sid) == ("emergency", {"line:911"})
    assert "9 1 1" in call.heard_text()  # the hold message: stay on the line
    assert "press 1" not in call.heard_text()  # no callback or voicemail offers on 911


def test_after_hours_message_and_voicemail(center_factory) -> None:
    # Sunday 22 November 2026, 11:00 in New York: closed.
    center = center_factory(datetime(2026, 11, 22, 16, 0, tzinfo=UTC))
    call = center.call([press("1"), press("1"), record(20)])
    center.run()
    assert "closed right now" in call.heard_text()
    assert "Your message has been saved" in call.heard_text()
    rec = sql_record(center, call.sid)
    assert rec.outcome == "voicemail"
    assert events(center, call.sid, "recording")


def test_after_hours_in_spanish_on_a_holiday(center_factory) -> None:
    # Thanksgiving, Thursday 26 November 2026, noon in New York.
    center = center_factory(datetime(2026, 11, 26, 17, 0, tzinfo=UTC))
    call = center.call([press("2"), silence(), silence(), hangup()])
    center.run()
    assert "nuestro centro de llamadas está cerrado" in call.heard_text()


def test_every_call_ends_in_a_recorded_final_state(center) -> None:
    scripts = [
        [press("1"), press("1"), press("1"), wait(30), hangup()],
        [press("2"), hangup()],
        [hangup()],
        [press("1"), press("9"), wait(5), hangup()],
        [press("1"), press("0"), press("2"), record(10)],
    ]
    calls = [center.call(s, caller=f"+1410555{i:04d}") for i, s in enumerate(scripts)]
    center.run()
    assert all(not c.application_error for c in calls)
    rows = {r.sid: r for r in all_final(center)}
    for c in calls:
        assert rows[c.sid].outcome != "live", (c.sid, rows[c.sid].outcome)
        assert rows[c.sid].ended_at is not None
