"""A flow as a graph: its nodes and the jumps between them, the material of a diagram.

Built only from what every node kind offers (`kind`, `line`, `targets()`, `texts()`, `waits`,
`exits` and its dataclass fields), so a new kind of node shows up in diagrams with no change here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from callflows.model import Flow, Node, Prompt, Ref, Text

SUMMARY_CHARS = 70
_KEYWORD = re.compile(r"^keyword '(.*)' \((\w+)\)$")
_SKIPPED_FIELDS = {"id", "line"}


@dataclass(frozen=True)
class GraphNode:
    id: str
    kind: str
    line: int
    summary: str  # what the node says or does, in a few words
    waits: bool
    exits: bool


@dataclass(frozen=True)
class Edge:
    """Every way from `source` to `target` (keys, keywords, conditions), in written order."""

    source: str
    target: str
    labels: tuple[str, ...]
    line: int

    @property
    def label(self) -> str:
        """The labels, short: keys and named exits in full, keywords counted after the first."""
        keys = [x for x in self.labels if not x.startswith("'")]
        words = [x for x in self.labels if x.startswith("'")]
        shown = keys + words[:1]
        more = f" +{len(words) - 1}" if len(words) > 1 else ""
        return ", ".join(shown) + more


@dataclass(frozen=True)
class FlowGraph:
    name: str
    start: str
    fallback: str | None
    nodes: tuple[GraphNode, ...]
    edges: tuple[Edge, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.name, "start": self.start, "fallback": self.fallback,
            "nodes": [dataclasses.asdict(n) for n in self.nodes],
            "edges": [{"from": e.source, "to": e.target, "labels": list(e.labels),
                       "label": e.label, "line": e.line} for e in self.edges],
        }


def short_label(label: str) -> str:
    """'key 1' -> '1', "keyword 'pothole' (en)" -> "'pothole'"; other labels stay as written."""
    if label.startswith("key "):
        return label[4:]
    found = _KEYWORD.match(label)
    if found:
        return f"'{found.group(1)}'"
    if label.startswith("the case on line "):
        return f"case (line {label.rsplit(' ', 1)[-1]})"
    return label


def flow_graph(flow: Flow, language: str | None = None) -> FlowGraph:
    """The nodes of `flow` in written order and its jumps, merged per (source, target)."""
    language = language or flow.default_language
    nodes = tuple(
        GraphNode(node.id, node.kind, node.line, summary(node, language), node.waits, node.exits)
        for node in sorted(flow.nodes.values(), key=lambda n: n.line)
    )
    merged: dict[tuple[str, str], list[str]] = {}
    lines: dict[tuple[str, str], int] = {}
    for node in flow.nodes.values():
        for label, ref in node.targets():
            if ref is None or ref.to not in flow.nodes:
                continue
            key = (node.id, ref.to)
            merged.setdefault(key, [])
            lines.setdefault(key, ref.line)
            short = short_label(label)
            if short not in merged[key]:
                merged[key].append(short)
    edges = tuple(Edge(s, t, tuple(labels), lines[(s, t)]) for (s, t), labels in merged.items())
    return FlowGraph(flow.name, flow.start, flow.fallback, nodes, edges)


def summary(node: Node, language: str) -> str:
    """Its settings that differ from the defaults, else the first thing it says."""
    facts = []
    for item in dataclasses.fields(node):
        if item.name in _SKIPPED_FIELDS or not item.init:
            continue
        value = getattr(node, item.name)
        if _is_default(item, value) or isinstance(value, Ref | Text | Prompt):
            continue
        shown = _scalar(value)
        if shown and isinstance(value, dict):
            facts.append(shown)
        elif shown:
            facts.append(f"{item.name.removeprefix('to_')}: {shown}")
    text = next((t.values.get(language) or next(iter(t.values.values()), "")
                 for _, t in node.texts() if t is not None and t.values), "")
    found = "; ".join(facts[:3]) if facts else " ".join(text.split())
    return found if len(found) <= SUMMARY_CHARS else found[:SUMMARY_CHARS - 1] + "\u2026"


def _is_default(item: dataclasses.Field[Any], value: Any) -> bool:
    if item.default is not dataclasses.MISSING:
        return bool(value == item.default)
    if item.default_factory is not dataclasses.MISSING:
        return bool(value == item.default_factory())
    return False


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, tuple | frozenset | list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str | None)
                                       for k, v in value.items()):
        return ", ".join(f"{k}={v if v is not None else '(removed)'}" for k, v in value.items())
    return ""
