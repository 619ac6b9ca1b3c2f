"""Runs TwiML on one call leg, as Twilio does: the leg's process.

An `Interpreter` fetches a document, runs its verbs in order and follows the documents its
verbs lead to (a Gather's action, a Redirect, ...) until the TwiML runs out or someone hangs up.
Each verb handler is a generator: it yields the virtual time it takes and returns either None
(go on with the next verb) or the `Document` to continue with. `<Enqueue>` and `<Dial>` live
in `ivr.sim.queue` and `ivr.sim.dial`.

Fetching follows Twilio's failure rules: a transport failure, a status outside 2xx, an unknown
content type, TwiML that does not parse or a body over 64 kB is an error (11205, 11200, 12300,
12100, 11750); the call then requests its fallback URL with `ErrorCode` and `ErrorUrl`; if
there is none, or it fails too, the caller hears the application-error message and is hung up
(transcript: `application_error`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from ivr.sim import dial, queue
from ivr.sim.call import HungUp, Redirected
from ivr.sim.callers import (
    HangupItem,
    Intent,
    PressItem,
    RecordItem,
    SayItem,
    SilenceItem,
    Window,
)
from ivr.sim.scheduler import Wait
from ivr.sim.transport import TransportError
from ivr.sim.twiml import (
    MAIN_VERBS,
    Dial,
    Document,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Pause,
    Play,
    Record,
    Redirect,
    Reject,
    Say,
    TwimlError,
    application_error_document,
    parse_twiml,
    resolve,
    text_document,
)

if TYPE_CHECKING:
    from ivr.sim.call import Call
    from ivr.sim.callers import Party, Person
    from ivr.sim.emulator import Emulator

Step = Generator[Any, Any, "Document | None"]

TWIML_TYPES = frozenset({"text/xml", "application/xml", "text/html"})
# Documents one leg may fetch at one virtual instant: over it, the TwiML loops without any time
# passing (e.g. a Redirect to itself), which would freeze the simulation; the leg is hung up.
MAX_FETCHES_AT_ONCE = 100
MAX_BODY_BYTES = 64 * 1024  # Twilio's limit on a TwiML response (error 11750)


class Interpreter:
    """The TwiML engine of one call leg (see the module docstring)."""

    def __init__(self, sim: Emulator, call: Call, person: Person | None) -> None:
        self.sim = sim
        self.call = call
        self.person = person
        self.timing = sim.timing
        self._heard_from = 0
        self._fetched_at = (-1.0, 0)  # (virtual time, documents fetched then)

    # --- entry points (the generators the scheduler runs) -------------------------------------

    def inbound(self, begin: Callable[[], None] | None = None) -> Step:
        """An inbound leg: ringing until the first document answers or rejects it.

        `begin()` runs when the call actually starts (a call can be placed for later).
        """
        call = self.call
        try:
            if begin is not None:
                begin()
            call.set_status("ringing", "ringing")
            doc = self.fetch(call.webhook.url or "", call.webhook.method)
            if doc.verbs and isinstance(doc.verbs[0], Reject):
                reason = doc.verbs[0].reason
                call.log("reject", reason=reason)
                call.end("busy" if reason == "busy" else "no-answer", by="app")
                return None
            if doc.verbs and isinstance(doc.verbs[0], Pause):
                # Twilio: "If <Pause> is the first verb in a TwiML document, Twilio will wait
                # the specified number of seconds before picking up the call."
                call.log("pause", length=doc.verbs[0].length, before_answer=True)
                yield doc.verbs[0].length
                doc = Document(doc.verbs[1:], doc.url, doc.warnings)
            yield from self.follow(doc)  # answered by its first verb (see `run`)
        except HungUp as exc:
            self.hung_up(exc.by)
        return None

    def outbound(self, party: Party, timeout: float, first: Callable[[], Document]) -> Step:
        """A leg the app asked for by REST: ring `party`, then run the call's TwiML."""
        call = self.call
        try:
            call.set_status("queued", "initiated")
            call.set_status("ringing", "ringing")
            answers = party.outcome == "answer" and party.ring <= timeout
            yield min(party.ring, timeout) if party.outcome != "no-answer" else timeout
            if not answers:
                call.log("not_answered", outcome=party.outcome)
                call.end(party.outcome if party.outcome in ("busy", "failed") else "no-answer")
                return None
            call.answer()
            self.person = self.sim.attach_person(call, party.script, party.responder,
                                                 party.hangup_after, "callee")
            yield from self.follow(first())
        except HungUp as exc:
            self.hung_up(exc.by)
        return None

    def answered(self, first: Callable[[], Document]) -> Step:
        """An answered leg that starts (or restarts) with the document `first()` returns."""
        try:
            yield from self.follow(first())
        except HungUp as exc:
            self.hung_up(exc.by)
        return None

    def follow(self, doc: Document | None) -> Step:
        """Run documents until the TwiML runs out; a REST redirect switches documents."""
        call = self.call
        while doc is not None:
            try:
                doc = yield from self.run(doc, MAIN_VERBS)
            except Redirected as exc:
                call.log("redirect", url=exc.url, by="api")
                doc = exc.twiml if exc.twiml is not None else self.fetch(exc.url or "", exc.method)
        call.log("hangup", by="app")
        call.end("completed", by="app")
        return None

    def hung_up(self, by: str) -> None:
        call = self.call
        call.log("hangup", by=by)
        call.end("completed" if call.answered_t is not None else "canceled", by)

    # --- documents ---------------------------------------------------------------------------

    def run(self, doc: Document, allowed: frozenset[type]) -> Step:
        """Run `doc`'s verbs; returns the next document, or None when the verbs ran out."""
        for code, message in doc.warnings:
            self.call.log("warning", code=code, message=message, url=doc.url)
        for verb in doc.verbs:
            kind = type(verb)
            if self.call.answered_t is None and not _rings_on(verb):
                self.call.answer()  # an inbound call is picked up by the first verb it runs
            if kind not in allowed:
                self.call.log("warning", code=12200, message=f"<{kind.__name__}> not allowed here")
                continue
            nxt = yield from HANDLERS[kind](self, verb, doc)
            if nxt is not None:
                return nxt
        return None

    def fetch(self, url: str, method: str = "POST",
              extra: dict[str, str] | None = None) -> Document:
        """Request TwiML for this leg, with Twilio's fallback and application-error rules."""
        call = self.call
        now = self.sim.clock.elapsed
        fetched = self._fetched_at[1] + 1 if self._fetched_at[0] == now else 1
        self._fetched_at = (now, fetched)
        if fetched > MAX_FETCHES_AT_ONCE:
            call.log("error", code=None, url=url,
                     detail=f"{fetched} documents in no virtual time: a TwiML loop")
            raise HungUp("system")
        params = call.params()
        if extra:
            params.update(extra)
        result = self._request(url, method, params)
        if isinstance(result, Document):
            return result
        code, detail = result
        call.log("error", code=code, url=url, detail=detail)
        hook = call.webhook
        if hook.fallback_url:
            params.update(ErrorCode=str(code), ErrorUrl=url)
            result = self._request(hook.fallback_url, hook.fallback_method, params)
            if isinstance(result, Document):
                return result
            call.log("error", code=result[0], url=hook.fallback_url, detail=result[1])
        call.log("application_error", url=url, code=code)
        return application_error_document()

    def _request(self, url: str, method: str, params: dict[str, str]) -> Document | tuple[int, str]:
        call = self.call
        try:
            resp = self.sim.webhooks.send(method, url, params)
        except TransportError as exc:
            call.log("webhook", url=url, method=method, params=params, status=None)
            return exc.code, str(exc)
        call.log("webhook", url=url, method=method, params=params, status=resp.status)
        if not 200 <= resp.status < 300:
            return 11200, f"HTTP {resp.status}" + (f"\n{resp.error}" if resp.error else "")
        if len(resp.body) > MAX_BODY_BYTES:
            # Error 11750: "the response body is larger than 64 kB".
            return 11750, f"TwiML response body too large ({len(resp.body)} bytes, over 64 kB)"
        media = resp.media_type
        if media in TWIML_TYPES:
            try:
                return parse_twiml(resp.body, url)
            except TwimlError as exc:
                return exc.code, str(exc)
        if media == "text/plain":
            return text_document(resp.text, url)
        if media.startswith("audio/"):
            return Document((Play(url), Hangup()), url)
        return 12300, f"invalid Content-Type {resp.content_type!r}"

    # --- verbs -------------------------------------------------------------------------------

    def say(self, verb: Say, doc: Document) -> Step:
        self.call.log("say", text=verb.text, voice=verb.voice, language=verb.language,
                      loop=verb.loop)
        yield self.timing.say(verb.text, verb.loop)
        return None

    def play(self, verb: Play, doc: Document) -> Step:
        url = resolve(doc, verb.url) if verb.url else ""
        self.call.log("play", url=url, loop=verb.loop, digits=verb.digits)
        if verb.digits:
            yield len(verb.digits) * self.timing.digit_seconds
        else:
            yield self.timing.play(url, verb.loop)
        return None

    def pause(self, verb: Pause, doc: Document) -> Step:
        self.call.log("pause", length=verb.length)
        yield verb.length
        return None

    def redirect(self, verb: Redirect, doc: Document) -> Step:
        url = resolve(doc, verb.url)
        self.call.log("redirect", url=url, by="twiml")
        return self.fetch(url, verb.method)
        yield  # pragma: no cover - makes this a generator

    def hangup(self, verb: Hangup, doc: Document) -> Step:
        raise HungUp("app")
        yield  # pragma: no cover

    def reject(self, verb: Reject, doc: Document) -> Step:
        self.call.log("warning", code=12200, message="<Reject> is only valid as the first verb")
        raise HungUp("app")
        yield  # pragma: no cover

    def leave(self, verb: Leave, doc: Document) -> Step:
        raise queue.LeaveQueue()
        yield  # pragma: no cover

    def gather(self, verb: Gather, doc: Document) -> Step:
        call, prompts = self.call, []
        for prompt in verb.prompts:
            if isinstance(prompt, Say):
                prompts.append(prompt.text)
            yield from HANDLERS[type(prompt)](self, prompt, doc)
        start = self.sim.clock.elapsed
        deadline = start + verb.timeout
        intent = yield from self._ask(Window(
            "gather", call.sid, verb.input, verb.timeout, verb.num_digits, verb.finish_on_key,
            verb.language, verb.hints, tuple(prompts), self._take_heard()), start)
        item, extra = intent.item, None
        if isinstance(item, HangupItem):
            call.hang_up("caller")
            yield 0.0
        on_time = intent.at <= deadline
        if on_time and isinstance(item, PressItem) and "dtmf" in verb.input:
            digits, key, complete = _keys(item.digits, verb.num_digits, verb.finish_on_key)
            yield intent.at - self.sim.clock.elapsed
            if not complete:
                yield verb.timeout  # Twilio waits `timeout` after the last key
            if digits:
                extra = {"Digits": digits, "FinishedOnKey": key}
        elif on_time and isinstance(item, SayItem) and "speech" in verb.input:
            yield (intent.at - self.sim.clock.elapsed + self.timing.say(item.text)
                   + _speech_end(verb))
            extra = {"SpeechResult": item.text}
            if item.confidence is not None:
                extra["Confidence"] = f"{item.confidence:.8f}".rstrip("0").rstrip(".")
        else:
            yield deadline - self.sim.clock.elapsed
            if on_time and not isinstance(item, SilenceItem | RecordItem):
                call.log("warning", code=None, message=f"the caller's {item} does not fit {verb}")
        # A caller who means to leave a message keeps it for the beep: menus and hold-music
        # prompts on the way do not use it up.
        if on_time and self.person is not None and not isinstance(item, RecordItem):
            self.person.consumed(self.sim.clock.elapsed)
        call.log("gather", input=sorted(verb.input), prompts=prompts,
                 result="none" if extra is None else "speech" if "SpeechResult" in extra
                 else "digits", digits=(extra or {}).get("Digits"),
                 speech=(extra or {}).get("SpeechResult"),
                 finished_on=(extra or {}).get("FinishedOnKey"))
        if extra is None and not verb.action_on_empty_result:
            return None  # no input: fall through to the next verb
        return self.fetch(resolve(doc, verb.action or doc.url), verb.method, extra)

    def record(self, verb: Record, doc: Document) -> Step:
        call, clock = self.call, self.sim.clock
        if verb.play_beep:
            yield self.timing.beep_seconds
        start = clock.elapsed
        intent = yield from self._ask(Window("record", call.sid, frozenset({"record"}),
                                             verb.timeout, None, verb.finish_on_key,
                                             heard=self._take_heard()), start)
        item = intent.item
        if isinstance(item, HangupItem):
            call.hang_up("caller")
            yield 0.0
        if not isinstance(item, RecordItem) or intent.at > start + verb.timeout:
            yield start + verb.timeout - clock.elapsed
            if intent.at <= start + verb.timeout:
                if not isinstance(item, SilenceItem):
                    call.log("warning", code=None, message=f"the caller's {item} at a <Record>")
                if self.person is not None:
                    self.person.consumed(clock.elapsed)
            call.log("record", duration=0, digits=None, url=None)
            return None  # an empty recording: no action request, next verb
        yield intent.at - clock.elapsed
        spoken_from, length = clock.elapsed, min(item.seconds, verb.max_length)
        try:
            yield length
        except HungUp:
            self._post_recording(verb, doc, clock.elapsed - spoken_from, "hangup")
            raise
        if item.end == "hangup":
            digits = "hangup"
        elif length < item.seconds or item.end not in verb.finish_on_key or not item.end:
            digits = ""
            if length >= item.seconds:
                yield verb.timeout  # the caller stopped talking; Record ends after `timeout`
        else:
            digits = item.end
        if self.person is not None:
            self.person.consumed(clock.elapsed)
        nxt = self._post_recording(verb, doc, length, digits)
        if digits == "hangup":
            call.hang_up("caller")
            yield 0.0
        return nxt

    def _post_recording(self, verb: Record, doc: Document, seconds: float, digits: str) -> Document:
        sid = self.sim.new_sid("RE")
        url = f"https://api.twilio.com/2010-04-01/Accounts/{self.call.account_sid}/Recordings/{sid}"
        duration = int(math.ceil(seconds - 1e-9))
        self.call.log("record", duration=duration, digits=digits, url=url)
        return self.fetch(resolve(doc, verb.action or doc.url), verb.method, {
            "RecordingUrl": url, "RecordingSid": sid, "RecordingDuration": str(duration),
            "Digits": digits,
        })

    # --- the caller -----------------------------------------------------------------------------

    def _ask(self, window: Window, start: float) -> Generator[Any, Any, Intent]:
        """The caller's move at an input window. A live caller's comes while the window is
        open (`Emulator.send_input` resumes this wait), or was given before it opened."""
        person = self.person
        if person is None or not person.live:
            return self._intent(window, start)
        if person.kept:
            got: Any = person.kept.pop(0)
        else:
            person.window = window
            try:
                got = yield Wait(window.timeout)
            finally:
                person.window = None
            if not isinstance(got, PressItem | SayItem | RecordItem | SilenceItem):
                return Intent(SilenceItem(), start)  # the window timed out
        if window.kind == "record" and isinstance(got, SayItem):
            got = RecordItem(self.timing.say(got.text), after=0.0)  # a message, spoken
        return Intent(got, self.sim.clock.elapsed)

    def _intent(self, window: Window, prompts_end: float) -> Intent:
        if self.person is None:
            return Intent(SilenceItem(), prompts_end)
        return self.person.intent(window, prompts_end)

    def _take_heard(self) -> tuple[str, ...]:
        transcript = self.call.transcript
        heard = tuple(e.data["text"] for e in transcript[self._heard_from:] if e.kind == "say")
        self._heard_from = len(transcript)
        return heard


