"""One call leg as Twilio keeps it: identity, status, webhook settings and the transcript.

The transcript is what a test reads: every event the leg went through, stamped with virtual time
(`Event.t`, seconds since the clock's start). Kinds, with their data:

- ``webhook`` (url, method, params, status) - every TwiML request, fallback included
- ``say`` (text, voice, language, loop), ``play`` (url, loop, digits), ``pause`` (length)
- ``gather`` (input, prompts, result: "digits"/"speech"/"none", digits, speech, finished_on)
- ``record`` (duration, digits, url), ``redirect`` (url, by), ``reject`` (reason)
- ``enqueued`` / ``left`` / ``dequeued`` / ``queue_full`` (queue, ...)
- ``dial`` (to, legs) / ``dial_result`` (the Dial action's parameters)
- ``bridged`` (with_) / ``unbridged`` (by), ``conference_join`` / ``conference_leave``,
  ``conference_start`` (the conference this leg is in started),
  ``hold`` / ``unhold`` / ``mute`` / ``unmute`` (REST participant updates)
- ``answered``, ``not_answered`` (outcome), ``hangup`` (by: caller, callee, app, api, system,
  remote), ``ended`` (status)
- ``status_callback`` (event, sequence, url, status, params), ``status_lost`` (event, sequence,
  url, reason: "policy" or the transport's error; never sent again, as Twilio)
- ``error`` (code: 11200, 11205, 12100, 12300; url, detail), ``warning`` (code: 12200, 14207,
  15003, or None for a note of the emulator's own; message), ``application_error`` (url, code)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ivr.sim.callers import Person
    from ivr.sim.emulator import Emulator
    from ivr.sim.scheduler import Process, Timer
    from ivr.sim.twiml import Document

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class CallInterrupt(Exception):
    """Something outside the call's own TwiML that stops the verb it is in."""

    def relevant(self) -> bool:
        """Still worth raising when delivered? (An event about a verb the call has left is not.)"""
        return True


class HungUp(CallInterrupt):
    """The call is over: `by` is "caller", "app" (a `<Hangup>`), "api", "system" or "remote"."""

    def __init__(self, by: str) -> None:
        super().__init__(by)
        self.by = by


class Redirected(CallInterrupt):
    """A REST request moved the call to new TwiML (`url`, or an inline `twiml` document)."""

    def __init__(self, url: str | None, method: str = "POST", twiml: Document | None = None):
        super().__init__(url)
        self.url = url
        self.method = method
        self.twiml = twiml


class VerbInterrupted(Exception):
    """A `<Dial>` ended by `cause` (an interrupt), with the action parameters it leaves behind."""

    def __init__(self, cause: CallInterrupt, params: dict[str, str]) -> None:
        super().__init__(cause)
        self.cause = cause
        self.params = params


@dataclass(slots=True)
class Event:
    t: float
    kind: str
    data: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass
class Webhook:
    """Where a leg's TwiML comes from and goes to on failure, and its status callback settings."""

    url: str | None = None
    method: str = "POST"
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)


