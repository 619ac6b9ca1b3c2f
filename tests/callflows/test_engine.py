"""The step engine on small flows: each node kind, retries, inputs of every shape, guards."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from callflow_helpers import NY, OPEN, Caller, flow_text, last, load, said, text

from callflows import engine
from callflows.actions import Enqueue, Gather, Hangup, Input, Pause, Play, Record, Say, Transfer
from callflows.errors import EngineError
from callflows.parse import parse_flow
from callflows.state import CallState

SIMPLE_MENU = "main:\n  kind: menu\n  say: {en: Hi., es: Hola.}\n  options: {1: agent}\n"
MENU = load(flow_text("""
main:
  kind: menu
  say: {en: "Press 1 for sales, 2 for help.", es: "Oprima 1 para ventas, 2 para ayuda."}
  options: {1: sales, 2: help, "#": help}
  keywords:
    en: {street light: help, sales: sales, light: sales}
    es: {ventas: sales, ayuda: help}
  retries: 1
  invalid: {en: "That is not a choice.", es: "Esa no es una opción."}
  on_fail: failed
  on_no_input: silent
sales:
  kind: hangup
  say: {en: Sales., es: Ventas.}
help:
  kind: hangup
  say: {en: Help., es: Ayuda.}
failed:
  kind: hangup
  say: {en: Failed., es: Falló.}
silent:
  kind: hangup
  say: {en: Silent., es: Silencio.}
"""))


def test_start_waits_at_the_first_menu() -> None:
    call = Caller(MENU)
    gather = last(call.step)
    assert isinstance(gather, Gather)
    assert gather.input == "dtmf speech" and gather.num_digits == 1
    assert gather.hints == ("street light", "sales", "light") and gather.language == "en-US"
    assert gather.finish_on_key == ""  # '#' is an option here, so it cannot end the input
    assert call.node == "main" and call.step.state.path == ("main",)
    assert not call.step.done and call.step.state.vars["caller"] == "+14105550100"


def test_a_key_chooses() -> None:
    call = Caller(MENU)
    step = call.press("1")
    assert text(step) == "Sales." and isinstance(last(step), Hangup) and step.done
    assert step.events == (("menu", "main:1"),)
    assert step.state.path == ("main", "main:1", "sales") and step.state.node is None


def test_wrong_key_retries_with_sorry_then_recovers() -> None:
    call = Caller(MENU)
    step = call.press("7")
    assert step.events == (("invalid", "main:7"),)
    assert [s.text for s in said(step)] == ["That is not a choice.",
                                            "Press 1 for sales, 2 for help."]
    assert step.state.attempts == 1 and call.node == "main"
    step = call.press("2")
    assert text(step) == "Help." and step.state.attempts == 0


def test_retries_exhausted_go_to_on_fail() -> None:
    call = Caller(MENU)
    call.press("7")
    step = call.press("8")
    assert text(step) == "Failed."
    assert step.events == (("invalid", "main:8"), ("failed", "main"))


def test_no_input_twice_goes_to_on_no_input() -> None:
    call = Caller(MENU)
    step = call.silence()
    assert said(step)[0].text == "Sorry, I didn't hear anything."
    step = call.silence()
    assert text(step) == "Silent."
    assert ("no-input", "main") in step.events


def test_without_on_fail_the_fallback_takes_the_caller() -> None:
    flow = load(flow_text(SIMPLE_MENU))
    call = Caller(flow)
    step = call.silence(3)
    assert isinstance(last(step), Enqueue) and step.state.node == "agent"


@pytest.mark.parametrize("digits", ["abc", "99999999999999", "*#", "0", "١", " ", "1 2", "\x00"])
def test_garbage_digits_never_raise(digits: str) -> None:
    call = Caller(MENU)
    step = call.send(Input(digits=digits))
    assert call.node == "main" or step.done
    assert step.events[0][0] in ("invalid", "no-input")


def test_odd_inputs_never_raise() -> None:
    for odd in (Input(event="weird"), Input(event="record", recording_url="x"),
                Input(digits="1", confidence=float("nan")), Input(speech="", confidence=2.0),
                Input(event=""), None):
        call = Caller(MENU)
        step = call.send(odd)  # type: ignore[arg-type]
        assert step.state.node in ("main", None)


def test_speech_keywords_in_the_callers_language() -> None:
    assert text(Caller(MENU).say("I need SALES, please.")) == "Sales."
    # The first keyword in written order wins: "street light" before "light".
    assert text(Caller(MENU).say("my street lights are broken")) == "Help."
    spanish = Caller(MENU)
    spanish.step = engine.resume(MENU, spanish.step.state.evolve(language="es"),
                                 Input(speech="Necesito AYÚDA"), OPEN)
    assert text(spanish.step) == "Ayuda."


def test_low_confidence_speech_is_no_match() -> None:
    call = Caller(MENU)
    step = call.say("sales", confidence=0.2)
    assert step.events == (("invalid", 'main:"sales"'),) and call.node == "main"
    assert text(Caller(MENU).say("sales", confidence=None)) == "Sales."


def test_spoken_keys() -> None:
    assert text(Caller(MENU).say("two")) == "Help."
    assert text(Caller(MENU).say("Press 1.")) == "Sales."
    assert Caller(MENU).say("seven").events[0][0] == "invalid"


def test_menu_without_keywords_gathers_dtmf_only() -> None:
    flow = load(flow_text(SIMPLE_MENU))
    gather = last(Caller(flow).step)
    assert isinstance(gather, Gather) and gather.input == "dtmf" and gather.finish_on_key == "#"


COLLECT = load(flow_text("""
main:
  kind: collect
  say: {en: "Enter your number.", es: "Marque su número."}
  into: account
  min_length: 4
  max_length: 6
  pattern: "[1-9][0-9]*"
  next: readback
  on_fail: agent
