"""Scripted people: the callers who dial in and the parties the emulator rings.

A script is a list of items, read in order on the caller's own timeline:

- `press("12#")`, `say("pothole", confidence=0.9)`, `record(20)` and `silence()` answer the next
  *input window* (a `<Gather>` or a `<Record>`): the caller acts `after` seconds once the prompts
  have finished. If the window times out first (a caller still in a `wait`, or an `after`
  longer than the timeout), the item waits for the next window, so no item is lost.
  `silence()` lets one window time out. An item of the wrong kind (speech at a DTMF-only
  Gather) is used up, unheard, and noted as a warning.
- `wait(s)` is the caller doing nothing for `s` seconds (every window in that time times out).
- `hangup()` hangs up as soon as the caller reaches it, wherever the call is (a menu, a queue,
  a bridge): `[press("1"), wait(300), hangup()]` abandons the queue five minutes after pressing 1.
- When the script runs out the caller stays on the line, silent.

`hangup_after` is patience measured on the wall of the call: seconds after the call started
(a `Caller`) or was answered (a `Party`), whatever the script says.

Instead of a script, a `responder(window) -> item` decides at each window; it may return
`hangup()`. A `live` caller is a person at a keyboard while the emulator runs on the wall clock
(`ivr serve --emulate`): each window waits its real timeout for `Emulator.send_input`, and input
given while no window is open is kept for the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PressItem:
    digits: str
    after: float = 1.0


@dataclass(frozen=True, slots=True)
class SayItem:
    text: str
    confidence: float | None = 0.9
    after: float = 1.0


@dataclass(frozen=True, slots=True)
class RecordItem:
    seconds: float
    end: str = "#"  # a key pressed to stop, "silence" (Record's timeout ends it) or "hangup"
    after: float = 0.5


@dataclass(frozen=True, slots=True)
class SilenceItem:
    pass


@dataclass(frozen=True, slots=True)
class WaitItem:
    seconds: float


@dataclass(frozen=True, slots=True)
class HangupItem:
    pass


InputItem = PressItem | SayItem | RecordItem | SilenceItem
Item = InputItem | WaitItem | HangupItem


def press(digits: str, after: float = 1.0) -> PressItem:
    """Press keys (`"2"`, `"1234#"`) `after` seconds once the prompts have finished."""
    return PressItem(digits, after)


def say(text: str, confidence: float | None = 0.9, after: float = 1.0) -> SayItem:
    """Speak `text`; Twilio's recogniser reports `confidence` (None: no Confidence sent)."""
    return SayItem(text, confidence, after)


def record(seconds: float, end: str = "#", after: float = 0.5) -> RecordItem:
    """Speak a message of `seconds` at a `<Record>`, then press `end` (or "silence"/"hangup")."""
    return RecordItem(seconds, end, after)


def silence() -> SilenceItem:
    """Give nothing at the next input window."""
    return SilenceItem()


def wait(seconds: float) -> WaitItem:
    """Do nothing for `seconds` virtual seconds."""
    return WaitItem(seconds)


def hangup() -> HangupItem:
    """Hang up now."""
    return HangupItem()


@dataclass(frozen=True, slots=True)
class Window:
    """What a caller knows when asked for input (what `responder` receives)."""

    kind: str  # "gather" or "record"
    call_sid: str
    input: frozenset[str]
    timeout: float
    num_digits: int | None = None
    finish_on_key: str = "#"
    language: str = "en-US"
    hints: str = ""
    prompts: tuple[str, ...] = ()  # what this Gather said
    heard: tuple[str, ...] = ()  # everything said to the caller since their last input


Responder = Callable[[Window], Item]


@dataclass
class Caller:
    """Someone who dials one of the emulator's numbers (`to`) from `from_`."""

    from_: str
    to: str
    script: Sequence[Item] = ()
    hangup_after: float | None = None
    responder: Responder | None = None
    caller_name: str | None = None
    live: bool = False  # input comes from `Emulator.send_input` (see the module docstring)


@dataclass
class Party:
    """How a called party behaves: a dialed number, a client, an agent the app calls by REST.

    `outcome` is "answer", "busy", "no-answer" or "failed"; `ring` the seconds before the
    party answers or the network reports busy. After answering, the party follows `script`
    (it answers the TwiML the app runs on its leg) and `hangup_after` seconds of talk.
    """

    outcome: str = "answer"
    ring: float = 5.0
    script: Sequence[Item] = ()
    hangup_after: float | None = None
    responder: Responder | None = None


def answers(after: float = 5.0, script: Sequence[Item] = (), hangup_after: float | None = None,
            responder: Responder | None = None) -> Party:
    return Party("answer", after, script, hangup_after, responder)


def busy(after: float = 2.0) -> Party:
    return Party("busy", after)


def no_answer() -> Party:
    return Party("no-answer", float("inf"))


def fails(after: float = 0.5) -> Party:
    return Party("failed", after)


@dataclass(slots=True)
class Intent:
    """The caller's next move at an input window: `item` at virtual time `at`."""

    item: Item
    at: float


@dataclass
class Person:
    """A script cursor on the caller's own timeline (see the module docstring).

    `schedule_hangup(t)` is how the person asks its call to hang up at virtual time `t`.
    """

    script: Sequence[Item]
    responder: Responder | None
    schedule_hangup: Callable[[float], None]
    ready: float = 0.0
    index: int = 0
    hung_up: bool = field(default=False)
    live: bool = False
    window: Window | None = None  # a live person's open input window
    kept: list[InputItem] = field(default_factory=list)  # a live person's input for later

    def start(self, t: float) -> None:
        """The person is on the line from `t`: waits and a hang-up at the head of the script run."""
        self.ready = t
        self._look_ahead()

    def intent(self, window: Window, prompts_end: float) -> Intent:
        """What the caller does at this window (it is not consumed until `consumed()`)."""
        if self.responder is not None:
            item = self.responder(window)
            if isinstance(item, WaitItem):
                item = SilenceItem()
            after = getattr(item, "after", 0.0)
            return Intent(item, prompts_end + after)
        if self.hung_up or self.index >= len(self.script):
            return Intent(SilenceItem(), prompts_end)
        item = self.script[self.index]
        return Intent(item, max(self.ready, prompts_end) + getattr(item, "after", 0.0))

    def consumed(self, t: float) -> None:
        """The current item was used up by a window that closed at `t`."""
        if self.responder is not None:
            return
        self.index += 1
        self.ready = t
        self._look_ahead()

    def _look_ahead(self) -> None:
        script, t = self.script, self.ready
        i = self.index
        while i < len(script) and isinstance(script[i], WaitItem):
            t += script[i].seconds  # type: ignore[union-attr]
            i += 1
        self.index, self.ready = i, t  # the waits began when the previous item ended
        if i < len(script) and isinstance(script[i], HangupItem):
            self.index, self.hung_up = i + 1, True
            self.schedule_hangup(t)
