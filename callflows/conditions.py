"""The tests a `branch` node makes: how they are written, read and evaluated.

Written forms (one mapping each)::

    {var: caller, starts_with: "+1410"}     also equals, not_equals, in, exists, matches
    {language: es}                          or a list of language keys
    {time: {after: "18:00", before: "07:00", days: mon-fri}}
    {all: [...]}  {any: [...]}  {not: {...}}

Vars compare as text (`true` set by a `set` node is the text "true").
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from yaml.nodes import Node as YNode

from callflows import model, schedule, template
from callflows.yamlread import Reader, line_of

OPS = ("equals", "not_equals", "starts_with", "in", "exists", "matches")
_MAX_DEPTH = 8
_FORMS = ("{var: NAME, equals: VALUE} (or not_equals, starts_with, in, exists, matches), "
          "{language: es}, {time: {after: \"18:00\", before: \"07:00\"}}, {all: [...]}, "
          "{any: [...]} or {not: {...}}")


def read(reader: Reader, node: YNode, languages: Mapping[str, str],
         depth: int = 0) -> model.Condition | None:
    """One condition, reporting what is wrong with it (None when it cannot be used)."""
    mapping = reader.mapping(node, "if")
    if mapping is None:
        return None
    line, keys = line_of(node), set(mapping.entries)
    if depth > _MAX_DEPTH:
        reader.fail(node, "conditions nest too deep")
        return None
    if "var" in keys:
        mapping.unknown_keys({"var", *OPS}, f"{reader.where}: the condition", reader.report)
        ops = [op for op in OPS if op in keys]
        var = reader.text(mapping.get("var"), "var")  # type: ignore[arg-type]
        if len(ops) != 1:
            reader.fail(node, "a var condition needs exactly one of " + ", ".join(OPS))
            return None
        value = _operand(reader, ops[0], mapping.get(ops[0]))  # type: ignore[arg-type]
        if var is None or value is None:
            return None
        return model.VarTest(var, ops[0], value, line)
    if keys == {"language"}:
        found = reader.texts(mapping.get("language"), "language") or []  # type: ignore[arg-type]
        for lang, at in found:
            if lang not in languages:
                reader.report(at, f"{reader.where}: '{lang}' is not one of the flow's languages "
                                  f"({', '.join(languages)})")
        return model.LanguageTest(tuple(lang for lang, _ in found), line)
    if keys == {"time"}:
        return _time(reader, mapping.get("time"), line)  # type: ignore[arg-type]
    if keys in ({"all"}, {"any"}):
        (key,) = keys
        items = reader.sequence(mapping.get(key), key) or []  # type: ignore[arg-type]
        tests = [read(reader, item, languages, depth + 1) for item in items]
        if not tests or None in tests:
            if not tests:
                reader.fail(node, f"'{key}' needs at least one condition")
            return None
        kind = model.AllOf if key == "all" else model.AnyOf
        return kind(tuple(tests), line)  # type: ignore[arg-type]
    if keys == {"not"}:
        inner = read(reader, mapping.get("not"), languages, depth + 1)  # type: ignore[arg-type]
        return model.Not(inner, line) if inner is not None else None
    reader.fail(node, f"a condition must be one of {_FORMS}")
    return None


def _operand(reader: Reader, op: str, node: YNode) -> Any:
    if op == "in":
        found = reader.texts(node, "in")
        return tuple(value for value, _ in found) if found is not None else None
    if op == "exists":
        return reader.boolean(node, "exists")
    text = reader.text(node, op, empty_ok=op != "matches")
    if op == "matches" and text is not None:
        try:
            return re.compile(text)
        except re.error as exc:
            reader.fail(node, f"'matches' is not a valid regular expression: {exc}")
            return None
    return text


def _time(reader: Reader, node: YNode, line: int) -> model.TimeTest | None:
    mapping = reader.mapping(node, "time")
    if mapping is None:
        return None
    mapping.unknown_keys({"after", "before", "days"}, f"{reader.where}: 'time'", reader.report)
    if not mapping.entries:
        reader.fail(node, "'time' needs 'after', 'before' or 'days'")
        return None
    values: dict[str, Any] = {}
    for key, at, value in mapping.items():
        text = reader.text(value, key)
        if text is None:
            return None
        try:
            if key == "days":
                values[key] = frozenset(schedule.parse_days(text))
            else:
                values[key] = schedule.parse_clock(text, allow_24=key == "before")
        except ValueError as exc:
            reader.report(at, f"{reader.where}: {exc}")
            return None
    return model.TimeTest(line, **values)


def walk(test: model.Condition) -> Iterator[model.Condition]:
    """`test` and every condition inside it."""
    yield test
    if isinstance(test, model.AllOf | model.AnyOf):
        for item in test.items:
            yield from walk(item)
    elif isinstance(test, model.Not):
        yield from walk(test.item)


def holds(test: model.Condition, values: Mapping[str, Any], language: str, default_language: str,
          local: datetime | None) -> bool:
    """Whether `test` is true for this call; time tests are false without a local time."""
    if isinstance(test, model.VarTest):
        present = test.var in values and values[test.var] not in (None, "")
        text = template.var_text(values.get(test.var), language, default_language)
        if test.op == "exists":
            return present == test.value
        if test.op == "equals":
            return text == test.value
        if test.op == "not_equals":
            return text != test.value
        if test.op == "starts_with":
            return present and text.startswith(test.value)
        if test.op == "in":
            return text in test.value
        return present and test.value.search(text) is not None
    if isinstance(test, model.LanguageTest):
        return language in test.languages
    if isinstance(test, model.TimeTest):
        return local is not None and schedule.in_window(local, test.after, test.before, test.days)
    if isinstance(test, model.AllOf):
        return all(holds(t, values, language, default_language, local) for t in test.items)
    if isinstance(test, model.AnyOf):
        return any(holds(t, values, language, default_language, local) for t in test.items)
    return not holds(test.item, values, language, default_language, local)