readback:
  kind: hangup
  say: {en: "You entered {account|digits}. Caller {caller}. {missing}Bye.", es: "{account}"}
"""))


@pytest.mark.parametrize("digits", ["123", "1234567", "0123", "12a4", "12#34", "*"])
def test_collect_rejects_invalid_digits(digits: str) -> None:
    call = Caller(COLLECT)
    step = call.press(digits)
    assert step.events[0][0] == "invalid" and call.node == "main"
    assert "account" not in step.state.vars


def test_collect_stores_valid_digits_and_reads_them_back() -> None:
    call = Caller(COLLECT)
    gather = last(call.step)
    assert isinstance(gather, Gather) and gather.num_digits is None and gather.timeout == 7
    step = call.press("4521#")
    assert step.state.vars["account"] == "4521"
    assert step.events == (("collected", "account=4521"),)
    assert text(step) == "You entered 4 5 2 1. Caller +14105550100. Bye."


def test_collect_accepts_spoken_digits_and_fails_over() -> None:
    assert Caller(COLLECT).say("4 5 2 1").state.vars["account"] == "4521"
    call = Caller(COLLECT)
    call.press("1", "2")
    step = call.press("3")
    assert isinstance(last(step), Enqueue) and ("failed", "main") in step.events


def test_fixed_length_collect_sets_num_digits() -> None:
    flow = load(flow_text("main:\n  kind: collect\n  say: {en: a, es: b}\n  into: pin\n"
                          "  min_length: 4\n  max_length: 4\n  next: agent\n"))
    assert last(Caller(flow).step).num_digits == 4


BRANCH = load(flow_text("""
main:
  kind: branch
  cases:
    - if: {var: caller, starts_with: "+1410"}
      then: local
    - if: {var: vip, equals: "yes"}
      then: vip
    - if: {var: zone, in: [north, south]}
      then: zone
    - if: {all: [{language: es}, {not: {var: flag, exists: true}}]}
      then: spanish
    - if: {var: ref, matches: "^SR-[0-9]+$"}
      then: ref
    - if: {time: {after: "18:00", before: "07:00"}}
      then: night
    - if: {any: [{time: {days: sat-sun}}, {var: weekend, exists: true}]}
      then: weekend
  else: other
local: {kind: hangup, say: {en: local, es: local}}
vip: {kind: hangup, say: {en: vip, es: vip}}
zone: {kind: hangup, say: {en: zone, es: zone}}
spanish: {kind: hangup, say: {en: spanish, es: spanish}}
ref: {kind: hangup, say: {en: ref, es: ref}}
night: {kind: hangup, say: {en: night, es: night}}
weekend: {kind: hangup, say: {en: weekend, es: weekend}}
other: {kind: hangup, say: {en: other, es: other}}
"""))


@pytest.mark.parametrize(("vars", "now", "expected"), [
    ({"caller": "+14105550100"}, OPEN, "local"),
    ({"caller": "+12125550100", "vip": "yes"}, OPEN, "vip"),
    ({"caller": "+12125550100", "zone": "south"}, OPEN, "zone"),
    ({"caller": "+12125550100", "ref": "SR-42"}, OPEN, "ref"),
    ({"caller": "+12125550100", "ref": "SR-42x"}, OPEN, "other"),
    ({"caller": "+12125550100"}, datetime(2026, 3, 4, 23, 30, tzinfo=NY), "night"),
    ({"caller": "+12125550100"}, datetime(2026, 3, 5, 6, 59, tzinfo=NY), "night"),
    ({"caller": "+12125550100"}, datetime(2026, 3, 5, 7, 0, tzinfo=NY), "other"),
    ({"caller": "+12125550100"}, datetime(2026, 3, 7, 12, 0, tzinfo=NY), "weekend"),
    ({"caller": "+12125550100", "weekend": "1"}, OPEN, "weekend"),
    ({"caller": None}, OPEN, "other"),
])
def test_branch_conditions(vars: dict, now: datetime, expected: str) -> None:
    step = engine.start(BRANCH, vars, now)
    assert text(step) == expected


def test_branch_on_language() -> None:
    flow = load(flow_text("""
