"""The state of one call inside a flow: small, plain and JSON-serialisable.

The live copy sits in Redis between webhooks; the engine receives it and returns a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from callflows.actions import Action


@dataclass(frozen=True)
class CallState:
    """`flow` and `version` pin the flow version the call started with (a publish mid-call does
    not change it). `node` is the node waiting for the caller's answer: None after a hangup, but
    a queue or transfer node stays, since the network may hand the call back to it (overflow,
    voicemail, transfer-failed).
    `language` is the flow's language key (``"en"``, ``"es"``), `vars` the caller data and
    collected values (``caller``, ``line``, ``request_number`` ...), `attempts` the retry count at
    the current node, `path` the nodes and choices the caller went through (shown to call-takers).
    """

    flow: str
    version: int
    node: str | None
    language: str
    vars: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    path: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict: this runs on every webhook, and asdict's
        # recursive deep copy costs more than the rest of the serialisation.
        return {"flow": self.flow, "version": self.version, "node": self.node,
                "language": self.language, "vars": dict(self.vars), "attempts": self.attempts,
                "path": list(self.path)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallState:
        return cls(
            flow=data["flow"],
            version=int(data["version"]),
            node=data.get("node"),
            language=data["language"],
            vars=dict(data.get("vars") or {}),
            attempts=int(data.get("attempts") or 0),
            path=tuple(data.get("path") or ()),
        )

    def evolve(self, **changes: Any) -> CallState:
        return replace(self, **changes)


@dataclass(frozen=True)
class Step:
    """The engine's answer: the actions to perform, then the call's new state.

    `done` is True when the terminal action hands the call out of the flow (Enqueue, Transfer,
    Hangup); `events` are short facts worth recording on the call (menu choices, collected values,
    errors the caller recovered from), as ``(kind, detail)`` pairs.
    """

    actions: tuple[Action, ...]
    state: CallState
    done: bool = False
    events: tuple[tuple[str, str], ...] = field(default=())
