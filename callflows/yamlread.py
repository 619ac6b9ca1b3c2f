"""Reading YAML as composed nodes, so every value keeps its line and no duplicate key is lost.

PyYAML's loaders keep the last of two equal keys without a word; a menu that says ``1:`` twice
would silently drop an option. Composing (not constructing) keeps every pair with its mark, so
duplicates are reported, and values are read with the types the flow language wants (keys and
node ids as written: ``1`` stays ``"1"``, ``2026-12-25`` stays text).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Report = Callable[[int, str], None]

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# No real flow nests deeper than a dozen levels. PyYAML composes recursively: a hostile file of
# thousands of '[' would reach Python's recursion limit (a RecursionError, not a line number).
MAX_DEPTH = 64


def too_deep(text: str) -> int | None:
    """The line where `text` first nests deeper than `MAX_DEPTH`, else None.

    Walks the parser's events, which come from a loop, not a recursion; a syntax error ends the
    walk (the composer reports it).
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def compose(text: str, report: Report) -> Node | None:
    """The document's root node, or None after reporting a syntax error with its line."""
    deep = too_deep(text)
    if deep is not None:
        report(deep, f"the YAML nests more than {MAX_DEPTH} levels deep; a flow never needs that")
        return None
    try:
        return yaml.compose(text, Loader=_FAST_LOADER)  # libyaml: several times faster
    except yaml.YAMLError:
        pass  # the pure-Python parser below says what is wrong more clearly
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:  # a nesting too_deep could not see past a syntax error
        report(1, "YAML syntax error: the file nests too deeply to read")
    except yaml.MarkedYAMLError as exc:
        line, problem = plain_problem(exc, text)
        report(line, f"YAML syntax error: {problem}")
    except yaml.YAMLError as exc:
        report(1, f"YAML syntax error: {exc}")
    return None


def plain_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """PyYAML's complaint ("expected <block end>, but found '<block mapping start>'") said as
    a supervisor would: what is wrong, where (line and column), and what to do. Returns the
    line to report it on and the sentence."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    column = mark.column + 1 if mark else 1
    opened = exc.context_mark.line + 1 if exc.context_mark else line
    problem = exc.problem or ""
    context = exc.context or ""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    at = f"line {line}, column {column}"
    if "another document" in problem:
        return line, "a flow file holds one YAML document, but this one has a second ('---')"
    if "\\t" in problem or "\t" in problem or "\t" in here[:column]:
        return line, f"a tab character at {at}: indent with spaces, not tabs"
    if "quoted scalar" in context:
        return opened, (f"the quote opened on line {opened} is never closed: add the closing "
                        "quote at the end of the text")
    if "flow sequence" in context:
        return line, (f"the list opened with '[' on line {opened} is not closed: add ']' before "
                      f"{at}")
    if "flow mapping" in context:
        return line, (f"the braces opened with '{{' on line {opened} are not closed: add '}}' "
                      f"before {at}")
    above = next((x for x in reversed(lines[:line - 1]) if x.strip()), "")
    indent = len(here) - len(here.lstrip(" "))
    if (indent > len(above) - len(above.lstrip(" ")) and above.strip()
            and not above.rstrip().endswith((":", "|", ">", ">-", "|-"))):
        return line, (f"line {line} is indented more than the line above it: indent it like "
                      "the other keys at its level (with spaces)")
    if "mapping values are not allowed" in problem:
        return line, (f"a second ':' at {at}: a text holding ': ' must be in quotes, like "
                      "say: \"Note: we are closed\"")
    if "could not find expected ':'" in problem:
        return opened, (f"line {opened} is not a 'key: value' pair: add ':' after the key, or "
                        "indent it like the lines around it")
    if "expected <block end>" in problem or "block mapping" in context:
        return line, (f"the indentation at {at} does not match the lines above: indent it "
                      "exactly like the other keys at its level (with spaces)")
    if "undefined alias" in problem:
        return line, f"'*' at {at} names an anchor ('&name') that the file does not define"
    if "unexpected end of stream" in problem:
        return line, "the file ends in the middle of a value: something opened is not closed"
    return line, f"the text at {at} cannot be read as YAML ({problem or context or 'invalid'})"


def suggest(word: str, known: Iterator[str] | list[str] | set[str]) -> str:
    """`` (did you mean 'x'?)`` for a near miss, else an empty string."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


