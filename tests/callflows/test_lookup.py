"""The `lookup` and `submit` nodes: a flow asks the application for data and branches on it."""

from __future__ import annotations

import json

from callflow_helpers import OPEN, Caller, errors, flow_text, found, line_of, load, text
from hypothesis import given, settings
from hypothesis import strategies as st

from callflows import engine
from callflows.actions import Enqueue, Gather, Hangup, Input, Lookup, Submit
from callflows.check import check
from callflows.model import KINDS, LookupNode, Ref, SubmitNode
from callflows.state import CallState

STATUS = """\
main:
  kind: collect
  say: {en: "Your number?", es: "¿Su número?"}
  into: number
  next: look
  on_fail: agent
look:
  kind: lookup
  name: request_status
  args: {number: "{number}", lang: "x{number}y"}
  into: req
  next: found
  not_found: again
  retries: 2
  on_fail: agent
  error: sorry
found:
  kind: hangup
  say: {en: "It is {req_status}.", es: "Está {req_status}."}
again:
  kind: prompt
  say: {en: "Not found.", es: "No encontrada."}
  next: main
sorry:
  kind: prompt
  say: {en: "Sorry.", es: "Perdón."}
  next: agent
"""

FILE = """\
main:
  kind: submit
  name: service_request
  args: {service: pothole, callback: "{caller}"}
  into: filed
  next: done
  error: agent
done:
  kind: hangup
  say: {en: "Number {filed_number|digits}.", es: "Número {filed_number|digits}."}
"""


def test_a_lookup_asks_the_app_with_vars_filled_in() -> None:
    call = Caller(load(flow_text(STATUS)))
    step = call.press("123")
    assert step.actions == (Lookup(name="request_status",
                                   args={"number": "123", "lang": "x123y"}),)
    assert call.node == "look" and not step.done
    assert ("lookup", "request_status") in step.events


def test_a_result_lands_in_prefixed_vars_and_speaks_the_callers_language() -> None:
    call = Caller(load(flow_text(STATUS)))
    call.step = call.step.__class__(call.step.actions, call.step.state.evolve(language="es"))
    call.press("123")
    step = call.send(Input(event="result", result={"status": {"en": "open", "es": "abierta"}}))
    assert step.state.vars["req_status"] == {"en": "open", "es": "abierta"}
    assert text(step) == "Está abierta."
    assert isinstance(step.actions[-1], Hangup)


def test_not_found_retries_then_goes_to_on_fail_with_what_was_collected() -> None:
    call = Caller(load(flow_text(STATUS)))
    for attempt in (1, 2):
        call.press(f"{attempt}{attempt}")
        step = call.send(Input(event="no-result"))
        assert call.node == "main" and "Not found." in text(step)
        assert ("not-found", f"look:{attempt}") in step.events
    call.press("33")
    step = call.send(Input(event="no-result"))
    assert isinstance(step.actions[-1], Enqueue) and step.state.node == "agent"
    assert step.state.vars["number"] == "33" and ("failed", "look") in step.events


def test_a_found_answer_resets_the_count_of_misses() -> None:
    looping = STATUS.replace('  kind: hangup\n  say: {en: "It is',
                             '  kind: prompt\n  next: main\n  say: {en: "It is')
    call = Caller(load(flow_text(looping)))
    for number in ("1", "2"):
        call.press(number)
        call.send(Input(event="no-result"))
    call.press("3")
    call.send(Input(event="result", result={"status": "open"}))
    call.press("4")
    step = call.send(Input(event="no-result"))
    assert call.node == "main" and ("not-found", "look:1") in step.events


def test_errors_and_nonsense_go_to_error() -> None:
    for answer in (Input(event="app-error"), Input(event="gather", digits="1"),
                   Input(event="record")):
        call = Caller(load(flow_text(STATUS)))
        call.press("123")
        step = call.send(answer)
        assert text(step) == "Sorry." and step.state.node == "agent"
        assert any(kind == "app-error" for kind, _ in step.events)


def test_a_lookup_without_not_found_treats_nothing_found_as_an_error() -> None:
    flow = load(flow_text("""\
        main:
          kind: lookup
          name: request_status
          next: agent
          error: sorry
        sorry:
          kind: hangup
          say: {en: "Sorry.", es: "Perdón."}
        """))
    call = Caller(flow)
    assert text(call.send(Input(event="no-result"))) == "Sorry."


def test_submit_passes_its_args_and_reads_back_the_answer() -> None:
    call = Caller(load(flow_text(FILE)))
    assert call.step.actions == (Submit(name="service_request",
                                        args={"service": "pothole",
                                              "callback": "+14105550100"}),)
    step = call.send(Input(event="result", result={"number": "26-00000001"}))
    assert text(step) == "Number 2 6 0 0 0 0 0 0 0 1."


