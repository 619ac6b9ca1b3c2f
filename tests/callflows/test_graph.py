"""The graph of a flow (callflows/graph.py) and its diagram (ivr/flows/diagram.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from callflows.graph import flow_graph, short_label
from callflows.model import Flow, HangupNode, Node, Prompt, PromptNode, Ref, Text
from callflows.parse import load_flow, load_flow_file
from ivr.flows.diagram import layout, render_svg

FLOWS = Path(__file__).resolve().parents[2] / "ivr" / "flows"


@dataclass(frozen=True, kw_only=True)
class LookupNode(Node):
    """A node kind the graph code has never heard of (as another branch may add one)."""

    kind: ClassVar[str] = "lookup"

    service: str = ""
    timeout: int = 3
    found: Ref | None = None
    not_found: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [("found", self.found), ("not_found", self.not_found)]


def test_a_new_node_kind_is_drawn_from_what_every_node_offers() -> None:
    hello = Text({"en": "Looking up your request."}, 3)
    nodes: dict[str, Node] = {
        "ask": PromptNode(id="ask", line=2, prompt=Prompt(3, say=hello), next=Ref("look", 4)),
        "look": LookupNode(id="look", line=5, service="open311", found=Ref("ok", 6),
                           not_found=Ref("sorry", 7)),
        "ok": HangupNode(id="ok", line=8),
        "sorry": HangupNode(id="sorry", line=9),
    }
    graph = flow_graph(Flow("t", {"en": "en-US"}, "ask", nodes))
    assert [(n.id, n.kind, n.line) for n in graph.nodes] == [
        ("ask", "prompt", 2), ("look", "lookup", 5), ("ok", "hangup", 8), ("sorry", "hangup", 9)]
    assert graph.nodes[0].summary == "Looking up your request."
    assert graph.nodes[1].summary == "service: open311"  # only what differs from the defaults
    assert [(e.source, e.target, e.labels, e.line) for e in graph.edges] == [
        ("ask", "look", ("next",), 4), ("look", "ok", ("found",), 6),
        ("look", "sorry", ("not_found",), 7)]
    svg = render_svg(graph)
    assert 'data-node="look"' in svg and ">lookup \u00b7 line 5<" in svg
    assert ">not_found<" in svg


def test_jumps_to_one_target_merge_and_keywords_are_counted() -> None:
    flow = load_flow_file(FLOWS / "311.yaml")
    edges = {(e.source, e.target): e for e in flow_graph(flow).edges}
    main_agent = edges[("main", "agent_general")]
    assert main_agent.labels[0] == "0" and "'agent'" in main_agent.labels
    assert main_agent.label.startswith("0, 'agent' +")
    assert edges[("hours", "closed_now")].labels == ("closed",)
    assert edges[("message_check", "message_saved")].label.startswith("case (line ")
    assert short_label("keyword 'street light' (en)") == "'street light'"


def test_the_layout_reads_left_to_right_and_loops_are_drawn_back() -> None:
    flow = load_flow(
        "flow: t\nlanguages: {en: en-US}\nstart: menu\nnodes:\n"
        "  menu:\n    kind: menu\n    say: Press 1 or 2.\n    options: {1: confirm, 2: bye}\n"
        "    on_fail: bye\n"
        "  confirm:\n    kind: menu\n    say: Sure?\n    options: {1: bye, 2: menu}\n"
        "    on_fail: bye\n"
        "  bye:\n    kind: hangup\n    say: Bye.\n", "t.yaml")
    placed, back = layout(flow_graph(flow))
    column = {p.node.id: p.column for p in placed}
    assert column == {"menu": 0, "confirm": 1, "bye": 2}
    assert back == {("confirm", "menu")}
    svg = render_svg(flow_graph(flow), standalone=False)
    assert "<style>" not in svg and 'class="e back"' in svg


def test_every_node_of_the_shipped_flows_is_placed_once() -> None:
    for name in ("311.yaml", "911.yaml"):
        graph = flow_graph(load_flow_file(FLOWS / name))
        placed, _ = layout(graph)
        assert sorted(p.node.id for p in placed) == sorted(n.id for n in graph.nodes)
        spots = {(p.x, p.y) for p in placed}
        assert len(spots) == len(placed)  # no two boxes on one spot
