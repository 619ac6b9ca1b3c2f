"""Try a flow that is not live: one emulated call of a draft, from the editor's test panel.

The emulator plays Twilio and the caller, exactly as for real calls; the app's side is played by
`TrialPhone`, which runs the given flow with the same engine and the same TwiML renderer, but
keeps the call's state in memory and hands nothing on: a queue or a transfer ends the trial with
a sentence saying where the call would have gone. No Redis, no live line is touched, and nothing
is written to SQL: a `lookup` is answered by the real lookup inside a transaction that is rolled
back (the status path can be tried with real request numbers), and a `submit` ends the trial with
what would have been filed.

The panel is stateless: each request replays the caller's answers so far on a fresh emulated
call (the clock is virtual, so a replay takes milliseconds) and stops at the next question.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twilio.twiml.voice_response import VoiceResponse

from callflows import engine
from callflows.actions import AppStep, Enqueue, Hangup, Input, Lookup, Submit, Transfer
from callflows.errors import EngineError
from callflows.model import Flow
from callflows.state import CallState, Step
from ivr.sim import Caller, Emulator, NumberConfig, SimClock, Window
from ivr.sim.callers import Item, hangup, press, record, say, silence
from ivr.sim.transport import Params, Response
from ivr.telephony.answers import read_input
from ivr.telephony.twiml import render

BASE = "https://trial.invalid"
TRIAL_NUMBER = "+15005550006"
TRIAL_CALLER = "+15005550001"
TRIAL_TOKEN = "trial-token-not-a-secret"  # the emulator signs; nothing here checks it
TRIAL_ACCOUNT = "AC" + "0" * 32
MAX_INPUTS = 60
MAX_SECONDS = 3600


# How a trial answers a flow's lookup (see `ivr.web.flows_api`): the app's real answer, nothing
# kept.
LookupAnswer = Callable[[AppStep], Input]


class TrialInputError(ValueError):
    """An answer the panel cannot play; `str()` says which."""


@dataclass(frozen=True)
class Heard:
    text: str
    language: str

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "language": self.language}


@dataclass(frozen=True)
class Turn:
    """What the caller heard, then what they answered (None for the last, open question)."""

    heard: tuple[Heard, ...]
    answer: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"heard": [h.to_dict() for h in self.heard], "answer": self.answer}


@dataclass(frozen=True)
class TrialResult:
    turns: tuple[Turn, ...]
    waiting_for: str | None  # "keys" or "recording" when the flow asks the caller; None: ended
    ending: str  # how the call ended or where it would have gone
    language: str  # the call's language key at the end
    path: tuple[str, ...]
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"turns": [t.to_dict() for t in self.turns], "waiting_for": self.waiting_for,
                "ending": self.ending, "language": self.language, "path": list(self.path),
                "problems": list(self.problems)}


def answer_item(text: str, window: Window) -> Item:
    """One answer of the panel: keys (``1``, ``1234#``), ``say <words>``, ``record``, or ``""``
    for silence. ``record`` at a question that waits for keys is a caller who talks without
    pressing any: silence to that question, as keys at a recording are."""
    text = text.strip()
    if text.lower().startswith("say "):
        return say(text[4:].strip())
    if window.kind == "record":
        return record(5) if text.lower() == "record" else silence()
    if text == "" or text.lower() == "record":
        return silence()
    if not all(ch in "0123456789*#" for ch in text):
        raise TrialInputError(f"'{text}' is not keys (0-9, * and #), 'say <words>' or silence")
    return press(text)


@dataclass
class TrialPhone:
    """The app's voice webhooks for one flow, in memory (a `Transport` for the emulator)."""

    flow: Flow
    clock: SimClock
    vars: Mapping[str, Any]
    state: CallState | None = None
    seq: int = 0
    last: str = ""
    ending: str = ""
    problems: list[str] = field(default_factory=list)
    lookup: LookupAnswer | None = None

    def request(self, method: str, url: str, params: Params,
                headers: Mapping[str, str]) -> Response:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        form = {k: v if isinstance(v, str) else v[0] for k, v in params.items()}
        if parts.path == "/status":
            return Response(204, "text/plain", b"")
        now = self.clock.now()
        try:
            if parts.path == "/incoming":
                step = engine.start(self.flow, {**self.vars, "caller": form.get("From", "")},
                                    now, version=0)
            elif self.state is None or query.get("seq") != str(self.seq):
                return Response(200, "text/xml", self.last.encode())
            else:  # (no Dial ever runs here: a transfer ends the trial, see _transferred)
                event = query.get("event", "gather")
                step = engine.resume(self.flow, self.state, read_input(event, form), now)
            step = self._answer_app(step, now)
        except EngineError as exc:
            self.problems.append(str(exc))
            return Response(500, "text/plain", str(exc).encode())
        self.seq += 1
        self.state = step.state
        twiml = render(step.actions, lambda event: f"{BASE}/step?event={event}&seq={self.seq}",
                       on_enqueue=self._enqueued, on_transfer=self._transferred)
        self.last = str(twiml)
        return Response(200, "text/xml", self.last.encode())

    def _answer_app(self, step: Step, now: datetime) -> Step:
        """Resume through the flow's lookups as the app would; stop at a submit (or a lookup
        with nobody to answer it), saying what the app would have been asked."""
        for _hop in range(8):
            action = step.actions[-1] if step.actions else None
            if not isinstance(action, Lookup | Submit):
                return step
            if isinstance(action, Submit) or self.lookup is None:
                args = ", ".join(f"{k}={v}" for k, v in sorted(action.args.items()))
                verb = "file" if isinstance(action, Submit) else "look up"
                self.ending = f"the app would {verb} '{action.name}' ({args})"
                return Step(step.actions[:-1] + (Hangup(),), step.state, True, step.events)
            resumed = engine.resume(self.flow, step.state, self.lookup(action), now)
            step = Step(step.actions[:-1] + resumed.actions, resumed.state, resumed.done,
                        resumed.events)
        raise EngineError("more than 8 lookups in a row")

    def _enqueued(self, response: VoiceResponse, action: Enqueue) -> None:
        skills = ", ".join(action.skills) or "none"
        self.ending = (f"the caller would wait for a call-taker: queue '{action.queue_class}', "
                       f"priority {action.priority}, skills {skills}")
        response.hangup()

    def _transferred(self, response: VoiceResponse, action: Transfer) -> None:
        target = f"line {action.line}" if action.line else f"number {action.number}"
        reason = f" ({action.reason})" if action.reason else ""
        self.ending = f"the call would be transferred to {target}{reason}"
        response.hangup()


def run_trial(flow: Flow, answers: Sequence[str], at: datetime,
              vars: Mapping[str, Any] | None = None,
              lookup: LookupAnswer | None = None) -> TrialResult:
    """Call `flow` at `at`, answer each question with the next of `answers`, and stop at the
    first question left without an answer (or where the call ends). `lookup` answers the flow's
    lookups (without it, a lookup ends the trial like a submit)."""
    if len(answers) > MAX_INPUTS:
        raise TrialInputError(f"a trial takes at most {MAX_INPUTS} answers")
    clock = SimClock(at)
    phone = TrialPhone(flow, clock, dict(vars or {}), lookup=lookup)
    number = NumberConfig(TRIAL_NUMBER, f"{BASE}/incoming", status_callback=f"{BASE}/status")
    sim = Emulator(TRIAL_ACCOUNT, TRIAL_TOKEN, [number], phone, clock=clock)
    turns: list[Turn] = []
    seen = 0
    waiting: list[str] = []
    pending = list(answers)

    def heard_since() -> tuple[Heard, ...]:
        nonlocal seen
        events = call.transcript[seen:]
        seen = len(call.transcript)
        return tuple(_heard(e.kind, e.data) for e in events if e.kind in ("say", "play"))

    def responder(window: Window) -> Item:
        heard = heard_since()
        if not pending:
            waiting.append("recording" if window.kind == "record" else "keys")
            turns.append(Turn(heard, None))
            return hangup()
        text = pending.pop(0)
        turns.append(Turn(heard, text.strip() or "(silence)"))
        return answer_item(text, window)

    call = sim.place_call(Caller(TRIAL_CALLER, TRIAL_NUMBER, responder=responder))
    sim.run_until_idle(max_seconds=MAX_SECONDS)
    rest = heard_since()
    if rest or not turns:
        turns.append(Turn(rest, None))
    state = phone.state
    if waiting:
        ending = "waiting for the caller"
    elif call.application_error or phone.problems:
        ending = "the call failed (see the problems)"
    else:
        ending = phone.ending or "the flow hung up"
    problems = tuple(phone.problems) + tuple(
        str(e.data.get("message")) for e in call.events("warning") if e.data.get("message"))
    return TrialResult(tuple(turns), waiting[0] if waiting else None, ending,
                       state.language if state else flow.default_language,
                       state.path if state else (), problems)


def _heard(kind: str, data: Mapping[str, Any]) -> Heard:
    if kind == "play":
        return Heard(f"[audio {data.get('url', '')}]", "")
    return Heard(str(data.get("text", "")), str(data.get("language") or ""))