def test_submit_has_no_not_found() -> None:
    call = Caller(load(flow_text(FILE)))
    step = call.send(Input(event="no-result"))
    assert step.state.node == "agent" and isinstance(step.actions[-1], Enqueue)


def test_results_keep_only_speakable_fields() -> None:
    call = Caller(load(flow_text(FILE)))
    step = call.send(Input(event="result", result={
        "number": 7, "bad key": "x", "nested": {"en": ["x"], "es": "ok"}, "list": [1],
        "none": None, "nan": float("nan")}))
    vars_ = step.state.vars
    assert vars_["filed_number"] == "7" and vars_["filed_nested"] == {"es": "ok"}
    assert not any(k in vars_ for k in ("filed_bad key", "filed_list", "filed_none", "filed_nan"))
    json.dumps(step.state.to_dict())


def test_new_kinds_list_their_jumps_like_every_kind() -> None:
    flow = load(flow_text(STATUS))
    look = flow.nodes["look"]
    assert KINDS["lookup"] is LookupNode and KINDS["submit"] is SubmitNode
    assert [(label, ref.to) for label, ref in look.targets() if ref] == [
        ("next", "found"), ("not_found", "again"), ("on_fail", "agent"), ("error", "sorry")]
    assert isinstance(look.targets()[0][1], Ref) and not look.waits and not look.exits


def test_parse_reports_each_mistake_on_its_line() -> None:
    source = flow_text("""\
        look:
          kind: lookup
          name: two words
          args: {"bad arg": x, ok: "{unclosed"}
          into: not-a-var
          retries: 9
          next: agent
          colour: red
        """)
    errs = errors(source)
    assert found(errs, line_of(source, "look:"), "no 'error'")
    assert found(errs, line_of(source, "name: two words"), "must be one word")
    assert found(errs, line_of(source, "bad arg"), "'bad arg' must be one word")
    assert found(errs, line_of(source, "bad arg"), "lone '{'")
    assert found(errs, line_of(source, "into: not-a-var"), "var name")
    assert found(errs, line_of(source, "retries: 9"), "retries")
    assert found(errs, line_of(source, "colour"), "colour")


def test_check_finds_missing_targets_and_loops_that_never_wait() -> None:
    source = flow_text("""\
        main:
          kind: submit
          name: service_request
          next: ghost
          error: other
        other:
          kind: lookup
          name: again
          next: main
          error: agent
        """)
    errs = errors(source)
    assert found(errs, line_of(source, "next: ghost"), "'ghost'", "not a node")
    assert any("loop forever without waiting" in e.message for e in errs)


def test_missing_next_is_a_dead_end() -> None:
    source = flow_text("""\
        main:
          kind: submit
          name: service_request
          error: agent
        """)
    flow, errs = load(flow_text(FILE)), errors(source)
    assert not check(flow)
    assert found(errs, line_of(source, "main:"), "dead end", "'next'")


ANSWERS = st.builds(
    Input,
    event=st.sampled_from(["result", "no-result", "app-error", "gather", "record", ""]),
    result=st.one_of(st.none(), st.dictionaries(st.sampled_from(["status", "x y", "note"]),
                                                st.one_of(st.text(max_size=8), st.integers()),
                                                max_size=3)),
    digits=st.one_of(st.none(), st.sampled_from(["1", "12"])),
)


@settings(max_examples=200, deadline=None)
@given(script=st.lists(ANSWERS, max_size=12))
def test_any_answers_from_the_app_keep_the_call_going(script: list[Input]) -> None:
    """Whatever the app answers, each step is well formed, its state survives JSON, and a caller
    is never stuck at a lookup: the misses are bounded by the node's retries."""
    flow = load(flow_text(STATUS))
    step = engine.start(flow, {"caller": "+14105550100"}, OPEN)
    misses = 0
    for answer in script:
        state = CallState.from_dict(json.loads(json.dumps(step.state.to_dict())))
        if state.node is None or isinstance(step.actions[-1], Enqueue):
            break
        if isinstance(step.actions[-1], Gather):
            answer = Input(digits="42")
        step = engine.resume(flow, state, answer, OPEN)
        misses += any(kind == "not-found" for kind, _ in step.events)
        assert isinstance(step.actions[-1], Gather | Lookup | Enqueue | Hangup)
        assert misses <= 3


def test_a_collect_with_speech_listens_and_keeps_only_digits() -> None:
    source = flow_text("""\
        main:
          kind: collect
          say: {en: "Number?", es: "¿Número?"}
          into: number
          speech: true
          next: agent
        """)
    call = Caller(load(source))
    assert call.step.actions[-1].input == "dtmf speech"
    step = call.say("26-00012345")
    assert step.state.vars["number"] == "2600012345"
    plain = Caller(load(source.replace("speech: true", "speech: false")))
    assert plain.step.actions[-1].input == "dtmf"
    errs = errors(source.replace("speech: true", "speech: maybe"))
    assert found(errs, line_of(source, "speech: true"), "speech")