class Map:
    """A YAML mapping read once: keys as written, duplicates and odd keys reported.

    `dup` formats the duplicate message with ``{key}`` and ``{first}`` (the first one's line).
    """

    def __init__(self, node: MappingNode, report: Report, dup: str) -> None:
        self.line = line_of(node)
        self.entries: dict[str, tuple[int, Node]] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag == _MERGE:
                report(line_of(key), "YAML merge keys (<<) are not supported; write the keys out")
            elif not isinstance(key, ScalarNode):
                report(line_of(key), "a key must be a plain word or number, not a list or mapping")
            elif key.value in self.entries:
                first = self.entries[key.value][0]
                report(line_of(key), dup.format(key=key.value, first=first))
            else:
                self.entries[key.value] = (line_of(key), value)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def get(self, key: str) -> Node | None:
        entry = self.entries.get(key)
        return entry[1] if entry else None

    def key_line(self, key: str) -> int:
        return self.entries[key][0] if key in self.entries else self.line

    def items(self) -> Iterator[tuple[str, int, Node]]:
        for key, (line, value) in self.entries.items():
            yield key, line, value

    def unknown_keys(self, allowed: set[str], where: str, report: Report) -> None:
        for key, line, _ in self.items():
            if key not in allowed:
                hint = suggest(key, allowed) or f" (allowed: {', '.join(sorted(allowed))})"
                report(line, f"{where} has unknown key '{key}'{hint}")


class Reader:
    """Typed reads of YAML values; each failure is reported as "<where>: <what> ..." and None."""

    def __init__(self, report: Report, where: str) -> None:
        self.report = report
        self.where = where

    def fail(self, node: Node, message: str) -> None:
        self.report(line_of(node), f"{self.where}: {message}")

    def mapping(self, node: Node, what: str, dup: str | None = None) -> Map | None:
        if not isinstance(node, MappingNode):
            self.fail(node, f"'{what}' must be a mapping of 'key: value' lines")
            return None
        return Map(node, self.report, dup or f"{self.where}: '{what}' gives '{{key}}' twice "
                                              "(first on line {first})")

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.fail(node, f"'{what}' must be a list ('- item' lines)")
            return None
        return list(node.value)

    def text(self, node: Node, what: str, *, empty_ok: bool = False) -> str | None:
        """A scalar as written (numbers and dates included); None if not a scalar or empty."""
        if not isinstance(node, ScalarNode) or (node.tag == _NULL and not empty_ok):
            shape = "empty" if is_null(node) else "a list or mapping"
            self.fail(node, f"'{what}' must be a single value, not {shape}")
            return None
        return "" if node.tag == _NULL else str(node.value)

    def integer(self, node: Node, what: str, low: int, high: int) -> int | None:
        value = node.value if isinstance(node, ScalarNode) else None
        if not isinstance(value, str) or node.tag != _INT or not value.lstrip("+-").isdigit():
            self.fail(node, f"'{what}' must be a whole number from {low} to {high}")
            return None
        number = int(value)
        if not low <= number <= high:
            self.fail(node, f"'{what}' must be from {low} to {high}, not {number}")
            return None
        return number

    def number(self, node: Node, what: str, low: float, high: float) -> float | None:
        try:
            if not isinstance(node, ScalarNode) or node.tag not in (_INT, _FLOAT):
                raise ValueError
            number = float(node.value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.fail(node, f"'{what}' must be a number from {low} to {high}")
            return None
        return number

    def boolean(self, node: Node, what: str) -> bool | None:
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            self.fail(node, f"'{what}' must be true or false")
            return None
        return node.value.lower() in ("true", "yes", "on", "y")

    def texts(self, node: Node, what: str) -> list[tuple[str, int]] | None:
        """A list of values (a single value counts as a list of one), each with its line."""
        items = [node] if isinstance(node, ScalarNode) else self.sequence(node, what)
        if items is None:
            return None
        found = []
        for item in items:
            value = self.text(item, what)
            if value is not None:
                found.append((value, line_of(item)))
        return found
