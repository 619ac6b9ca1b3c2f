"""Reading each node kind from its YAML mapping into a `callflows.model` node.

Readers report every problem they meet and still build the node from what they could read, so one
pass over a file finds all its mistakes (the checker then works on the partial flow).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from yaml.nodes import MappingNode, ScalarNode
from yaml.nodes import Node as YNode

from callflows import conditions, model, schedule, template
from callflows.yamlread import Map, Reader, Report, is_null, line_of, suggest

NODE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DTMF_KEYS = "0123456789*#"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_.-]*")

_PROMPT = {"say", "play"}
_ASKS = _PROMPT | {"retries", "timeout", "invalid", "no_input", "on_fail", "on_no_input"}
KEYS: dict[str, set[str]] = {
    "prompt": _PROMPT | {"when_var", "pause", "next"},
    "menu": _ASKS | {"options", "keywords", "min_confidence"},
    "collect": _ASKS | {"into", "min_length", "max_length", "pattern", "next", "speech"},
    "language": _PROMPT | {"choices", "options", "retries", "timeout", "invalid", "next"},
    "hours": {"timezone", "schedule", "holidays", "open", "closed", "holiday"},
    "branch": {"cases", "else", "timezone"},
    "set": {"vars", "next"},
    "queue": _PROMPT | {"class", "priority", "skills", "overflow", "voicemail",
                        "language_skill", "self_service"},
    "transfer": _PROMPT | {"line", "number", "reason", "timeout", "on_fail"},
    "record": _PROMPT | {"max_length", "timeout", "play_beep", "into", "next"},
    "hangup": _PROMPT,
    "goto": {"to"},
    "lookup": _PROMPT | {"name", "args", "into", "next", "not_found", "retries", "on_fail",
                         "error"},
    "submit": _PROMPT | {"name", "args", "into", "next", "error"},
}


@dataclass
class Context:
    """What node readers need from the flow around them."""

    report: Report
    languages: dict[str, str]


def read_timezone(reader: Reader, node: YNode) -> ZoneInfo | None:
    name = reader.text(node, "timezone")
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfo raises KeyError, ValueError or OSError for bad keys
        reader.fail(node, f"'{name}' is not a known timezone (write one like America/New_York)")
        return None


def read_text(reader: Reader, node: YNode, what: str, languages: dict[str, str],
              *, url: bool = False) -> model.Text | None:
    """Text per language. A single value is accepted for audio URLs and one-language flows."""
    if isinstance(node, ScalarNode) and not is_null(node):
        if not url and len(languages) > 1:
            reader.fail(node, f"'{what}' needs a text for each language "
                              f"({', '.join(languages)}), like {what}: {{en: ..., es: ...}}")
            return None
        value = reader.text(node, what) or ""
        values = {lang: value for lang in languages} if languages else {"": value}
    else:
        mapping = reader.mapping(node, what)
        if mapping is None:
            return None
        values = {}
        for lang, _, value_node in mapping.items():
            value = reader.text(value_node, f"{what}.{lang}", empty_ok=True)  # the check says so
            if value is not None:
                values[lang] = value
    if not url:
        for value in values.values():
            for problem in template.problems(value):
                reader.fail(node, f"'{what}' has {problem}")
    return model.Text(values, line_of(node))


class Fields:
    """One node's mapping, read field by field with its kind's defaults."""

    def __init__(self, mapping: Map, reader: Reader, ctx: Context, line: int) -> None:
        self.map, self.reader, self.ctx = mapping, reader, ctx
        self.line = line  # the node id's line, where "has no ..." problems are reported

    def has(self, key: str) -> bool:
        return key in self.map

    def require(self, key: str, why: str) -> YNode | None:
        node = self.map.get(key)
        if node is None:
            self.ctx.report(self.line, f"{self.reader.where} has no '{key}': {why}")
        return node

    def value(self, key: str, read: Callable[[YNode], Any], default: Any = None) -> Any:
        node = self.map.get(key)
        if node is None:
            return default
        found = read(node)
        return default if found is None else found

    def ref(self, key: str) -> model.Ref | None:
        return self.value(key, lambda node: self.target(node, key))

    def target(self, node: YNode, what: str) -> model.Ref | None:
        """A node id as written (``911`` is the id "911"); the checker resolves it."""
        name = self.reader.text(node, what)
        return model.Ref(name, line_of(node)) if name is not None else None

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        return self.value(key, lambda n: self.reader.integer(n, key, low, high), default)

    def text(self, key: str, *, url: bool = False) -> model.Text | None:
        return self.value(key, lambda n: read_text(self.reader, n, key, self.ctx.languages,
                                                   url=url))

    def var_name(self, key: str, default: str | None = None) -> str | None:
        def read(node: YNode) -> str | None:
            name = self.reader.text(node, key)
            if name is not None and not VAR_NAME.fullmatch(name):
                self.reader.fail(node, f"'{key}' must be a var name (letters, digits, _), "
                                       f"not '{name}'")
                return None
            return name
        return self.value(key, read, default)

    def prompt(self, required: str | None = None) -> model.Prompt | None:
        say, play = self.text("say"), self.text("play", url=True)
        if self.has("say") and self.has("play"):
            self.ctx.report(self.map.key_line("play"),
                            f"{self.reader.where} has both 'say' and 'play'; give one of them")
        if say is None and play is None:
            if required and not (self.has("say") or self.has("play")):
                self.ctx.report(self.line,
                                f"{self.reader.where} has no 'say' or 'play': {required}")
            return None
        return model.Prompt(line=(say or play).line, say=say, play=play)  # type: ignore[union-attr]

    def keys(self, key: str) -> dict[str, tuple[int, YNode]]:
        """A mapping of single phone keys, each reported when used twice or not a phone key."""
        node = self.map.get(key)
        if node is None:
            return {}
        mapping = self.reader.mapping(node, key, dup=f"{self.reader.where} uses key {{key}} "
                                                     "twice (first on line {first})")
        found: dict[str, tuple[int, YNode]] = {}
        for digit, line, value in mapping.items() if mapping else ():
            if len(digit) == 1 and digit in DTMF_KEYS:
                found[digit] = (line, value)
            else:
                self.ctx.report(line, f"{self.reader.where}: '{digit}' is not a single phone key "
                                      "(0-9, * or #; quote \"*\" and \"#\")")
        return found

    def pattern(self, node: YNode) -> re.Pattern[str] | None:
        text = self.reader.text(node, "pattern")
        try:
            return re.compile(text) if text is not None else None
        except re.error as exc:
            self.reader.fail(node, f"'pattern' is not a valid regular expression: {exc}")
            return None

    def asks(self, timeout: int = 5) -> dict[str, Any]:
        """Fields shared by nodes that ask and retry."""
        return dict(
            retries=self.integer("retries", 2, 0, 5),
            timeout=self.integer("timeout", timeout, 1, 60),
            invalid=self.text("invalid"), no_input=self.text("no_input"),
            on_fail=self.ref("on_fail"), on_no_input=self.ref("on_no_input"),
        )


def _prompt(f: Fields) -> dict[str, Any]:
    when_var = f.var_name("when_var")
    return dict(prompt=f.prompt(None if when_var else "say what the caller should hear"),
                when_var=when_var, pause=f.integer("pause", 0, 0, 30), next=f.ref("next"))


def _menu(f: Fields) -> dict[str, Any]:
    options = {k: f.target(v, f"key {k}") for k, (_, v) in f.keys("options").items()}
    f.require("options", "list the keys a caller can press, like options: {1: report}")
    keywords: dict[str, dict[str, model.Ref]] = {}
    node = f.map.get("keywords")
    by_lang = f.reader.mapping(node, "keywords") if node is not None else None
    for lang, line, words_node in by_lang.items() if by_lang else ():
        if lang not in f.ctx.languages:
            f.ctx.report(line, f"{f.reader.where}: keywords for '{lang}', which is not one of the "
                               f"flow's languages ({', '.join(f.ctx.languages)})")
        words = f.reader.mapping(words_node, f"keywords.{lang}")
        keywords[lang] = {word: ref for word, _, node in (words.items() if words else ())
                          if (ref := f.target(node, f"keyword '{word}'"))}
    return dict(prompt=f.prompt("say the choices"), **f.asks(),
                options={k: r for k, r in options.items() if r}, keywords=keywords,
                min_confidence=f.value("min_confidence",
                                       lambda n: f.reader.number(n, "min_confidence", 0, 1)))


def _collect(f: Fields) -> dict[str, Any]:
    f.require("into", "name the var that keeps the digits, like into: request_number")
    low, high = f.integer("min_length", 1, 1, 32), f.integer("max_length", 20, 1, 32)
    if low > high:
        f.ctx.report(f.map.key_line("min_length"),
                     f"{f.reader.where}: 'min_length' ({low}) is more than 'max_length' ({high})")
    return dict(prompt=f.prompt("say what to enter"), **f.asks(timeout=7),
                into=f.var_name("into") or "", min_length=low, max_length=high,
                pattern=f.value("pattern", f.pattern), next=f.ref("next"),
                speech=f.value("speech", lambda n: f.reader.boolean(n, "speech"), False))


def _language(f: Fields) -> dict[str, Any]:
    f.require("choices", "map keys to languages, like choices: {1: en, 2: es}")
    choices: dict[str, str] = {}
    for digit, (_, node) in f.keys("choices").items():
        lang = f.reader.text(node, f"choices.{digit}")
        if lang is not None and lang not in f.ctx.languages:
            f.reader.fail(node, f"key {digit} chooses '{lang}', which is not one of the flow's "
                                f"languages ({', '.join(f.ctx.languages)})"
                                f"{suggest(lang, f.ctx.languages)}")
        elif lang is not None:
            choices[digit] = lang
    options = {}
    for digit, (line, node) in f.keys("options").items():
        if digit in choices:
            f.ctx.report(line, f"{f.reader.where} uses key {digit} twice (in choices and options)")
        elif ref := f.target(node, f"key {digit}"):
            options[digit] = ref
    return dict(prompt=f.prompt("say the language choices"), choices=choices, options=options,
                retries=f.integer("retries", 1, 0, 5), timeout=f.integer("timeout", 5, 1, 60),
                invalid=f.text("invalid"), next=f.ref("next"))


def _hours(f: Fields) -> dict[str, Any]:
    f.require("schedule", "give the opening hours, like schedule: {mon-fri: \"07:00-19:00\"}")
    weekly: dict[int, schedule.Ranges] = {}
    seen: dict[int, int] = {}
    node = f.map.get("schedule")
    days_map = f.reader.mapping(node, "schedule") if node is not None else None
    for spec, line, value in days_map.items() if days_map else ():
        hours = f.reader.text(value, spec)
        if hours is None:
            continue
        try:
            days = schedule.parse_days(spec)
            ranges = schedule.parse_ranges(hours)
        except ValueError as exc:
            f.ctx.report(line, f"{f.reader.where}: {exc}")
            continue
        for day in days:
            if day in seen:
                f.ctx.report(line, f"{f.reader.where}: {schedule.DAYS[day]} is given twice in "
                                   f"'schedule' (first on line {seen[day]})")
            seen[day], weekly[day] = line, ranges
    return dict(timezone=f.value("timezone", lambda n: read_timezone(f.reader, n)),
                schedule=weekly, holidays=_holidays(f), open=f.ref("open"),
                closed=f.ref("closed"), holiday=f.ref("holiday"))


def _holidays(f: Fields) -> dict[Any, str]:
    node = f.map.get("holidays")
    if node is None:
        return {}
    entries: list[tuple[str, int, str]] = []
    if not isinstance(node, MappingNode):
        for text, line in f.reader.texts(node, "holidays") or ():
            day, _, name = text.partition(" ")
            entries.append((day, line, name.strip()))
    else:
        by_date = f.reader.mapping(node, "holidays", dup=f"{f.reader.where}: holiday {{key}} "
                                                          "is given twice (first on line {first})")
        for day, line, value in by_date.items() if by_date else ():
            entries.append((day, line, f.reader.text(value, day, empty_ok=True) or ""))
    found = {}
    for day, line, name in entries:
        try:
            found[schedule.parse_date(day)] = name
        except ValueError as exc:
            f.ctx.report(line, f"{f.reader.where}: holiday {exc}")
    return found


def _branch(f: Fields) -> dict[str, Any]:
    f.require("cases", "list the cases, like cases: [{if: {var: caller, exists: true}, "
                       "then: some_node}]")
    cases = []
    node = f.map.get("cases")
    for item in (f.reader.sequence(node, "cases") or []) if node is not None else []:
        case = f.reader.mapping(item, "case")
        if case is None:
            continue
        case.unknown_keys({"if", "then"}, f"{f.reader.where}: the case", f.ctx.report)
        test_node = case.get("if")
        if test_node is None:
            f.ctx.report(case.line, f"{f.reader.where}: a case has no 'if'")
            continue
        test = conditions.read(f.reader, test_node, f.ctx.languages)
        then_node = case.get("then")
        then = f.target(then_node, "then") if then_node is not None else None
        if test is not None:
            cases.append(model.Case(test, then, case.line))
    return dict(cases=tuple(cases), otherwise=f.ref("else"),
                timezone=f.value("timezone", lambda n: read_timezone(f.reader, n)))


def _set(f: Fields) -> dict[str, Any]:
    f.require("vars", "give the vars to set, like vars: {topic: streets}")
    node = f.map.get("vars")
    values = read_vars(f.reader, node) if node is not None else {}
    return dict(values=values, next=f.ref("next"))


def read_vars(reader: Reader, node: YNode) -> dict[str, str | None]:
    """Var names to text (as written, so `yes` stays "yes"); an empty value removes the var."""
    mapping = reader.mapping(node, "vars")
    values: dict[str, str | None] = {}
    for name, line, value in mapping.items() if mapping else ():
        if not VAR_NAME.fullmatch(name):
            reader.report(line, f"{reader.where}: '{name}' is not a var name (letters, digits, _)")
            continue
        text = reader.text(value, name, empty_ok=True)
        for problem in template.problems(text or ""):
            reader.fail(value, f"var '{name}' has {problem}")
        values[name] = text or None
    return values


def _queue(f: Fields) -> dict[str, Any]:
    f.require("class", "name the queue class, like class: general")
    skills = []
    node = f.map.get("skills")
    for skill, line in (f.reader.texts(node, "skills") or []) if node is not None else []:
        if _WORD.fullmatch(skill):
            skills.append(skill)
        else:
            f.ctx.report(line, f"{f.reader.where}: skill '{skill}' must be one word like "
                               "topic:streets")
    queue_class = f.value("class", lambda n: f.reader.text(n, "class"), "general")
    if not _WORD.fullmatch(queue_class):
        f.ctx.report(f.map.key_line("class"), f"{f.reader.where}: class '{queue_class}' must be "
                                              "one word like general")
    return dict(prompt=f.prompt(), queue_class=queue_class,
                priority=f.integer("priority", 5, 1, 10), skills=tuple(skills),
                overflow=f.ref("overflow"), voicemail=f.ref("voicemail"),
                self_service=f.ref("self_service"),
                language_skill=f.value("language_skill",
                                       lambda n: f.reader.boolean(n, "language_skill"), True))


def _transfer(f: Fields) -> dict[str, Any]:
    line = f.value("line", lambda n: f.reader.text(n, "line"))
    number = f.value("number", lambda n: f.reader.text(n, "number"))
    if f.has("line") == f.has("number"):
        f.ctx.report(f.line, f"{f.reader.where} needs exactly one of 'line' (a line of this "
                                 "center, like \"911\") and 'number' (like \"+14105550100\")")
    if number is not None and not _E164.fullmatch(number):
        f.ctx.report(f.map.key_line("number"), f"{f.reader.where}: number '{number}' must be in "
                                               "E.164 form, like \"+14105550100\"")
    return dict(prompt=f.prompt(), to_line=line, number=number,
                reason=f.value("reason", lambda n: f.reader.text(n, "reason"), ""),
                timeout=f.integer("timeout", 30, 5, 120), on_fail=f.ref("on_fail"))


def _record(f: Fields) -> dict[str, Any]:
    return dict(prompt=f.prompt(), max_length=f.integer("max_length", 120, 1, 3600),
                timeout=f.integer("timeout", 5, 1, 60),
                play_beep=f.value("play_beep", lambda n: f.reader.boolean(n, "play_beep"), True),
                into=f.var_name("into", "recording_url"), next=f.ref("next"))


def _asks_app(f: Fields) -> dict[str, Any]:
    """Fields shared by `lookup` and `submit`: what to ask the app for, and where it answers."""
    f.require("name", "name what to ask the application for, like name: request_status")
    name = f.value("name", lambda n: f.reader.text(n, "name"), "")
    if name and not _WORD.fullmatch(name):
        f.ctx.report(f.map.key_line("name"), f"{f.reader.where}: name '{name}' must be one word "
                                             "like request_status")
    f.require("error", "say where the call goes when the application cannot answer")
    args: dict[str, str] = {}
    node = f.map.get("args")
    mapping = f.reader.mapping(node, "args") if node is not None else None
    for arg, line, value in mapping.items() if mapping else ():
        if not _WORD.fullmatch(arg):
            f.ctx.report(line, f"{f.reader.where}: argument '{arg}' must be one word like number")
            continue
        text = f.reader.text(value, arg, empty_ok=True) or ""
        for problem in template.problems(text):
            f.reader.fail(value, f"argument '{arg}' has {problem}")
        args[arg] = text
    return dict(prompt=f.prompt(), name=name, args=args, into=f.var_name("into") or "",
                next=f.ref("next"), error=f.ref("error"))


def _lookup(f: Fields) -> dict[str, Any]:
    return dict(**_asks_app(f), not_found=f.ref("not_found"),
                retries=f.integer("retries", 2, 0, 5), on_fail=f.ref("on_fail"))


READERS: dict[str, Callable[[Fields], dict[str, Any]]] = {
    "prompt": _prompt, "menu": _menu, "collect": _collect, "language": _language,
    "hours": _hours, "branch": _branch, "set": _set, "queue": _queue, "transfer": _transfer,
    "record": _record, "hangup": lambda f: dict(prompt=f.prompt()),
    "goto": lambda f: dict(to=f.ref("to")),
    "lookup": _lookup, "submit": _asks_app,
}


def read_node(node_id: str, line: int, node: YNode, ctx: Context) -> tuple[model.Node | None, bool]:
    """The node (None when its kind is unknown) and whether it read without a problem."""
    problems: list[int] = []

    def report(at: int, message: str) -> None:
        problems.append(at)
        ctx.report(at, message)

    reader = Reader(report, f"node '{node_id}'")
    if not isinstance(node, MappingNode):
        report(line, f"node '{node_id}' must be a mapping of keys, starting with its kind "
                     "(kind: menu, ...)")
        return None, False
    mapping = Map(node, report, f"node '{node_id}' gives '{{key}}' twice (first on line {{first}})")
    kind_node = mapping.get("kind")
    kind = reader.text(kind_node, "kind") if kind_node is not None else None
    if kind_node is None:
        report(line, f"node '{node_id}' has no 'kind' (one of: {', '.join(KEYS)})")
    elif kind is not None and kind not in KEYS:
        hint = suggest(kind, KEYS) or f" (kinds: {', '.join(KEYS)})"
        report(line_of(kind_node), f"node '{node_id}' has unknown kind '{kind}'{hint}")
    if kind not in KEYS:
        return None, False
    reader.where = f"{kind} '{node_id}'"
    mapping.unknown_keys(KEYS[kind] | {"kind"}, reader.where, report)
    fields = Fields(mapping, reader, Context(report, ctx.languages), line)
    built = model.KINDS[kind](id=node_id, line=line, **READERS[kind](fields))
    return built, not problems
