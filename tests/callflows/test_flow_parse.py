"""Parsing: each kind of mistake a supervisor makes is reported on its line, in a sentence."""

from __future__ import annotations

import pytest
from callflow_helpers import HEAD, errors, flow_text, found, line_of, load

from callflows.errors import FlowError, FlowErrors
from callflows.model import CollectNode, HoursNode, MenuNode
from callflows.parse import load_flow, parse_flow

MENU = """
main:
  kind: menu
  say: {en: Choose., es: Elija.}
  options:
    1: agent
    2: agent
"""


def test_a_sound_flow_parses_with_lines() -> None:
    text = flow_text(MENU)
    flow = load(text)
    assert flow.name == "test"
    assert list(flow.languages.items()) == [("en", "en-US"), ("es", "es-US")]
    assert flow.start == "main" and flow.fallback == "agent"
    menu = flow.nodes["main"]
    assert isinstance(menu, MenuNode)
    assert menu.line == line_of(text, "main:")
    assert menu.options["2"].line == line_of(text, "2: agent")
    assert menu.retries == 2 and menu.timeout == 5


def test_yaml_syntax_error_is_reported_on_its_line() -> None:
    text = flow_text(MENU) + "  broken: [unclosed\n  other: 1\n"
    errs = errors(text)
    assert len(errs) == 1
    assert "YAML syntax error" in errs[0].message
    assert errs[0].line >= line_of(text, "broken:")


def test_tabs_get_a_hint() -> None:
    errs = errors("flow: x\nnodes:\n\ta: 1\n")
    assert errs[0].line == 3 and "tabs" in errs[0].message


def test_empty_file_and_non_mapping() -> None:
    assert "empty" in errors("")[0].message
    assert "must be a mapping" in errors("- a\n- b\n")[0].message


def test_missing_top_level_keys_and_unknown_ones() -> None:
    text = "flow: x\nlanguages: {en: en-US}\nfallbak: a\n"
    errs = errors(text)
    assert found(errs, 3, "unknown key 'fallbak'", "did you mean 'fallback'")
    assert found(errs, 1, "no 'start'")
    assert found(errs, 1, "no 'nodes'")


def test_unknown_kind_with_suggestion() -> None:
    text = flow_text("main:\n  kind: menuu\n  say: hi\n")
    errs = errors(text)
    assert found(errs, line_of(text, "kind: menuu"), "unknown kind 'menuu'",
                 "did you mean 'menu'")
    # The broken node is not reported again as unreachable or missing.
    assert len(errs) == 1


def test_node_without_kind() -> None:
    text = flow_text("main:\n  say: hi\n")
    assert found(errors(text), line_of(text, "main:"), "node 'main' has no 'kind'")


def test_unknown_key_in_a_node_with_suggestion() -> None:
    text = flow_text(MENU.replace("options:", "optons:"))
    errs = errors(text)
    assert found(errs, line_of(text, "optons:"), "menu 'main' has unknown key 'optons'",
                 "did you mean 'options'")
    assert found(errs, line_of(text, "main:"), "menu 'main' has no 'options'")


def test_unknown_key_without_a_close_match_lists_the_allowed_ones() -> None:
    text = flow_text("main:\n  kind: goto\n  to: agent\n  zzz: 1\n")
    assert found(errors(text), line_of(text, "zzz"), "unknown key 'zzz'", "allowed: kind, to")


@pytest.mark.parametrize(("node", "missing"), [
    ("main:\n  kind: collect\n  say: {en: a, es: b}\n  next: agent\n", "no 'into'"),
    ("main:\n  kind: queue\n", "no 'class'"),
    ("main:\n  kind: transfer\n", "exactly one of 'line'"),
    ("main:\n  kind: menu\n  options: {1: agent}\n", "no 'say' or 'play'"),
    ("main:\n  kind: hours\n  open: agent\n  closed: agent\n", "no 'schedule'"),
    ("main:\n  kind: branch\n  else: agent\n", "no 'cases'"),
    ("main:\n  kind: set\n  next: agent\n", "no 'vars'"),
    ("main:\n  kind: language\n  say: {en: a, es: b}\n  next: agent\n", "no 'choices'"),
])
def test_missing_required_keys(node: str, missing: str) -> None:
    text = flow_text(node)
    assert found(errors(text), line_of(text, "main:"), missing)


def test_menu_key_used_twice_is_caught_with_both_lines() -> None:
    text = flow_text(MENU.replace("2: agent", "1: agent"))
    errs = errors(text)
    first, second = line_of(text, "1: agent"), line_of(text, "1: agent", 2)
    assert [str(e) for e in errs] == [
        f"t.yaml:{second}: menu 'main' uses key 1 twice (first on line {first})"]


def test_duplicate_node_ids_and_duplicate_keys() -> None:
    text = flow_text(MENU + "main:\n  kind: goto\n  to: agent\n")
    errs = errors(text)
    assert found(errs, line_of(text, "main:", 2), "node 'main' is defined twice",
                 f"first on line {line_of(text, 'main:')}")
    text = flow_text(MENU.replace("  say:", "  say: {en: x, es: y}\n  say:"))
    assert found(errors(text), line_of(text, "say:", 2), "'say' twice")


