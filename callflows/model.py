"""The parsed form of a call flow: frozen values the checker inspects and the engine walks.

Every piece that a supervisor can get wrong keeps its 1-based `line`, so the checker can point at
it. Targets are `Ref`s (a node id plus the line that names it) for the same reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Ref:
    """A jump to node `to`, written on `line`."""

    to: str
    line: int


@dataclass(frozen=True)
class Text:
    """Text (or an audio URL) per language key: ``{"en": "Hello", "es": "Hola"}``."""

    values: dict[str, str]
    line: int


@dataclass(frozen=True)
class Prompt:
    """What a node says (text-to-speech, may hold ``{var}``) or plays (audio URL) first."""

    line: int
    say: Text | None = None
    play: Text | None = None


# ---------------------------------------------------------------------------------------------
# Conditions of a branch node


@dataclass(frozen=True)
class VarTest:
    """`op` is one of equals, not_equals, starts_with, in, exists, matches."""

    var: str
    op: str
    value: Any
    line: int


@dataclass(frozen=True)
class LanguageTest:
    languages: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class TimeTest:
    """Local time of day in minutes; `after` > `before` means the window wraps midnight."""

    line: int
    after: int | None = None
    before: int | None = None
    days: frozenset[int] | None = None


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]
    line: int


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]
    line: int


@dataclass(frozen=True)
class Not:
    item: Condition
    line: int


Condition = VarTest | LanguageTest | TimeTest | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Case:
    test: Condition
    then: Ref | None
    line: int


# ---------------------------------------------------------------------------------------------
# Nodes


@dataclass(frozen=True, kw_only=True)
class Node:
    """Base of every node kind. `waits` nodes end a step; `exits` nodes hand the call on."""

    kind: ClassVar[str] = ""
    waits: ClassVar[bool] = False
    exits: ClassVar[bool] = False

    id: str
    line: int

    def targets(self) -> list[tuple[str, Ref | None]]:
        """Every jump this node can make, labelled for messages; None where a jump is missing."""
        return []

    def texts(self) -> list[tuple[str, Text | None]]:
        """Every per-language text, labelled for messages."""
        prompt: Prompt | None = getattr(self, "prompt", None)
        if prompt is None:
            return []
        return [("say", prompt.say), ("play", prompt.play)]


@dataclass(frozen=True, kw_only=True)
class _Asks(Node):
    """Shared shape of nodes that ask the caller and retry on a wrong or missing answer."""

    waits: ClassVar[bool] = True

    prompt: Prompt | None = None
    retries: int = 2
    timeout: int = 5
    invalid: Text | None = None
    no_input: Text | None = None
    on_fail: Ref | None = None
    on_no_input: Ref | None = None

    def texts(self) -> list[tuple[str, Text | None]]:
        return [*super().texts(), ("invalid", self.invalid), ("no_input", self.no_input)]


@dataclass(frozen=True, kw_only=True)
class PromptNode(Node):
    """Speak or play, then go on. With `when_var`, only when that var holds something."""

    kind: ClassVar[str] = "prompt"

    prompt: Prompt | None = None
    when_var: str | None = None
    pause: int = 0
    next: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class MenuNode(_Asks):
    kind: ClassVar[str] = "menu"

    options: dict[str, Ref] = field(default_factory=dict)
    keywords: dict[str, dict[str, Ref]] = field(default_factory=dict)
    min_confidence: float | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        found: list[tuple[str, Ref | None]] = [(f"key {k}", r) for k, r in self.options.items()]
        for lang, words in self.keywords.items():
            found += [(f"keyword '{w}' ({lang})", r) for w, r in words.items()]
        return [*found, ("on_fail", self.on_fail), ("on_no_input", self.on_no_input)]


@dataclass(frozen=True, kw_only=True)
class CollectNode(_Asks):
    """Collect digits into var `into`; valid when the length fits and `pattern` matches fully.
    With `speech`, the caller may also say the digits."""

    kind: ClassVar[str] = "collect"

    into: str = ""
    min_length: int = 1
    max_length: int = 20
    pattern: re.Pattern[str] | None = None
    timeout: int = 7
    next: Ref | None = None
    speech: bool = False  # also listen for the digits spoken

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [("next", self.next), ("on_fail", self.on_fail), ("on_no_input", self.on_no_input)]


@dataclass(frozen=True, kw_only=True)
class LanguageNode(Node):
    """Let the caller pick a language; silence keeps the current one and goes on to `next`.

    Its prompt speaks every language, each in its own voice. Wrong keys retry with `invalid`,
    then go on to `next` too: a language menu never strands a caller.
    """

    kind: ClassVar[str] = "language"
    waits: ClassVar[bool] = True

    prompt: Prompt | None = None
    choices: dict[str, str] = field(default_factory=dict)
    options: dict[str, Ref] = field(default_factory=dict)
    retries: int = 1
    timeout: int = 5
    invalid: Text | None = None
    next: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [*((f"key {k}", r) for k, r in self.options.items()), ("next", self.next)]

    def texts(self) -> list[tuple[str, Text | None]]:
        return [*super().texts(), ("invalid", self.invalid)]


@dataclass(frozen=True, kw_only=True)
class HoursNode(Node):
    """Open or closed at the call's `now`, in `timezone` (the node's, else the flow's)."""

    kind: ClassVar[str] = "hours"

    timezone: ZoneInfo | None = None
    schedule: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    holidays: dict[date, str] = field(default_factory=dict)
    open: Ref | None = None
    closed: Ref | None = None
    holiday: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        found: list[tuple[str, Ref | None]] = [("open", self.open), ("closed", self.closed)]
        return found + ([("holiday", self.holiday)] if self.holiday else [])