def _rings_on(verb: object) -> bool:
    """`<Dial answerOnBridge="true">` keeps an unanswered call ringing (twilio-python:
    "Preserve the ringing behavior of the inbound call until the Dialed call picks up")."""
    return isinstance(verb, Dial) and verb.answer_on_bridge


def _keys(keys: str, num_digits: int | None, finish_on_key: str) -> tuple[str, str, bool]:
    """Twilio's reading of keys at a Gather: (Digits, FinishedOnKey, ended before the timeout)."""
    digits = ""
    for key in keys:
        if finish_on_key and key in finish_on_key:
            return digits, key, True
        digits += key
        if num_digits and len(digits) >= num_digits:
            return digits, "", True
    return digits, "", False


def _speech_end(verb: Gather) -> float:
    """Silence after speech that ends it: `speechTimeout` ("auto" ~ 1 s), else `timeout`."""
    if verb.speech_timeout is None:
        return verb.timeout
    if verb.speech_timeout == "auto":
        return 1.0
    try:
        return float(verb.speech_timeout)
    except ValueError:
        return verb.timeout


HANDLERS: dict[type, Callable[..., Step]] = {
    Say: Interpreter.say, Play: Interpreter.play, Pause: Interpreter.pause,
    Gather: Interpreter.gather, Redirect: Interpreter.redirect, Hangup: Interpreter.hangup,
    Reject: Interpreter.reject, Record: Interpreter.record, Leave: Interpreter.leave,
    Enqueue: queue.enqueue, Dial: dial.dial,
}