main:
  kind: language
  say: {en: One., es: Dos.}
  choices: {1: en, 2: es}
  next: route
route:
  kind: branch
  cases:
    - if: {language: es}
      then: es_end
  else: en_end
es_end: {kind: hangup, say: {en: no, es: "sí"}}
en_end: {kind: hangup, say: {en: "yes", es: "no"}}
"""))
    call = Caller(flow)
    assert text(call.press("2")) == "sí" and said(call.step)[0].language == "es-US"
    assert text(Caller(flow).press("1")) == "yes"


def test_times_are_read_in_the_flows_timezone() -> None:
    utc_evening = datetime.fromisoformat("2026-03-04T23:30:00+00:00")  # 18:30 in New York
    assert text(engine.start(BRANCH, {"caller": "+1212"}, utc_evening)) == "night"
    naive = datetime(2026, 3, 4, 15, 0)  # read as UTC: 10:00 in New York
    assert text(engine.start(BRANCH, {"caller": "+1212"}, naive)) == "other"


SETTER = load(flow_text("""
main:
  kind: set
  vars: {topic: pothole, note: "from {caller}", caller_copy: "{caller|digits}", gone: ""}
  next: announce
announce:
  kind: prompt
  when_var: storm
  next: custom
custom:
  kind: prompt
  when_var: closure
  say: {en: "Notice: {closure}", es: "Aviso: {closure}"}
  pause: 2
  next: agent
"""))


def test_set_and_interpolation() -> None:
    step = engine.start(SETTER, {"caller": "+1410", "gone": "x"}, OPEN)
    assert step.state.vars["topic"] == "pothole"
    assert step.state.vars["note"] == "from +1410"
    assert step.state.vars["caller_copy"] == "1 4 1 0"
    assert "gone" not in step.state.vars
    assert step.actions == (Enqueue(queue_class="general", overflow="agent"),)


def test_announcements_speak_only_when_set() -> None:
    step = engine.start(SETTER, {"storm": "Offices close at noon.", "closure": "Park closed."},
                        OPEN)
    assert step.actions[:3] == (Say("Offices close at noon.", "en-US"),
                                Say("Notice: Park closed.", "en-US"), Pause(2))
    assert engine.start(SETTER, {"storm": "", "closure": None}, OPEN).actions[:-1] == ()


def test_announcement_per_language_with_default_as_fallback() -> None:
    flow = load(flow_text("""
main:
  kind: language
  say: {en: One., es: Dos.}
  choices: {1: en, 2: es}
  next: announce
announce:
  kind: prompt
  when_var: storm
  next: agent
"""))
    both = Caller(flow, storm={"en": "Storm.", "es": "Tormenta."})
    assert both.press("2").actions[0] == Say("Tormenta.", "es-US")
    english_only = Caller(flow, storm={"en": "Storm."})
    assert english_only.press("2").actions[0] == Say("Storm.", "en-US")
    assert isinstance(english_only.step.actions[-1], Enqueue)
    assert english_only.step.actions[-1].skills == ("lang:es",)


def test_a_transferred_callers_language_is_kept_and_a_queue_may_take_every_language() -> None:
    flow = load(flow_text("""
main:
  kind: queue
  class: emergency
  skills: [line:911]
  language_skill: false
"""))
    spanish = engine.start(flow, {}, OPEN, language="es")
    assert spanish.state.language == "es"
    assert spanish.actions[-1] == Enqueue(queue_class="emergency", priority=5,
                                          skills=("line:911",), language="es-US",
                                          overflow="agent", voicemail=None)
    assert engine.start(flow, {}, OPEN, language="fr").state.language == "en"  # not spoken
    assert engine.start(flow, {}, OPEN).state.language == "en"


HANDOFF = load(flow_text("""
main:
  kind: menu
  say: {en: Choose., es: Elija.}
  options: {1: line, 2: outside, 3: sales, 4: plain, 5: message}
line:
  kind: transfer
  say: {en: Connecting., es: Conectando.}
  line: "911"
  reason: menu-emergency
  on_fail: sorry
outside:
  kind: transfer
  number: "+14105550199"
  timeout: 20
sales:
  kind: queue
  play: https://example.org/hold.mp3
  class: sales
  priority: 3
  skills: [topic:sales]
  overflow: message
  voicemail: message