@dataclass(frozen=True, kw_only=True)
class BranchNode(Node):
    """The first case whose test holds wins; none holding goes to `otherwise` (`else:`)."""

    kind: ClassVar[str] = "branch"

    cases: tuple[Case, ...] = ()
    otherwise: Ref | None = None
    timezone: ZoneInfo | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        found = [(f"the case on line {c.line}", c.then) for c in self.cases]
        return [*found, ("else", self.otherwise)]


@dataclass(frozen=True, kw_only=True)
class SetNode(Node):
    """Set vars (text; None removes the var), then go on."""

    kind: ClassVar[str] = "set"

    values: dict[str, str | None] = field(default_factory=dict)
    next: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class QueueNode(Node):
    """Wait for a call-taker. 1 is the most urgent `priority`. `language_skill`: a caller in
    another language than the flow's first needs a call-taker with ``lang:<language>``
    (False: any call-taker of the queue takes them, as on 911 with interpreters)."""

    kind: ClassVar[str] = "queue"
    waits: ClassVar[bool] = True
    exits: ClassVar[bool] = True

    prompt: Prompt | None = None
    queue_class: str = "general"
    priority: int = 5
    skills: tuple[str, ...] = ()
    overflow: Ref | None = None
    voicemail: Ref | None = None
    language_skill: bool = True
    self_service: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [(name, r) for name, r in (("overflow", self.overflow),
                                          ("voicemail", self.voicemail),
                                          ("self_service", self.self_service)) if r]


@dataclass(frozen=True, kw_only=True)
class TransferNode(Node):
    """Hand the call to a `line` of this center or an outside `number` (E.164)."""

    kind: ClassVar[str] = "transfer"
    waits: ClassVar[bool] = True
    exits: ClassVar[bool] = True

    prompt: Prompt | None = None
    to_line: str | None = None
    number: str | None = None
    reason: str = ""
    timeout: int = 30
    on_fail: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [("on_fail", self.on_fail)] if self.on_fail else []


