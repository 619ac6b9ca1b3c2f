"""The flows the city runs on day one: every 311 menu path in English and Spanish, and 911."""

from __future__ import annotations

from datetime import datetime

import pytest
from callflow_helpers import FLOWS, NY, OPEN, Caller, last, said, text

from callflows.actions import Enqueue, Gather, Hangup, Input, Lookup, Record, Say, Submit, Transfer
from callflows.model import Flow
from callflows.parse import load_flow_file

EN, ES = "en-US", "es-US"


@pytest.fixture(scope="module")
def f311() -> Flow:
    return load_flow_file(FLOWS / "311.yaml")


@pytest.fixture(scope="module")
def f911() -> Flow:
    return load_flow_file(FLOWS / "911.yaml")


def to_main(flow: Flow, language: str, now: datetime = OPEN, **vars: object) -> Caller:
    call = Caller(flow, now, **vars)
    call.press("2" if language == "es" else "1")
    assert call.node == "main" and call.step.state.language == language
    return call


def assert_language(call: Caller, tag: str) -> None:
    assert all(s.language == tag for s in said(call.step))


def test_greeting_offers_languages_and_emergency(f311: Flow) -> None:
    call = Caller(f311)
    gather = last(call.step)
    assert isinstance(gather, Gather) and call.node == "welcome"
    english, spanish = gather.prompts
    assert english.language == EN and "press 9 now" in english.text and "dial 9 1 1" in english.text
    assert spanish.language == ES and "Para español, oprima el 2" in spanish.text
    assert "oprima el 9 ahora" in spanish.text


def test_staying_on_the_line_means_english(f311: Flow) -> None:
    call = Caller(f311)
    step = call.silence()
    assert call.node == "main" and step.state.language == "en"
    assert ("hours", "open") in step.events


@pytest.mark.parametrize("language", ["en", "es"])
def test_press_9_anywhere_in_top_menus_transfers_to_911(f311: Flow, language: str) -> None:
    first = Caller(f311).press("9")
    assert last(first) == Transfer(line="911", reason="menu-emergency")
    call = to_main(f311, language)
    step = call.press("9")
    assert last(step) == Transfer(line="911", reason="menu-emergency")
    assert said(step)[0].language == (ES if language == "es" else EN)
    report = to_main(f311, language)
    report.press("1")
    assert isinstance(last(report.press("9")), Transfer)


TOPICS = [("1", "pothole", "topic:streets"), ("2", "streetlight", "topic:streets"),
          ("3", "noise", "topic:noise"), ("4", "missed_trash", "topic:sanitation"),
          ("5", "water_leak", "topic:water"), ("0", "other", None)]
FILED_BY_PHONE = {"pothole", "streetlight", "missed_trash"}


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("key", "topic", "skill"), TOPICS)
def test_report_a_problem(f311: Flow, language: str, key: str, topic: str,
                          skill: str | None) -> None:
    call = to_main(f311, language)
    step = call.press("1")
    assert call.node == "report"
    assert_language(call, ES if language == "es" else EN)
    step = call.press(key)
    if topic in FILED_BY_PHONE:
        assert call.node == "file_offer"  # staying on the line is asking for a call-taker
        step = call.silence()
    enqueue = last(step)
    assert isinstance(enqueue, Enqueue) and step.done
    assert enqueue.queue_class == "general" and enqueue.priority == 5
    expected = ("line:311",) + ((skill,) if skill else ()) + (
        ("lang:es",) if language == "es" else ())
    assert enqueue.skills == expected
    assert enqueue.language == (ES if language == "es" else EN)
    assert enqueue.overflow == "all_busy" and enqueue.voicemail == "leave_message"
    assert step.state.vars["topic"] == topic
    path = step.state.path
    assert path[path.index("main:1"):path.index("main:1") + 3] == (
        "main:1", "report", f"report:{key}")
    assert_language(call, ES if language == "es" else EN)


@pytest.mark.parametrize("language", ["en", "es"])
def test_talk_to_a_call_taker(f311: Flow, language: str) -> None:
    call = to_main(f311, language)
    step = call.press("0")
    assert isinstance(last(step), Enqueue) and step.state.node == "agent_general"
    assert step.state.vars["topic"] == "general"


