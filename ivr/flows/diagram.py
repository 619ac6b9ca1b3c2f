"""A flow's diagram as SVG, drawn on the server from `callflows.graph` (no script, no network).

Layout, left to right: each node's column is its longest distance from 'start' along forward
jumps (jumps back, like "press 2 to enter it again", are drawn dashed underneath), and nodes in a
column are ordered by where their callers sit (a few barycentre sweeps) to keep lines from
crossing. Colours say what a node does for the caller: asks (waits for an answer), hands on
(queue, transfer, hang-up) or steps through. Each node carries its source line (``data-line``)
so the editor can jump there.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from importlib import resources

from callflows.graph import Edge, FlowGraph, GraphNode

NODE_W = 176
NODE_H = 62
GAP_X = 112
GAP_Y = 26
MARGIN = 28
SUMMARY_CHARS = 27
LABEL_CHARS = 17


@dataclass(frozen=True)
class Placed:
    node: GraphNode
    x: float
    y: float
    column: int


def role(node: GraphNode) -> str:
    if node.exits:
        return "exit"
    return "ask" if node.waits else "step"


def _back_edges(graph: FlowGraph) -> set[tuple[str, str]]:
    """Jumps to a node already on the current walk from the roots (they close a loop)."""
    out: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in graph.edges:
        out[e.source].append(e.target)
    roots = [r for r in (graph.start, graph.fallback) if r in out] + [n.id for n in graph.nodes]
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1: on the walk, 2: done
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return back


def layout(graph: FlowGraph) -> tuple[list[Placed], set[tuple[str, str]]]:
    """Positions of the nodes, and the jumps drawn as back edges."""
    back = _back_edges(graph)
    forward = [e for e in graph.edges if (e.source, e.target) not in back]
    ids = [n.id for n in graph.nodes]
    preds: dict[str, list[str]] = {i: [] for i in ids}
    for e in forward:
        preds[e.target].append(e.source)
    column: dict[str, int] = {}

    def depth(node_id: str) -> int:  # longest path over a DAG, iteratively
        todo = [node_id]
        while todo:
            current = todo[-1]
            missing = [p for p in preds[current] if p not in column]
            if missing:
                todo += missing
                continue
            todo.pop()
            column[current] = max((column[p] + 1 for p in preds[current]), default=0)
        return column[node_id]

    for node_id in ids:
        depth(node_id)
    if graph.start in column and column[graph.start] != 0:
        column[graph.start] = 0
    columns: dict[int, list[str]] = {}
    for node_id in ids:  # written order first
        columns.setdefault(column[node_id], []).append(node_id)
    for _sweep in range(4):
        for c in sorted(columns)[1:]:
            placed_at = {n: i for col in columns.values() for i, n in enumerate(col)}
            columns[c].sort(key=lambda node_id, at=placed_at: _centre(node_id, preds, at))
    tallest = max(len(col) for col in columns.values()) if columns else 0
    by_id = {n.id: n for n in graph.nodes}
    placed = []
    for c, members in columns.items():
        top = MARGIN + (tallest - len(members)) * (NODE_H + GAP_Y) / 2
        for i, node_id in enumerate(members):
            placed.append(Placed(by_id[node_id], MARGIN + c * (NODE_W + GAP_X),
                                 top + i * (NODE_H + GAP_Y), c))
    return placed, back


def _centre(node_id: str, preds: dict[str, list[str]], at: dict[str, int]) -> float:
    """Mean row of the node's callers (its own row when none is placed yet)."""
    rows = [at[p] for p in preds[node_id] if p in at]
    return sum(rows) / len(rows) if rows else at[node_id]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def diagram_css() -> str:
    """The diagram's styles (ivr/static/flows/diagram.css, which the editor page links)."""
    return resources.files("ivr").joinpath("static/flows/diagram.css").read_text("utf-8")


def render_svg(graph: FlowGraph, title: str = "", standalone: bool = True) -> str:
    """The diagram as SVG. A `standalone` one carries its styles inside, so the file opens on
    its own; the editor embeds it without them (its CSP refuses inline styles) and links
    diagram.css instead."""
    placed, back = layout(graph)
    at = {p.node.id: p for p in placed}
    width = max((p.x for p in placed), default=0) + NODE_W + 2 * MARGIN
    height = max((p.y for p in placed), default=0) + NODE_H + 2 * MARGIN + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(title or "flow " + graph.name)}">',
        f"<style>{diagram_css()}</style>" if standalone else "",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#7d8b99"/></marker><marker id="arrow-back" viewBox="0 0 10 10" refX="9" '
        'refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#c08a2e"/></marker></defs>',
    ]
    labels: list[str] = []
    for edge in graph.edges:
        if edge.source in at and edge.target in at:
            path, lx, ly = _edge_path(at[edge.source], at[edge.target],
                                      (edge.source, edge.target) in back)
            out.append(_edge(edge, path, (edge.source, edge.target) in back))
            labels.append(_label(edge, lx, ly))
    for p in placed:
        out.append(_node(p, graph))
    out += labels  # last, so no box hides a key
    out.append(_legend(height - 30))
    out.append("</svg>")
    return "\n".join(part for part in out if part)