@pytest.mark.parametrize("key", ["12", "a", "**", "10"])
def test_keys_must_be_single_phone_keys(key: str) -> None:
    text = flow_text(MENU.replace("2: agent", f"'{key}': agent"))
    assert found(errors(text), line_of(text, f"'{key}': agent"),
                 f"'{key}' is not a single phone key")


def test_star_and_pound_are_keys() -> None:
    flow = load(flow_text(MENU.replace("2: agent", "'*': agent\n    '#': main")))
    assert set(flow.nodes["main"].options) == {"1", "*", "#"}


def test_invalid_timezone() -> None:
    text = flow_text("""
main:
  kind: hours
  timezone: Mars/Olympus_Mons
  schedule: {mon-fri: "07:00-19:00"}
  open: agent
  closed: agent
""")
    assert found(errors(text), line_of(text, "Mars"), "'Mars/Olympus_Mons' is not a known timezone")
    head = HEAD.replace("America/New_York", "Eastern")
    assert found(errors(flow_text(MENU, head=head)), 3, "'Eastern' is not a known timezone")


@pytest.mark.parametrize(("spec", "message"), [
    ("mon-fri: 7am-7pm", "not a time of day"),
    ("mon-fri: \"19:00-07:00\"", "ends before it starts"),
    ("funday: \"07:00-19:00\"", "not a day or a range of days"),
    ("mon: \"07:00-12:00, 11:00-13:00\"", "overlap"),
    ("mon: \"07:00-25:00\"", "not a time of day"),
    ("mon: \"0700-1900\"", "not a time of day like 07:00"),
    ("mon: 9-5", "not a time of day like 07:00"),
    ("mon: opening", "not hours like 07:00-19:00"),
])
def test_bad_hours_syntax(spec: str, message: str) -> None:
    text = flow_text(f"""
main:
  kind: hours
  schedule:
    {spec}
  open: agent
  closed: agent
""")
    assert found(errors(text), line_of(text, spec.split(":")[0] + ":"), message)


def test_day_given_twice_and_bad_holiday() -> None:
    text = flow_text("""
main:
  kind: hours
  schedule:
    mon-fri: "07:00-19:00"
    wed: "09:00-10:00"
  holidays:
    2026-02-30: Not a day
    2026-12-25: Christmas
  open: agent
  closed: agent
""")
    errs = errors(text)
    assert found(errs, line_of(text, "wed:"), "wed is given twice", "first on line")
    assert found(errs, line_of(text, "2026-02-30"), "'2026-02-30' is not a date")


def test_hours_read_into_the_model() -> None:
    text = flow_text("""
main:
  kind: hours
  schedule: {mon-fri: "07:00-19:00", sat: "08:00-12:00, 13:00-14:00", sun: closed}
  holidays: ["2026-12-25 Christmas Day", 2027-01-01]
  open: agent
  closed: agent
""")
    hours = load(text).nodes["main"]
    assert isinstance(hours, HoursNode)
    assert hours.schedule[0] == ((420, 1140),) and hours.schedule[6] == ()
    assert hours.schedule[5] == ((480, 720), (780, 840))
    assert [d.isoformat() for d in hours.holidays] == ["2026-12-25", "2027-01-01"]
    assert hours.holidays[min(hours.holidays)] == "Christmas Day"


def test_bad_regex() -> None:
    text = flow_text("""
main:
  kind: collect
  say: {en: Enter., es: Marque.}
  into: number
  pattern: "[0-9"
  next: agent
""")
    assert found(errors(text), line_of(text, "pattern:"), "not a valid regular expression")


def test_collect_lengths() -> None:
    text = flow_text("""
main:
  kind: collect
  say: {en: Enter., es: Marque.}
  into: 1number
  min_length: 9
  max_length: 4
  next: agent
""")
    errs = errors(text)
    assert found(errs, line_of(text, "min_length"),
                 "'min_length' (9) is more than 'max_length' (4)")
    assert found(errs, line_of(text, "into:"), "'into' must be a var name")
    ok = load(flow_text("main:\n  kind: collect\n  say: {en: a, es: b}\n  into: n\n"
                        "  min_length: 8\n  max_length: 10\n  next: agent\n"))
    node = ok.nodes["main"]
    assert isinstance(node, CollectNode) and (node.min_length, node.max_length) == (8, 10)


@pytest.mark.parametrize(("value", "message"), [
    ("retries: two", "'retries' must be a whole number from 0 to 5"),
    ("retries: 9", "'retries' must be from 0 to 5, not 9"),
    ("timeout: 0", "'timeout' must be from 1 to 60"),
    ("min_confidence: high", "'min_confidence' must be a number"),
    ("on_fail: [agent]", "'on_fail' must be a single value"),
])
def test_values_of_the_wrong_type(value: str, message: str) -> None:
    text = flow_text(MENU + f"  {value}\n")
    assert found(errors(text), line_of(text, value.split(":")[0] + ":"), message)