@pytest.mark.parametrize("language", ["en", "es"])
def test_check_a_request(f311: Flow, language: str) -> None:
    call = to_main(f311, language)
    call.press("2")
    assert call.node == "status"
    step = call.press("1234")  # too short
    assert call.node == "status" and ("invalid", "status:1234") in step.events
    assert "8 to 10 digits" in text(step) or "de 8 a 10 dígitos" in text(step)
    assert "dash" not in text(step) or "written with a dash" in text(step)
    step = call.press("1800269879")
    assert call.node == "status_confirm"
    assert ("one eight, double oh two six, nine eight seven nine" in text(step)
            or "uno ocho, cero cero dos seis, nueve ocho siete nueve" in text(step))
    assert_language(call, ES if language == "es" else EN)
    step = call.press("2")
    assert call.node == "status"
    call.press("18002698")
    step = call.press("1")
    assert last(step) == Lookup(name="request_status", args={"number": "18002698"})
    step = call.send(Input(event="result", result={
        "status": {"en": "open", "es": "abierta"},
        "expected": {"en": "Monday, November 23", "es": "lunes 23 de noviembre"}, "note": ""}))
    spoken = text(step)
    if language == "en":
        assert "Request one eight double oh, two six nine eight is open." in spoken
        assert "by Monday, November 23" in spoken and "latest note" not in spoken
    else:
        assert "La solicitud uno ocho cero cero, dos seis nueve ocho está abierta." in spoken
        assert "el lunes 23 de noviembre" in spoken and "nota" not in spoken
    assert call.node == "status_more"
    assert isinstance(last(call.silence()), Hangup)


@pytest.mark.parametrize("language", ["en", "es"])
def test_three_numbers_not_found_go_to_a_call_taker(f311: Flow, language: str) -> None:
    call = to_main(f311, language)
    call.press("2")
    for attempt in range(3):
        call.press(f"2600000{attempt}99", "1")
        assert isinstance(last(call.step), Lookup)
        step = call.send(Input(event="no-result"))
        if attempt < 2:
            assert call.node == "status"
            assert "could not find request" in text(step) or "no encontramos" in text(step)
    assert isinstance(last(step), Enqueue) and step.state.node == "agent_general"
    assert step.state.vars["topic"] == "status"
    assert step.state.vars["request_number"] == "2600000299"
    assert ("failed", "status_lookup") in step.events


def test_a_lookup_that_fails_goes_to_a_call_taker(f311: Flow) -> None:
    call = to_main(f311, "en")
    call.press("2", "2600000123", "1")
    step = call.send(Input(event="app-error"))
    assert "cannot look up requests right now" in text(step)
    assert isinstance(last(step), Enqueue) and step.state.vars["topic"] == "status"


@pytest.mark.parametrize("language", ["en", "es"])
def test_file_a_streetlight_report(f311: Flow, language: str) -> None:
    call = to_main(f311, language)
    call.press("1", "2", "1", "1", "2")
    assert call.node == "file_address" and isinstance(last(call.step), Record)
    step = call.send(Input(event="record", recording_url="https://rec/addr", recording_seconds=4))
    assert call.node == "callback_confirm"
    assert ("four one oh, five five five, oh one double oh" in text(step)
            or "cuatro uno cero, cinco cinco cinco, cero uno cero cero" in text(step))
    step = call.press("2", "4105550199")
    assert call.node == "callback_read_back"
    assert ("at four one oh, five five five, oh one double nine." in text(step)
            or "al cuatro uno cero, cinco cinco cinco, cero uno nueve nueve." in text(step))
    step = call.press("2", "4105550199", "1")
    assert last(step) == Submit(name="service_request", args={
        "service": "streetlight-out", "address_recording": "https://rec/addr",
        "callback": "4105550199", "attribute:position": "", "attribute:problem": "out",
        "attribute:how-many": "several", "attribute:missed": "", "attribute:set-out-on-time": ""})
    step = call.send(Input(event="result", result={"number": "26-00000042",
                                                   "digits": "2600000042"}))
    number = ("two six, double oh double oh, double oh four two" if language == "en"
              else "dos seis, cero cero cero cero, cero cero cuatro dos")
    assert text(step).count(number) == 1 and call.node == "file_number"
    assert step.state.vars["filed_number"] == "26-00000042"
    step = call.press("1")  # to hear it again
    assert text(step).count(number) == 1 and call.node == "file_number"
    step = call.silence()
    assert isinstance(last(step), Hangup) and number not in text(step)


@pytest.mark.parametrize(("keys", "answer"), [
    (("1", "1", "1", "7", "7", "7"), None),   # wrong keys in a question
    (("1", "4", "1", "3", "1"), Input(event="record")),  # nothing recorded
])
def test_unclear_reports_go_to_the_topic_call_takers(f311: Flow, keys: tuple[str, ...],
                                                     answer: Input | None) -> None:
    call = to_main(f311, "en")
    step = call.press(*keys)
    if answer is not None:
        step = call.send(answer)
    assert isinstance(last(step), Enqueue) and step.done
    assert step.state.node in ("queue_streets", "queue_sanitation")


def test_a_refused_report_goes_to_a_call_taker_with_its_answers(f311: Flow) -> None:
    call = to_main(f311, "es")
    call.press("1", "1", "1", "2")
    call.send(Input(event="record", recording_url="https://rec/a"))
    call.press("1")
    step = call.send(Input(event="app-error"))
    assert "No pudimos presentar su reporte" in text(step)
    assert isinstance(last(step), Enqueue) and step.state.node == "queue_streets"
    assert step.state.vars["answer_position"] == "parking-lane"
    assert step.state.vars["callback_number"] == "+14105550100"