@dataclass(frozen=True, kw_only=True)
class RecordNode(Node):
    """Record a message after a beep; its URL goes into var `into`."""

    kind: ClassVar[str] = "record"
    waits: ClassVar[bool] = True

    prompt: Prompt | None = None
    max_length: int = 120
    timeout: int = 5
    play_beep: bool = True
    into: str = "recording_url"
    next: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [("next", self.next)]


@dataclass(frozen=True, kw_only=True)
class HangupNode(Node):
    kind: ClassVar[str] = "hangup"
    waits: ClassVar[bool] = True
    exits: ClassVar[bool] = True

    prompt: Prompt | None = None


@dataclass(frozen=True, kw_only=True)
class GotoNode(Node):
    kind: ClassVar[str] = "goto"

    to: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [("to", self.to)]


@dataclass(frozen=True, kw_only=True)
class _AsksApp(Node):
    """Shared shape of nodes that ask the application, not the caller, and branch on its answer.

    `name` says what to ask for; `args` are texts with ``{var}`` fields, filled from the call's
    vars when the node is entered. The app answers within the same webhook, so these nodes do
    not wait for the caller (`waits` is False: the checker treats a loop through them alone as a
    loop that never waits). The answer's fields land in vars named ``<into>_<field>`` (just
    ``<field>`` without `into`). Any failure of the app goes to `error`.
    """

    prompt: Prompt | None = None
    name: str = ""
    args: dict[str, str] = field(default_factory=dict)
    into: str = ""
    next: Ref | None = None
    error: Ref | None = None


@dataclass(frozen=True, kw_only=True)
class LookupNode(_AsksApp):
    """Look data up. Found goes to `next`; nothing found to `not_found` (else `error`), and the
    answer after `retries` such misses in one call to `on_fail` (else `error`)."""

    kind: ClassVar[str] = "lookup"

    not_found: Ref | None = None
    retries: int = 2
    on_fail: Ref | None = None

    def targets(self) -> list[tuple[str, Ref | None]]:
        found: list[tuple[str, Ref | None]] = [("next", self.next)]
        found += [(name, r) for name, r in (("not_found", self.not_found),
                                            ("on_fail", self.on_fail)) if r]
        return [*found, ("error", self.error)]


@dataclass(frozen=True, kw_only=True)
class SubmitNode(_AsksApp):
    """Have the application make something (a service request) from `args`: done goes to `next`
    with the answer's fields in vars, refused or failed to `error`."""

    kind: ClassVar[str] = "submit"

    def targets(self) -> list[tuple[str, Ref | None]]:
        return [("next", self.next), ("error", self.error)]


KINDS: dict[str, type[Node]] = {
    cls.kind: cls
    for cls in (PromptNode, MenuNode, CollectNode, LanguageNode, HoursNode, BranchNode, SetNode,
                QueueNode, TransferNode, RecordNode, HangupNode, GotoNode, LookupNode, SubmitNode)
}


@dataclass(frozen=True)
class Flow:
    """A whole flow file. `languages` maps keys to BCP-47 tags; the first is the default.

    `messages` holds flow-wide "sorry" texts (``invalid``, ``no_input``); `voices` a TTS voice per
    language key; `lines` the line of each top-level key, for messages about them.
    """

    name: str
    languages: dict[str, str]
    start: str
    nodes: dict[str, Node]
    filename: str = "<flow>"
    fallback: str | None = None
    vars: dict[str, str] = field(default_factory=dict)
    timezone: ZoneInfo | None = None
    messages: dict[str, Text] = field(default_factory=dict)
    voices: dict[str, str] = field(default_factory=dict)
    min_confidence: float = 0.5
    description: str = ""
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def default_language(self) -> str:
        return next(iter(self.languages), "en")

    def tag(self, language: str) -> str:
        """The BCP-47 tag of a language key (the default language's for an unknown key)."""
        return self.languages.get(language) or self.languages.get(self.default_language, "en-US")