class Call:
    """A call leg. Created and driven by the `Emulator`; tests read it."""

    def __init__(
        self, sim: Emulator, sid: str, from_: str, to: str, direction: str, webhook: Webhook,
        *, parent_sid: str | None = None, caller_name: str | None = None,
    ) -> None:
        self.sim = sim
        self.sid = sid
        self.account_sid = sim.account_sid
        self.from_ = from_
        self.to = to
        self.direction = direction
        self.parent_sid = parent_sid
        self.caller_name = caller_name
        self.webhook = webhook
        self.status = "queued"
        self.created_t = sim.clock.elapsed
        self.updated_t = self.created_t
        self.answered_t: float | None = None
        self.ended_t: float | None = None
        self.hung_up_by: str | None = None
        self.transcript: list[Event] = []
        self.process: Process | None = None
        self.person: Person | None = None
        self.bridge: Bridge | None = None
        self.queue_member: Any = None  # set while the call waits in a Twilio queue
        self.participant: Any = None  # set while the call is in a conference
        self.on_answer: list[Callable[[], None]] = []
        self.on_end: list[Callable[[], None]] = []
        self.timers: list[Timer] = []
        self.sequence = 0  # next status callback SequenceNumber
        self.queue_time = 0.0

    # --- what a test reads --------------------------------------------------------------------

    def events(self, *kinds: str) -> list[Event]:
        """Transcript events of these kinds (all events without arguments)."""
        return [e for e in self.transcript if not kinds or e.kind in kinds]

    def heard(self) -> list[str]:
        """Every `<Say>` text spoken on this leg, in order."""
        return [e.data["text"] for e in self.transcript if e.kind == "say"]

    def heard_text(self) -> str:
        return " ".join(self.heard())

    def requests(self) -> list[Event]:
        """The TwiML webhooks this leg requested."""
        return self.events("webhook")

    @property
    def application_error(self) -> bool:
        """True if the caller heard Twilio's "an application error has occurred"."""
        return any(e.kind == "application_error" for e in self.transcript)

    @property
    def ended(self) -> bool:
        return self.ended_t is not None

    @property
    def duration(self) -> int:
        """Seconds from answer to end (Twilio's CallDuration), 0 if never answered."""
        if self.answered_t is None:
            return 0
        end = self.ended_t if self.ended_t is not None else self.sim.clock.elapsed
        return int(math.ceil(end - self.answered_t - 1e-9))

    def __repr__(self) -> str:
        return f"<Call {self.sid} {self.from_}->{self.to} {self.status}>"

    # --- what the emulator does ----------------------------------------------------------------

    def log(self, kind: str, **data: Any) -> None:
        self.transcript.append(Event(self.sim.clock.elapsed, kind, data))

    def params(self) -> dict[str, str]:
        """The standard parameters of every webhook for this leg."""
        p = {
            "CallSid": self.sid, "AccountSid": self.account_sid, "From": self.from_, "To": self.to,
            "CallStatus": self.status, "ApiVersion": "2010-04-01", "Direction": self.direction,
            "Caller": self.from_, "Called": self.to,
        }
        if self.parent_sid:
            p["ParentCallSid"] = self.parent_sid
        if self.caller_name:
            p["CallerName"] = self.caller_name
        return p

    def set_status(self, status: str, event: str | None = None) -> None:
        self.status = status
        self.updated_t = self.sim.clock.elapsed
        if event is not None:
            self.sim.status.emit(self, event)

    def answer(self) -> None:
        """The leg is answered (`in-progress`); idempotent."""
        if self.answered_t is not None or self.ended:
            return
        self.answered_t = self.sim.clock.elapsed
        self.log("answered")
        self.set_status("in-progress", "answered")
        for fn in self.on_answer:
            fn()

    def hang_up(self, by: str) -> None:
        """Someone ends the call now: its TwiML process (if any) sees `HungUp` at its verb."""
        if self.ended:
            return
        if self.process is not None and not self.process.done:
            self.process.interrupt(HungUp(by))
        else:
            self.log("hangup", by=by)
            self.end("completed" if self.answered_t is not None else "canceled", by)

    def end(self, status: str, by: str | None = None) -> None:
        """Final status; sends the `completed` status callback and notifies bridges."""
        if self.ended:
            return
        self.ended_t = self.sim.clock.elapsed
        self.hung_up_by = self.hung_up_by or by
        for timer in self.timers:
            timer.cancel()
        self.log("ended", status=status)
        self.set_status(status, "completed")
        for fn in self.on_end:
            fn()


@dataclass(eq=False)
class Bridge:
    """Two legs talking to each other. Each side says how it wants to hear that the bridge ended.

    `notify[sid]` is called for the side that did *not* end it: a process waiting in a `Wait`
    is resumed, a leg without TwiML is hung up.
    """

    sim: Emulator
    a: Call
    b: Call
    notify: dict[str, Callable[[], None]] = field(default_factory=dict)
    start_t: float | None = None
    end_t: float | None = None

    def start(self) -> None:
        self.start_t = self.sim.clock.elapsed
        for leg, other in ((self.a, self.b), (self.b, self.a)):
            leg.bridge = self
            leg.log("bridged", with_=other.sid)

    @property
    def ended(self) -> bool:
        return self.end_t is not None

    def end(self, by: Call) -> None:
        """`by` left the bridge (hung up, redirected, time limit); tell the other side once."""
        if self.ended:
            return
        self.end_t = self.sim.clock.elapsed
        for leg in (self.a, self.b):
            if leg.bridge is self:
                leg.bridge = None
            if self.start_t is not None:
                leg.log("unbridged", by=by.sid)
        other = self.b if by is self.a else self.a
        fn = self.notify.get(other.sid)
        if fn is not None:
            fn()

    @property
    def duration(self) -> int:
        if self.start_t is None:
            return 0
        end = self.end_t if self.end_t is not None else self.sim.clock.elapsed
        return int(math.ceil(end - self.start_t - 1e-9))