def test_request_number_garbage_then_agent(f311: Flow) -> None:
    call = to_main(f311, "en")
    call.press("2")
    for garbage in ("abc", "*#", "99999999999999"):
        call.press(garbage)
    assert call.step.state.node == "agent_general"
    assert call.step.state.vars["topic"] == "status"


@pytest.mark.parametrize(("language", "words", "node"), [
    ("en", "I want to report a pothole", "heard_pothole"),
    ("en", "the street light on my block is out", "heard_streetlight"),
    ("en", "dog barking all night", "heard_noise"),
    ("en", "Operator!", "agent_general"),
    ("en", "representative", "agent_general"),
    ("en", "this is an emergency", "emergency"),
    ("es", "quiero reportar un bache", "heard_pothole"),
    ("es", "la farola no funciona", "heard_streetlight"),
    ("es", "no hay luz en la calle", "heard_streetlight"),
    ("es", "un perro ladrando toda la noche", "heard_noise"),
    ("es", "un agente por favor", "agent_general"),
    ("es", "es una emergencia", "emergency"),
    ("es", "hay una fuga de agua", "heard_water"),
])
def test_spoken_keywords(f311: Flow, language: str, words: str, node: str) -> None:
    call = to_main(f311, language)
    step = call.say(words)
    assert step.state.node == node


@pytest.mark.parametrize(("language", "words", "named", "yes", "then"), [
    ("en", "the streetlight is out", "A streetlight out, is that right?", "yes", "file_offer"),
    ("en", "dog barking all night", "A noise complaint, is that right?", "yes, that's right",
     "queue_noise"),
    ("es", "la farola no funciona", "Una farola apagada, ¿es correcto?", "sí", "file_offer"),
    ("es", "un perro ladrando toda la noche", "Una queja por ruido, ¿es correcto?", "Sí.",
     "queue_noise"),
])
def test_a_spoken_topic_is_named_back_before_it_counts(f311: Flow, language: str, words: str,
                                                       named: str, yes: str, then: str) -> None:
    call = to_main(f311, language)
    step = call.say(words)
    assert text(step).startswith(named)
    assert call.say(yes).state.node == then
    call = to_main(f311, language)
    call.say(words)
    assert call.say("no").state.node == "report"  # the topics again, by key


def test_a_key_needs_no_confirmation(f311: Flow) -> None:
    call = to_main(f311, "en")
    assert call.press("1", "3").state.node == "queue_noise"


def test_english_words_do_not_match_in_spanish(f311: Flow) -> None:
    call = to_main(f311, "es")
    step = call.say("pothole")
    assert step.events[0][0] == "invalid" and said(step)[0] == Say("Lo siento, no le entendí.", ES)


def test_wrong_keys_then_recovery_and_failure(f311: Flow) -> None:
    call = to_main(f311, "en")
    call.press("7")
    call.press("8")
    assert call.node == "main"
    assert call.press("1").state.node == "report"
    call = to_main(f311, "es")
    call.silence(3)
    assert call.node == "agent_general"  # the fallback


AFTER_HOURS = [
    datetime(2026, 3, 4, 21, 0, tzinfo=NY),   # Wednesday night
    datetime(2026, 3, 4, 6, 59, tzinfo=NY),   # Wednesday before opening
    datetime(2026, 3, 8, 12, 0, tzinfo=NY),   # Sunday
    datetime(2026, 3, 7, 14, 0, tzinfo=NY),   # Saturday, at closing
]


@pytest.mark.parametrize("now", AFTER_HOURS)
def test_after_hours(f311: Flow, now: datetime) -> None:
    call = Caller(f311, now)
    step = call.press("1")
    assert call.node == "after_hours" and ("hours", "closed") in step.events
    assert "Monday through Friday from 7 a.m. to 7 p.m." in text(step)
    assert "To check on a request you already made, press 2." in text(step)
    assert "To file a report about a pothole, a streetlight or a missed trash pickup by phone, "\
        "press 3." in text(step)
    step = call.press("1")
    assert isinstance(last(step), Record) and "After the tone" in text(step)
    step = call.send(Input(event="record", recording_url="https://rec/1", recording_seconds=30))
    assert "Your message has been saved" in text(step) and step.done


