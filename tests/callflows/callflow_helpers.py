"""Shared helpers for the call-flow tests: small flows, line lookup, and a caller that steps."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from callflows import engine
from callflows.actions import (
    Enqueue,
    Gather,
    Hangup,
    Input,
    Lookup,
    Play,
    Record,
    Say,
    Submit,
    Transfer,
)
from callflows.errors import FlowError
from callflows.model import Flow
from callflows.parse import load_flow, parse_flow
from callflows.state import Step

ROOT = Path(__file__).resolve().parents[2]
FLOWS = ROOT / "ivr" / "flows"
NY = ZoneInfo("America/New_York")
TERMINALS = (Gather, Record, Enqueue, Transfer, Hangup, Lookup, Submit)

# Wednesday 4 March 2026 10:00 in New York: the 311 center is open.
OPEN = datetime(2026, 3, 4, 10, 0, tzinfo=NY)

HEAD = """\
flow: test
languages: {en: en-US, es: es-US}
timezone: America/New_York
start: main
fallback: agent
nodes:
"""

AGENT = """\
  agent:
    kind: queue
    class: general
"""


def flow_text(nodes: str, head: str = HEAD, agent: bool = True) -> str:
    """A test flow: the header, the given nodes (written at column 0), and an `agent` queue."""
    return head + textwrap.indent(textwrap.dedent(nodes).strip("\n") + "\n", "  ") + (
        AGENT if agent else "")


def errors(text: str, filename: str = "t.yaml") -> list[FlowError]:
    return parse_flow(text, filename)[1]


def load(text: str) -> Flow:
    return load_flow(text, "t.yaml")


def line_of(text: str, marker: str, nth: int = 1) -> int:
    """The 1-based line of the `nth` line of `text` containing `marker`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    return hits[nth - 1]


def found(errs: list[FlowError], line: int, *words: str) -> bool:
    """Whether some error sits on `line` and contains every one of `words`."""
    return any(e.line == line and all(w in e.message for w in words) for e in errs)


def said(step: Step) -> list[Say]:
    """Every Say of a step, inside the Gather too, in order."""
    out: list[Say] = []
    for action in step.actions:
        if isinstance(action, Say):
            out.append(action)
        elif isinstance(action, Gather):
            out += [p for p in action.prompts if isinstance(p, Say)]
    return out


def text(step: Step) -> str:
    return " ".join(s.text for s in said(step))


def last(step: Step) -> object:
    return step.actions[-1]


def assert_well_formed(step: Step) -> None:
    """Exactly one terminal action, last; prompts only before it."""
    assert step.actions, "a step without actions"
    assert isinstance(step.actions[-1], TERMINALS)
    assert not any(isinstance(a, TERMINALS) for a in step.actions[:-1])
    assert all(isinstance(a, Say | Play) or a.__class__.__name__ == "Pause"
               for a in step.actions[:-1])
    assert step.done == isinstance(step.actions[-1], Enqueue | Transfer | Hangup)


class Caller:
    """Drives one call through a flow: `press`, `say`, `silence`, `send`."""

    def __init__(self, flow: Flow, now: datetime = OPEN, **vars: object) -> None:
        self.flow, self.now = flow, now
        self.step = engine.start(flow, {"caller": "+14105550100", "line": "311", **vars}, now)
        self.steps = [self.step]
        assert_well_formed(self.step)

    def send(self, given: Input) -> Step:
        self.step = engine.resume(self.flow, self.step.state, given, self.now)
        self.steps.append(self.step)
        assert_well_formed(self.step)
        return self.step

    def press(self, *keys: str) -> Step:
        for key in keys:
            self.send(Input(digits=key))
        return self.step

    def say(self, words: str, confidence: float | None = 0.9) -> Step:
        return self.send(Input(speech=words, confidence=confidence))

    def silence(self, times: int = 1) -> Step:
        for _ in range(times):
            self.send(Input())
        return self.step

    @property
    def node(self) -> str | None:
        return self.step.state.node

    def events(self) -> list[tuple[str, str]]:
        return [e for s in self.steps for e in s.events]
