"""Static checks of a parsed flow, and the ``python -m callflows.check FILE...`` command.

The parser already reports what is wrong inside a node (unknown keys, bad values, duplicate keys);
these checks look at the flow as a whole: jumps to missing nodes, texts missing in a language,
dead ends, nodes nothing leads to, and loops a caller could never leave.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from callflows import conditions, prompts
from callflows.errors import FlowError
from callflows.model import (
    BranchNode,
    CollectNode,
    Flow,
    HoursNode,
    MenuNode,
    Node,
    QueueNode,
    Text,
    TimeTest,
    TransferNode,
)
from callflows.yamlread import Report, suggest

# Jumps without which a caller would be left in silence (others have defaults).
_ONWARD = {"next", "to", "else", "open", "closed", "error"}


def _name(node: Node) -> str:
    return f"{node.kind} '{node.id}'"


def check(flow: Flow, *, broken: Collection[str] = ()) -> list[FlowError]:
    """Every structural problem of `flow`, in line order.

    `broken` names nodes the parser already reported (possibly absent from `flow.nodes` when
    their kind was unknown): jumps to them count as valid and checks that need their exact
    jumps are skipped, so one mistake is not reported three times.
    """
    errors: list[FlowError] = []

    def report(line: int, message: str) -> None:
        errors.append(FlowError(flow.filename, line, message))

    known = set(flow.nodes) | set(broken)
    for key in ("start", "fallback"):
        target = getattr(flow, key)
        if target and target not in known:
            report(flow.lines.get(key, 1), f"'{key}' names '{target}', which is not a "
                                           f"node{suggest(target, known)}")
    _check_languages(flow, report)
    for node in flow.nodes.values():
        _check_node(flow, node, known, node.id in broken, report)
    graph = _graph(flow, known)
    roots = [r for r in (flow.start, flow.fallback) if r in known]
    reachable = _reach(graph, roots)
    if flow.start in flow.nodes and all(b in flow.nodes for b in broken):
        # (a node of unknown kind hides its jumps, so reachability waits until it is fixed)
        for node in flow.nodes.values():
            if node.id not in reachable:
                report(node.line, f"{_name(node)} is never reached from 'start' or 'fallback'")
    _check_loops(flow, graph, reachable, set(broken), report)
    _check_fallback(flow, graph, report)
    return sorted(errors)


def _check_languages(flow: Flow, report: Report) -> None:
    line = flow.lines.get("languages", 1)
    for lang in flow.languages:
        for which in prompts.MESSAGE_KINDS:
            own = flow.messages.get(which)
            if lang not in prompts.BUILT_IN[which] and not (own and own.values.get(lang)):
                report(line, f"language '{lang}' has no built-in '{which}' message; give one "
                             f"under messages: {{{which}: {{{lang}: ...}}}}")
    for which, text in flow.messages.items():
        _check_text(flow, f"messages.{which}", text, "the flow", report)
    for lang in flow.voices:
        if lang not in flow.languages:
            report(flow.lines.get("voices", 1), f"'voices' names '{lang}', which is not one of "
                                                f"the flow's languages")


def _check_text(flow: Flow, label: str, text: Text | None, where: str, report: Report) -> None:
    if text is None or "" in text.values:
        return
    for lang, tag in flow.languages.items():
        if not text.values.get(lang, "").strip():
            report(text.line, f"{where}: '{label}' has no text for {lang} ({tag})")
    for lang in text.values if flow.languages else ():
        if lang not in flow.languages:
            report(text.line, f"{where}: '{label}' has text for '{lang}', which is not one of the "
                              f"flow's languages ({', '.join(flow.languages)})")


def _check_node(flow: Flow, node: Node, known: set[str], broken: bool, report: Report) -> None:
    where = _name(node)
    for label, text in node.texts():
        _check_text(flow, label, text, where, report)
    for label, ref in node.targets():
        if ref is not None and ref.to not in known:
            report(ref.line, f"{where}: {label} goes to '{ref.to}', which is not a "
                             f"node{suggest(ref.to, known)}")
        elif ref is None and not broken and label in _ONWARD:
            report(node.line, f"{where} is a dead end: it has no '{label}', so the caller "
                              "would be left in silence")
    for case in node.cases if isinstance(node, BranchNode) and not broken else ():
        if case.then is None:
            report(case.line, f"{where}: a case has no 'then', so a call that matches it would "
                              "be left in silence")
    fails_to_fallback = isinstance(node, MenuNode | CollectNode | TransferNode)
    if fails_to_fallback and node.on_fail is None and not (flow.fallback or broken):
        report(node.line, f"{where} has no 'on_fail' and the flow has no 'fallback': a caller "
                          f"who {'is not put through' if node.exits else 'cannot answer'} "
                          "would have nowhere to go")
    if isinstance(node, HoursNode | BranchNode) and not (node.timezone or flow.timezone):
        tests = [t for case in getattr(node, "cases", ()) for t in conditions.walk(case.test)]
        if isinstance(node, HoursNode) or any(isinstance(t, TimeTest) for t in tests):
            report(node.line, f"{where} has no 'timezone' and the flow has none: write one like "
                              "timezone: America/New_York")


def _graph(flow: Flow, known: set[str]) -> dict[str, list[str]]:
    """Every jump a call can make, the implicit ones to the fallback included."""
    graph: dict[str, list[str]] = {node_id: [] for node_id in known}
    for node in flow.nodes.values():
        jumps = [ref.to for _, ref in node.targets() if ref is not None and ref.to in known]
        defaults_to_fallback = (
            isinstance(node, MenuNode | CollectNode | TransferNode) and node.on_fail is None
            or isinstance(node, QueueNode) and node.overflow is None
        )
        if defaults_to_fallback and flow.fallback in known:
            jumps.append(flow.fallback)  # type: ignore[arg-type]
        graph[node.id] = list(dict.fromkeys(jumps))
    return graph


def _reach(graph: dict[str, list[str]], roots: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        node_id = todo.pop()
        if node_id not in seen:
            seen.add(node_id)
            todo += graph.get(node_id, [])
    return seen


def components(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative: flows can be long)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node_id, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node_id] = min(low[node_id], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node_id])
            if low[node_id] == index[node_id]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node_id:
                        break
                found.append(component)
    return found


def _is_cycle(graph: dict[str, list[str]], component: list[str]) -> bool:
    return len(component) > 1 or component[0] in graph[component[0]]


def _check_loops(flow: Flow, graph: dict[str, list[str]], reachable: set[str], broken: set[str],
                 report: Report) -> None:
    def names(ids: list[str]) -> tuple[int, str]:
        members = sorted((flow.nodes[i] for i in ids), key=lambda n: n.line)
        return members[0].line, ", ".join(_name(n) for n in members)

    steady = {i: n for i, n in flow.nodes.items() if not n.waits and i not in broken}
    instant = {i: [j for j in graph[i] if j in steady] for i in steady}
    for component in components(instant):
        if _is_cycle(instant, component):
            line, members = names(component)
            report(line, f"{members} loop forever without waiting for the caller")

    # From a trap, no queue, transfer or hangup can be reached: the caller never gets out.
    exits = [i for i in graph if i not in flow.nodes or i in broken or flow.nodes[i].exits]
    reverse: dict[str, list[str]] = {i: [] for i in graph}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    can_leave = _reach(reverse, exits)
    trapped = {i: [j for j in graph[i] if j not in can_leave]
               for i in graph if i in reachable and i not in can_leave}
    for component in components(trapped):
        members = set(component)
        closed = all(j in members for i in component for j in trapped[i])
        if closed and _is_cycle(trapped, component) and not members <= set(steady):
            line, listed = names(component)
            report(line, f"{listed} form a loop with no way out: no hangup, queue or transfer "
                         "can be reached from there")


def _check_fallback(flow: Flow, graph: dict[str, list[str]], report: Report) -> None:
    """The fallback is the safe exit: it must hand the caller on without asking anything."""
    if flow.fallback not in flow.nodes:
        return
    seen: set[str] = set()
    todo = [flow.fallback]
    while todo:
        node = flow.nodes.get(todo.pop())  # type: ignore[arg-type]
        if node is None or node.id in seen or node.exits:
            continue
        seen.add(node.id)
        if node.waits:
            report(flow.lines.get("fallback", 1),
                   f"the fallback '{flow.fallback}' must reach a queue, transfer or hangup "
                   f"without asking the caller, but reaches {_name(node)}")
            return
        todo += graph[node.id]


def validate_files(paths: Sequence[str | Path]) -> list[FlowError]:
    """Every problem in the given flow files (unreadable files included), in file/line order."""
    from callflows.parse import parse_flow  # here, because parse runs `check`

    errors: list[FlowError] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(FlowError(str(path), 1, f"cannot read the file: {exc}"))
            continue
        errors += parse_flow(text, str(path))[1]
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m callflows.check FLOW.yaml...", file=sys.stderr)
        return 2
    errors = validate_files(paths)
    for error in errors:
        print(error)
    if not errors:
        print(f"{len(paths)} flow file(s) OK")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