@pytest.mark.parametrize("language", ["en", "es"])
def test_after_hours_self_service(f311: Flow, language: str) -> None:
    night = AFTER_HOURS[0]
    call = Caller(f311, night)
    call.press("2" if language == "es" else "1")
    assert call.press("2").state.node == "status"
    call = Caller(f311, night)
    call.press("2" if language == "es" else "1")
    step = call.press("3", "1")  # a pothole, filed by phone
    assert call.node == "pothole_position"
    assert ("travel lane" in text(step)) == (language == "en")
    call = Caller(f311, night)
    call.press("2" if language == "es" else "1", "3")
    step = call.say("la basura" if language == "es" else "my trash was missed")
    assert call.node == "heard_self_trash" and text(step).startswith(("A missed trash", "Basura"))
    assert call.say("no").state.node == "self_report"
    call.say("la basura" if language == "es" else "my trash was missed")
    assert call.say("sí" if language == "es" else "yes").state.node == "trash_missed"


@pytest.mark.parametrize("now", [datetime(2026, 3, 7, 9, 0, tzinfo=NY),
                                 datetime(2026, 3, 6, 18, 59, tzinfo=NY)])
def test_open_hours(f311: Flow, now: datetime) -> None:
    assert Caller(f311, now).press("1").state.node == "main"


@pytest.mark.parametrize(("now", "name"), [
    (datetime(2026, 12, 25, 10, 0, tzinfo=NY), "Christmas Day"),
    (datetime(2026, 7, 3, 10, 0, tzinfo=NY), "Independence Day (observed)"),
    (datetime(2027, 11, 25, 12, 0, tzinfo=NY), "Thanksgiving Day"),
])
def test_holidays_are_closed(f311: Flow, now: datetime, name: str) -> None:
    step = Caller(f311, now).press("2")
    assert step.state.node == "after_hours" and ("holiday", name) in step.events
    assert all(s.language == ES for s in said(step))
    assert "estamos" in text(step) or "está cerrado" in text(step)


def test_after_hours_emergency_and_silence(f311: Flow) -> None:
    night = AFTER_HOURS[0]
    assert isinstance(last(Caller(f311, night).press("1", "9")), Transfer)
    call = Caller(f311, night)
    call.press("1")
    step = call.silence(2)
    assert isinstance(last(step), Record) and call.node == "leave_message"
    step = call.send(Input(event="record"))
    assert "We did not receive a message" in text(step)


@pytest.mark.parametrize(("language", "announcement", "heard"), [
    ("en", "City offices close at noon today.", "City offices close at noon today."),
    ("es", {"en": "Snow emergency.", "es": "Emergencia por nieve."}, "Emergencia por nieve."),
    ("en", "", None),
])
def test_storm_announcement(f311: Flow, language: str, announcement: object,
                            heard: str | None) -> None:
    call = to_main(f311, language, announcement=announcement)
    first = call.step.actions[0]
    if heard is None:
        assert isinstance(first, Gather)
    else:
        assert first == Say(heard, ES if language == "es" else EN)


def test_overflow_goes_to_voicemail(f311: Flow) -> None:
    call = to_main(f311, "es")
    call.press("0")
    step = call.send(Input(event="overflow"))
    assert isinstance(last(step), Record)
    assert text(step).startswith("Lo sentimos, todos nuestros agentes siguen ocupados.")
    step = call.send(Input(event="record", recording_url="https://rec/2"))
    assert text(step) == "Gracias. Su mensaje quedó grabado y un agente lo revisará. Adiós."


@pytest.mark.parametrize("queue_key", [("0",), ("1", "3"), ("1", "5")])
def test_self_service_from_the_queue(f311: Flow, queue_key: tuple[str, ...]) -> None:
    call = to_main(f311, "en")
    step = call.press(*queue_key)
    assert isinstance(last(step), Enqueue) and last(step).self_service == "self_service"
    step = call.send(Input(event="self-service"))
    assert call.node == "self_service" and "To check on a request" in text(step)
    assert call.press("2").state.node == "status"


def test_voicemail_from_the_queue(f311: Flow) -> None:
    call = to_main(f311, "en")
    call.press("1", "3")
    step = call.send(Input(event="voicemail"))
    assert call.node == "leave_message" and isinstance(last(step), Record)


def test_failed_911_transfer_keeps_the_caller_with_a_person(f311: Flow) -> None:
    call = to_main(f311, "en")
    call.press("9")
    step = call.send(Input(event="transfer-failed"))
    assert "We could not connect you to 9 1 1" in text(step)
    assert last(step) == Enqueue("general", 1, ("line:311",), EN, "agent_urgent", None)
    assert call.send(Input(event="overflow")).state.node == "agent_urgent"


def test_911_rings_straight_through(f911: Flow) -> None:
    call = Caller(f911, line="911")
    assert call.step.actions == (Enqueue("emergency", 1, ("line:911",), EN, "emergency", None),)
    assert call.step.done and call.node == "emergency"
    again = call.send(Input(event="overflow"))
    assert again.actions == call.step.actions and again.state.node == "emergency"
    assert call.send(Input(event="voicemail")).state.node == "emergency"
