"""YAML text -> `Flow`, with every problem reported by file and line.

`parse_flow` returns problems; `load_flow` raises them as `FlowErrors`. Both run the static checks
of `callflows.check` too, so a flow that loads is a flow the engine can run.
"""

from __future__ import annotations

import re
from pathlib import Path

from yaml.nodes import MappingNode

from callflows import model
from callflows.check import check
from callflows.errors import FlowError, FlowErrors
from callflows.nodes import NODE_ID, Context, read_node, read_text, read_timezone, read_vars
from callflows.prompts import MESSAGE_KINDS
from callflows.yamlread import Map, Reader, Report, compose, line_of

TOP_KEYS = {"flow", "description", "languages", "start", "fallback", "timezone", "vars",
            "messages", "voices", "min_confidence", "nodes"}
_REQUIRED = {
    "flow": "name the flow, like flow: city-311",
    "languages": "list the languages, like languages: {en: en-US, es: es-US}",
    "start": "name the node where calls begin",
    "nodes": "a flow needs nodes",
}
_LANG_KEY = re.compile(r"[a-z]{2,3}")
_LANG_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def load_flow(text: str, filename: str) -> model.Flow:
    """The flow in `text`; raises `FlowErrors` with every problem when it has any."""
    flow, errors = parse_flow(text, filename)
    if errors or flow is None:
        raise FlowErrors(errors)
    return flow


def load_flow_file(path: str | Path) -> model.Flow:
    path = Path(path)
    return load_flow(path.read_text(encoding="utf-8"), path.name)


def parse_flow(text: str, filename: str, *,
               run_checks: bool = True) -> tuple[model.Flow | None, list[FlowError]]:
    """(flow, []) when the flow is sound, else (None, every problem in line order).

    `run_checks=False` skips the static checks (a flow that parses is then returned even if it
    would fail them); tests use it to reach the engine's run-time guards.
    """
    errors: list[FlowError] = []

    def report(line: int, message: str) -> None:
        errors.append(FlowError(filename, line, message))

    root = compose(text, report)
    if root is None:
        if not errors:
            report(1, "the file is empty; a flow needs 'flow', 'languages', 'start' and 'nodes'")
        return None, errors
    flow, broken = _read_flow(root, filename, report)
    if flow is not None and run_checks:
        errors += check(flow, broken=broken)
    errors = sorted(set(errors))
    return (None if errors else flow), errors


def _read_flow(root: object, filename: str,
               report: Report) -> tuple[model.Flow | None, set[str]]:
    if not isinstance(root, MappingNode):
        report(line_of(root), "a flow file must be a mapping with 'flow', 'languages', 'start' "  # type: ignore[arg-type]
                              "and 'nodes'")
        return None, set()
    top = Map(root, report, "'{key}' is given twice (first on line {first})")
    top.unknown_keys(TOP_KEYS, "the flow", report)
    for key, why in _REQUIRED.items():
        if key not in top:
            report(top.line, f"the flow has no '{key}': {why}")
    reader = Reader(report, "the flow")

    def text(key: str, default: str = "") -> str:
        node = top.get(key)
        found = reader.text(node, key) if node is not None else None
        return default if found is None else found

    languages = _languages(reader, top)
    ctx = Context(report, languages)
    nodes: dict[str, model.Node] = {}
    broken: set[str] = set()
    nodes_node = top.get("nodes")
    by_id = reader.mapping(nodes_node, "nodes", dup="node '{key}' is defined twice "
                                                     "(first on line {first})") \
        if nodes_node is not None else None
    for node_id, line, value in by_id.items() if by_id else ():
        if not NODE_ID.fullmatch(node_id):
            report(line, f"node id '{node_id}' must start with a letter and hold only letters, "
                         "digits, _ and -")
        node, sound = read_node(node_id, line, value, ctx)
        if node is not None:
            nodes[node_id] = node
        if not sound:
            broken.add(node_id)
    if by_id is not None and not by_id.entries:
        report(by_id.line, "'nodes' is empty")

    messages: dict[str, model.Text] = {}
    messages_map = reader.mapping(top.get("messages"), "messages") if "messages" in top else None
    for key, line, value in messages_map.items() if messages_map else ():
        if key not in MESSAGE_KINDS:
            report(line, f"the flow: 'messages' has unknown key '{key}' (allowed: "
                         f"{', '.join(MESSAGE_KINDS)})")
        elif found := read_text(reader, value, f"messages.{key}", languages):
            messages[key] = found
    voices_map = reader.mapping(top.get("voices"), "voices") if "voices" in top else None
    voices = {lang: voice for lang, _, node in (voices_map.items() if voices_map else ())
              if (voice := reader.text(node, f"voices.{lang}"))}
    confidence_node = top.get("min_confidence")
    confidence = reader.number(confidence_node, "min_confidence", 0, 1) \
        if confidence_node is not None else None
    flow = model.Flow(
        name=text("flow", "unnamed"), languages=languages, start=text("start"), nodes=nodes,
        filename=filename, fallback=text("fallback") or None,
        vars={k: v for k, v in read_vars(reader, top.get("vars")).items() if v is not None}
        if "vars" in top else {},
        timezone=read_timezone(reader, top.get("timezone")) if "timezone" in top else None,
        messages=messages, voices=voices,
        min_confidence=0.5 if confidence is None else confidence,
        description=text("description"),
        lines={key: line for key, line, _ in top.items()},
    )
    return flow, broken


def _languages(reader: Reader, top: Map) -> dict[str, str]:
    node = top.get("languages")
    mapping = reader.mapping(node, "languages") if node is not None else None
    languages: dict[str, str] = {}
    for key, line, value in mapping.items() if mapping else ():
        tag = reader.text(value, f"languages.{key}")
        if not _LANG_KEY.fullmatch(key):
            reader.report(line, f"the flow: language key '{key}' must be 2 or 3 lower-case "
                                "letters, like es")
        elif tag is not None and not _LANG_TAG.fullmatch(tag):
            reader.report(line, f"the flow: '{tag}' is not a language tag like es-US")
        elif tag is not None:
            languages[key] = tag
    if mapping is not None and not mapping.entries:
        reader.report(mapping.line, "the flow: 'languages' is empty")
    return languages