def test_text_must_be_per_language_in_a_multilingual_flow() -> None:
    text = flow_text("main:\n  kind: prompt\n  say: Hello\n  next: agent\n")
    assert found(errors(text), line_of(text, "say: Hello"), "needs a text for each language")
    single = HEAD.replace("{en: en-US, es: es-US}", "{en: en-US}")
    assert load(flow_text("main:\n  kind: prompt\n  say: Hello\n  next: agent\n", head=single))


@pytest.mark.parametrize(("say", "message"), [
    ("Number {n|shout}.", "unknown filter 'shout'"),
    ("Number {n.", "a lone '{'"),
    ("Number {1n}.", "does not name a var"),
])
def test_bad_var_fields(say: str, message: str) -> None:
    text = flow_text(f"main:\n  kind: prompt\n  say: {{en: \"{say}\", es: x}}\n  next: agent\n")
    assert found(errors(text), line_of(text, "say:"), message)


def test_bad_language_declarations() -> None:
    text = "flow: x\nlanguages:\n  english: en-US\n  es: spanish_US\nstart: a\nnodes: {}\n"
    errs = errors(text)
    assert found(errs, 3, "language key 'english' must be 2 or 3 lower-case letters")
    assert found(errs, 4, "'spanish_US' is not a language tag")


def test_language_node_choice_must_be_a_declared_language() -> None:
    text = flow_text("""
main:
  kind: language
  say: {en: One., es: Dos.}
  choices: {1: en, 2: fr}
  options: {1: agent}
  next: agent
""")
    errs = errors(text)
    assert found(errs, line_of(text, "choices:"), "chooses 'fr', which is not one of")
    assert found(errs, line_of(text, "options:"), "uses key 1 twice")


def test_keywords_in_an_undeclared_language() -> None:
    text = flow_text(MENU + "  keywords:\n    fr: {bonjour: agent}\n")
    assert found(errors(text), line_of(text, "fr:"), "keywords for 'fr'")


def test_transfer_number_must_be_e164() -> None:
    text = flow_text("main:\n  kind: transfer\n  number: 410-555-0100\n")
    assert found(errors(text), line_of(text, "number:"), "E.164")


def test_branch_condition_errors() -> None:
    text = flow_text("""
main:
  kind: branch
  cases:
    - if: {var: caller, starts: "+1410"}
      then: agent
    - if: {var: caller, matches: "(+"}
      then: agent
    - if: {weather: rain}
      then: agent
    - if: {time: {after: "25:00"}}
      then: agent
  else: agent
""")
    errs = errors(text)
    assert found(errs, line_of(text, "starts:"), "unknown key 'starts'", "starts_with")
    assert found(errs, line_of(text, "matches:"), "'matches' is not a valid regular expression")
    assert found(errs, line_of(text, "weather"), "a condition must be one of")
    assert found(errs, line_of(text, "25:00"), "'25:00' is not a time of day")


def test_load_flow_raises_every_error() -> None:
    text = flow_text(MENU.replace("2: agent", "1: agent").replace("options:", "options:\n    x: a"))
    with pytest.raises(FlowErrors) as caught:
        load_flow(text, "311.yaml")
    assert len(caught.value.errors) == 2
    assert all(isinstance(e, FlowError) for e in caught.value.errors)
    assert str(caught.value).startswith("311.yaml:")
    assert parse_flow(text, "311.yaml")[0] is None


def test_nesting_deeper_than_any_flow_is_reported_by_line() -> None:
    from callflows.yamlread import MAX_DEPTH

    ok = "flow: x\nvars: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert not any("nests" in e.message for e in parse_flow(ok, "ok.yaml")[1])
    for text in ("[" * 5000, "\n\nvars: " + "{a: " * 5000, "- " * 5000 + "1"):
        flow, errors = parse_flow(text, "deep.yaml")
        assert flow is None and errors
        assert errors[0].file == "deep.yaml" and errors[0].line >= 1


@pytest.mark.parametrize(("text", "line", "words"), [
    ("flow: x\nnodes:\n  a:\n    kind: menu\n   say: hi\n", 5,
     "the indentation at line 5, column 4 does not match the lines above"),
    ("flow: x\nnodes:\n  a:\n    kind: menu\n      say: x\n", 5,
     "line 5 is indented more than the line above it"),
    ('flow: "x\nnodes: {}\n', 1, "the quote opened on line 1 is never closed"),
    ("flow: x\nkind: [language\nnext: b\n", 3,
     "the list opened with '[' on line 2 is not closed: add ']' before line 3, column 5"),
    ("flow: x\nsay: Note: closed\n", 2, "a second ':' at line 2, column 10"),
    ("flow: x\nnodes\nstart: a\n", 2, "line 2 is not a 'key: value' pair"),
])
def test_yaml_syntax_errors_say_what_and_where_in_plain_words(text: str, line: int,
                                                                words: str) -> None:
    [err] = errors(text)
    assert err.line == line and words in err.message, err
    for jargon in ("<block", "scalar", "stream", "token"):
        assert jargon not in err.message