plain:
  kind: queue
  class: general
message:
  kind: record
  say: {en: After the tone., es: Después del tono.}
  max_length: 60
  play_beep: false
  next: bye
sorry:
  kind: hangup
  say: {en: Sorry., es: Lo siento.}
bye:
  kind: hangup
"""))


def test_transfer_to_a_line_and_failure() -> None:
    call = Caller(HANDOFF)
    step = call.press("1")
    assert step.actions == (Say("Connecting.", "en-US"),
                            Transfer(line="911", reason="menu-emergency"))
    assert step.done and step.state.node == "line" and ("transfer", "911") in step.events
    step = call.send(Input(event="transfer-failed"))
    assert text(step) == "Sorry." and ("transfer-failed", "line") in step.events


def test_transfer_to_a_number_fails_over_to_the_fallback() -> None:
    call = Caller(HANDOFF)
    assert call.press("2").actions == (Transfer(number="+14105550199", timeout=20),)
    step = call.send(Input(event="transfer-failed"))
    assert isinstance(last(step), Enqueue) and step.state.node == "agent"


def test_queue_overflow_and_voicemail() -> None:
    call = Caller(HANDOFF)
    step = call.press("3")
    assert step.actions == (Play("https://example.org/hold.mp3"),
                            Enqueue("sales", 3, ("topic:sales",), "en-US", "message", "message"))
    step = call.send(Input(event="overflow"))
    assert step.actions == (Say("After the tone.", "en-US"),
                            Record(max_length=60, play_beep=False))
    step = call.send(Input(event="record", recording_url="https://r/1", recording_seconds=7))
    assert step.state.vars["recording_url"] == "https://r/1"
    assert step.state.vars["recording_seconds"] == "7"
    assert step.actions == (Hangup(),) and ("recorded", "https://r/1") in step.events
    voicemail = Caller(HANDOFF)
    voicemail.press("3")
    assert isinstance(last(voicemail.send(Input(event="voicemail"))), Record)


def test_queue_without_targets_uses_the_fallback_and_stays_in_line() -> None:
    call = Caller(HANDOFF)
    enqueue = last(call.press("4"))
    assert enqueue == Enqueue("general", overflow="agent", voicemail=None)
    assert call.send(Input(event="voicemail")).state.node == "agent"
    again = call.send(Input(digits="5"))  # not an event a queue expects: back in line
    assert isinstance(last(again), Enqueue) and again.state.node == "agent"


def test_record_without_a_recording_goes_on() -> None:
    call = Caller(HANDOFF)
    call.press("5")
    step = call.send(Input(event="record"))
    assert ("no-recording", "message") in step.events and isinstance(last(step), Hangup)


def test_resuming_after_hangup_only_hangs_up() -> None:
    call = Caller(HANDOFF)
    call.press("3")
    done = engine.resume(HANDOFF, engine.start(HANDOFF, {}, OPEN).state.evolve(node=None),
                         Input(digits="1"), OPEN)
    assert done.actions == (Hangup(),) and done.done


def test_state_round_trips_through_json() -> None:
    call = Caller(COLLECT)
    call.press("12")
    state = call.step.state
    copy = CallState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert copy == state
    assert engine.resume(COLLECT, copy, Input(digits="4521"), OPEN) == \
        engine.resume(COLLECT, state, Input(digits="4521"), OPEN)


def test_corrupt_state_raises_engine_error() -> None:
    state = engine.start(MENU, {}, OPEN).state
    with pytest.raises(EngineError):
        engine.resume(MENU, state.evolve(node="nope"), Input(digits="1"), OPEN)
    with pytest.raises(EngineError):
        engine.resume(MENU, state.evolve(flow="other"), Input(digits="1"), OPEN)
    with pytest.raises(EngineError):
        engine.resume(MENU, state.evolve(language="fr"), Input(digits="1"), OPEN)
    with pytest.raises(EngineError):
        engine.resume(SETTER, state.evolve(flow="test", node="announce"), Input(), OPEN)


def test_runtime_loop_guard() -> None:
    text = flow_text("main:\n  kind: goto\n  to: again\nagain:\n  kind: goto\n  to: main\n")
    flow, errs = parse_flow(text, "loop.yaml", run_checks=False)
    assert flow is not None and errs == []
    with pytest.raises(EngineError, match="without waiting"):
        engine.start(flow, {}, OPEN)


def test_version_and_vars_are_kept() -> None:
    flow = load(flow_text("main:\n  kind: goto\n  to: agent\n").replace(
        "nodes:", "vars: {topic: general, line: default}\nnodes:"))
    step = engine.start(flow, {"line": "311"}, OPEN, version=7)
    assert step.state.version == 7 and step.state.flow == "test"
    assert step.state.vars == {"topic": "general", "line": "311"}