def _edge_path(a: Placed, b: Placed, is_back: bool) -> tuple[str, float, float]:
    if not is_back and b.column > a.column:
        x1, y1 = a.x + NODE_W, a.y + NODE_H / 2
        x2, y2 = b.x, b.y + NODE_H / 2
        bend = max((x2 - x1) / 2, 30)
        path = (f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} "
                f"{x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}")
        # The label sits in the empty gap just before the target's column, where the line is
        # about to arrive: a menu's keys fan out beside their own targets and never cover a box.
        points = [_bezier((x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2), i / 64)
                  for i in range(65)]
        lx = x2 - GAP_X / 2
        ly = min(points, key=lambda p: abs(p[0] - lx))[1]
        return path, lx, ly
    # Back (or same-column) jumps leave from the bottom and come in at the bottom, arcing below.
    x1, y1 = a.x + NODE_W * 0.35, a.y + NODE_H
    x2, y2 = b.x + NODE_W * 0.65, b.y + NODE_H
    drop = max(y1, y2) + 34 + abs(x1 - x2) * 0.04
    path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{drop:.1f} {x2:.1f},{drop:.1f} {x2:.1f},{y2:.1f}"
    return path, (x1 + x2) / 2, drop - 8


def _bezier(p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float],
            p3: tuple[float, float], t: float) -> tuple[float, float]:
    u = 1 - t
    return (u ** 3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t ** 3 * p3[0],
            u ** 3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t ** 3 * p3[1])


def _edge(edge: Edge, path: str, is_back: bool) -> str:
    cls = "e back" if is_back else "e"
    marker = "arrow-back" if is_back else "arrow"
    tip = escape(f"{edge.source} \u2192 {edge.target}: {', '.join(edge.labels)} "
                 f"(line {edge.line})")
    return (f'<path class="{cls}" d="{path}" marker-end="url(#{marker})" '
            f'data-from="{escape(edge.source)}" data-to="{escape(edge.target)}">'
            f"<title>{tip}</title></path>")


def _label(edge: Edge, x: float, y: float) -> str:
    text = escape(_clip(edge.label, LABEL_CHARS))
    width = 6.2 * len(_clip(edge.label, LABEL_CHARS)) + 8
    return (f'<g class="elabel"><rect class="lblbg" x="{x - width / 2:.1f}" y="{y - 8:.1f}" '
            f'width="{width:.1f}" height="15" rx="3"/><text class="lbl" x="{x:.1f}" '
            f'y="{y + 3.5:.1f}" text-anchor="middle">{text}</text></g>')


def _node(p: Placed, graph: FlowGraph) -> str:
    n = p.node
    classes = f"n {role(n)}" + (" start" if n.id == graph.start else "")
    badges = []
    if n.id == graph.start:
        badges.append(("START", "bstart"))
    if n.id == graph.fallback:
        badges.append(("FALLBACK", "bfall"))
    parts = [
        f'<g class="{classes}" data-node="{escape(n.id)}" data-line="{n.line}" tabindex="0">',
        f"<title>{escape(n.kind)} '{escape(n.id)}' (line {n.line})"
        f"{': ' + escape(n.summary) if n.summary else ''}</title>",
        f'<rect x="{p.x:.1f}" y="{p.y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="9"/>',
        f'<text class="kind" x="{p.x + 10:.1f}" y="{p.y + 15:.1f}">{escape(n.kind)} '
        f"\u00b7 line {n.line}</text>",
        f'<text class="id" x="{p.x + 10:.1f}" y="{p.y + 33:.1f}">'
        f"{escape(_clip(n.id, 24))}</text>",
        f'<text class="sum" x="{p.x + 10:.1f}" y="{p.y + 51:.1f}">'
        f"{escape(_clip(n.summary, SUMMARY_CHARS))}</text>",
    ]
    right = p.x + NODE_W
    for text, cls in badges:
        w = 7 * len(text) + 10
        right -= w + 4
        parts.append(f'<rect class="{cls}" x="{right:.1f}" y="{p.y - 9:.1f}" width="{w}" '
                     f'height="16" rx="8"/><text class="badge" x="{right + w / 2:.1f}" '
                     f'y="{p.y + 3:.1f}" text-anchor="middle">{text}</text>')
    parts.append("</g>")
    return "".join(parts)


def _legend(y: float) -> str:
    items = [("ask", "#10233d", "#3b82f6", "asks the caller"),
             ("exit", "#0f2a1c", "#2ecc71", "hands the call on / ends"),
             ("step", "#1b222c", "#5b6877", "steps through")]
    out = ['<g class="legend">']
    x = MARGIN
    for _cls, fill, stroke, text in items:
        out.append(f'<rect x="{x}" y="{y}" width="16" height="12" rx="3" fill="{fill}" '
                   f'stroke="{stroke}"/><text x="{x + 22}" y="{y + 10}">'
                   f"{text}</text>")
        x += 36 + 6.2 * len(text)
    out.append(f'<path d="M{x},{y + 6} h26" class="e back"/><text x="{x + 32}" y="{y + 10}">'
               'jumps back (a loop)</text></g>')
    return "".join(out)
