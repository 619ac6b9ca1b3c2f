"""Conferences: `<Dial><Conference>` and the REST Conference/Participant resources.

What is emulated now: a conference is created by its first participant and starts when a
participant with `startConferenceOnEnter="true"` is in it; until then the others hear the
`waitUrl` document in a loop (Say, Play, Pause, Redirect). It ends when a participant with
`endConferenceOnExit="true"` leaves, when the last participant leaves, or by REST
(`Status=completed`); everyone still in it then leaves too and goes on after their `<Dial>`
(action with `DialCallStatus=answered`, no `DialCallSid`/`DialCallDuration`). Participants can
be put on hold, muted and removed by REST; status callbacks `start`, `end`, `join`, `leave`,
`hold`, `mute` and `modify` are sent when the first participant's noun asks for them. A
participant on hold hears the `HoldUrl` document in a loop (Twilio's default hold music without
one), like the wait music, until taken off hold; the others do not hear them meanwhile.

Coaching (a supervisor's whisper): a participant with `CallSidToCoach` (REST, or the noun's
`coach`) is heard by that participant alone. Who hears whom is `TwilioConference.hears`:
nobody hears anyone before the conference starts; a participant on hold hears only their music
and nobody hears them; a muted participant is heard by nobody; a coach is heard only by the
participant coached; everyone else hears every other unmuted participant. A coach hears
everyone, as any participant does. A change of `Coaching`/`CallSidToCoach` (or of
`EndConferenceOnExit`) is the ``participant-modify`` event (statusCallbackEvent ``modify``);
participant events carry `Coaching` and, for a coach, `CallSidToCoach`.

A noun with `record="record-from-start"` records the conference (`ivr.sim.recording`): from
its start (or that participant's join, if later) to its end.

Not yet: announcements, `beep` sounds, speaker events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ivr.sim.call import CallInterrupt, VerbInterrupted
from ivr.sim.clock import SimClock
from ivr.sim.recording import Recording, RecordingSpec
from ivr.sim.scheduler import TIMEOUT, Wait
from ivr.sim.twiml import (
    CONFERENCE_WAIT_VERBS,
    DEFAULT_HOLD_MUSIC,
    Conference,
    Dial,
    Document,
    resolve,
)

if TYPE_CHECKING:
    from ivr.sim.call import Call
    from ivr.sim.emulator import Emulator
    from ivr.sim.interpreter import Interpreter, Step


class ConferenceEvent(CallInterrupt):
    """Raised in a participant's process: the conference "started", or the participant "left"."""

    def __init__(self, kind: str, participant: Participant) -> None:
        super().__init__(kind)
        self.kind = kind
        self.participant = participant

    def relevant(self) -> bool:
        return self.participant.in_join


class Participant:
    def __init__(self, call: Call, conf: TwilioConference, noun: Conference, t: float) -> None:
        self.call = call
        self.conference = conf
        self.muted = noun.muted
        self.call_sid_to_coach: str | None = noun.coach  # whom this participant coaches
        self.hold = False
        self.hold_url: str | None = None  # what a held participant hears (None: Twilio's music)
        self.hold_method = "GET"  # Twilio: "the default is `GET`" (HoldMethod)
        self.start_conference_on_enter = noun.start_conference_on_enter
        self.end_conference_on_exit = noun.end_conference_on_exit
        self.joined_t = t
        self.updated_t = t
        self.label: str | None = noun.label
        self.waiting = False  # hearing the wait music until the conference starts
        self.in_join = True  # the call is still in its <Dial><Conference>

    @property
    def status(self) -> str:
        return "connected" if self.conference.status == "in-progress" else "connecting"

    @property
    def coaching(self) -> bool:
        return self.call_sid_to_coach is not None


class TwilioConference:
    """One conference room (see the module docstring)."""

    def __init__(self, sim: Emulator, sid: str, name: str) -> None:
        self.sim = sim
        self.sid = sid
        self.friendly_name = name
        self.status = "init"
        self.created_t = self.updated_t = sim.clock.elapsed
        self.participants: dict[str, Participant] = {}
        self.callback: tuple[str, str, tuple[str, ...]] | None = None  # url, method, events
        self.sequence = 0
        self.reason_ended: str | None = None
        self.call_sid_ending: str | None = None
        self.record_spec: RecordingSpec | None = None  # set by a noun asking to record
        self.recording: Recording | None = None

    def record(self, spec: RecordingSpec) -> None:
        """A participant's noun asked to record from the start: the first such ask counts."""
        if self.record_spec is None:
            self.record_spec = spec
        if self.status == "in-progress" and self.recording is None:
            self.recording = self.sim.recordings.start(self, self.record_spec)

    def _event(self, event: str, p: Participant | None = None) -> None:
        if self.callback is None:
            return
        url, method, events = self.callback
        if _SUBSCRIPTION[event] not in events:
            return
        params = {"AccountSid": self.sim.account_sid, "ConferenceSid": self.sid,
                  "FriendlyName": self.friendly_name}
        if p is not None:
            params.update(
                CallSid=p.call.sid, Muted=_tf(p.muted), Hold=_tf(p.hold), Coaching=_tf(p.coaching),
                EndConferenceOnExit=_tf(p.end_conference_on_exit),
                StartConferenceOnEnter=_tf(p.start_conference_on_enter),
            )
            if p.call_sid_to_coach:
                params["CallSidToCoach"] = p.call_sid_to_coach
        if event == "conference-end" and self.reason_ended:
            params["ReasonConferenceEnded"] = self.reason_ended
            if self.call_sid_ending:
                params["CallSidEndingConference"] = self.call_sid_ending
        self.sim.status.emit_conference(url, method, event, params, self.sequence)
        self.sequence += 1

    def hears(self, listener: str, speaker: str) -> bool:
        """Whether the participant `listener` (a CallSid) hears `speaker` now (see the module
        docstring for the rules)."""
        heard, talker = self.participants.get(listener), self.participants.get(speaker)
        if heard is None or talker is None or heard is talker or self.status != "in-progress":
            return False
        if heard.hold or talker.hold or heard.waiting or talker.waiting or talker.muted:
            return False
        return talker.call_sid_to_coach in (None, listener)

    def audience(self, speaker: str) -> set[str]:
        """The CallSids of the participants who hear `speaker` now."""
        return {sid for sid in self.participants if self.hears(sid, speaker)}

    def add(self, call: Call, noun: Conference) -> Participant:
        p = Participant(call, self, noun, self.sim.clock.elapsed)
        self.participants[call.sid] = p
        call.participant = p
        call.log("conference_join", conference=self.friendly_name, conference_sid=self.sid)
        self._event("participant-join", p)
        return p

    def start(self) -> None:
        if self.status != "init":
            return
        self.status = "in-progress"
        self.updated_t = self.sim.clock.elapsed
        self._event("conference-start")
        if self.record_spec is not None and self.recording is None:
            self.recording = self.sim.recordings.start(self, self.record_spec)
        for p in self.participants.values():
            p.call.log("conference_start", conference=self.friendly_name)
            if p.waiting and p.call.process is not None:
                p.waiting = False
                p.call.process.interrupt(ConferenceEvent("started", p))

    def remove(self, p: Participant, kick: bool = False) -> None:
        """`p` leaves (hung up, redirected, kicked); may end the conference."""
        if self.participants.pop(p.call.sid, None) is None:
            return
        p.call.participant = None
        p.call.log("conference_leave", conference=self.friendly_name)
        self._event("participant-leave", p)
        if kick and p.call.process is not None:
            p.call.process.interrupt(ConferenceEvent("left", p))
        if p.end_conference_on_exit and self.status == "in-progress":
            self.end("participant-with-end-conference-on-exit-left", p.call.sid)
        elif not self.participants:
            self.end("last-participant-left", p.call.sid)

    def end(self, reason: str, by: str | None = None) -> None:
        if self.status == "completed":
            return
        self.status = "completed"
        self.reason_ended, self.call_sid_ending = reason, by
        self.updated_t = self.sim.clock.elapsed
        for p in list(self.participants.values()):
            self.participants.pop(p.call.sid)
            p.call.participant = None
            p.call.log("conference_leave", conference=self.friendly_name)
            self._event("participant-leave", p)
            if p.call.process is not None:
                p.call.process.interrupt(ConferenceEvent("left", p))
        self._event("conference-end")
        if self.recording is not None:
            self.sim.recordings.finish(self.recording)
        self.sim.conferences.active.pop(self.friendly_name, None)

    def set_flags(self, p: Participant, hold: bool | None, muted: bool | None,
                  hold_url: str | None = None, hold_method: str = "GET") -> None:
        """REST participant update: hold/unhold (with the music to hear), mute/unmute."""
        p.updated_t = self.sim.clock.elapsed
        if hold_url:
            p.hold_url, p.hold_method = hold_url, hold_method
        if hold is not None and hold != p.hold:
            p.hold = hold
            p.call.log("hold" if hold else "unhold", conference=self.friendly_name)
            self._event("participant-hold" if hold else "participant-unhold", p)
            if p.call.process is not None:
                p.call.process.interrupt(ConferenceEvent("hold" if hold else "unhold", p))
        if muted is not None and muted != p.muted:
            p.muted = muted
            p.call.log("mute" if muted else "unmute", conference=self.friendly_name)
            self._event("participant-mute" if muted else "participant-unmute", p)

    def set_coaching(self, p: Participant, call_sid_to_coach: str | None) -> None:
        """REST participant update: coach `call_sid_to_coach` (heard by it alone), or stop
        coaching (None: heard by everyone again, unless muted)."""
        p.updated_t = self.sim.clock.elapsed
        if call_sid_to_coach == p.call_sid_to_coach:
            return
        p.call_sid_to_coach = call_sid_to_coach
        p.call.log("coach" if call_sid_to_coach else "uncoach", conference=self.friendly_name,
                   coached=call_sid_to_coach)
        self._event("participant-modify", p)

    def modified(self, p: Participant) -> None:
        """A participant attribute without an event of its own changed (EndConferenceOnExit)."""
        self._event("participant-modify", p)


class Conferences:
    """The account's conferences: all of them by sid, the live ones by name."""

    def __init__(self, sim: Emulator, new_sid: Callable[[str], str], clock: SimClock) -> None:
        self.sim = sim
        self._new_sid = new_sid
        self.clock = clock
        self.by_sid: dict[str, TwilioConference] = {}
        self.active: dict[str, TwilioConference] = {}

    def get_or_create(self, name: str) -> TwilioConference:
        conf = self.active.get(name)
        if conf is None:
            conf = TwilioConference(self.sim, self._new_sid("CF"), name)
            self.by_sid[conf.sid] = conf
            self.active[name] = conf
        return conf


_SUBSCRIPTION = {  # statusCallbackEvent value that asks for each event
    "conference-start": "start", "conference-end": "end", "participant-join": "join",
    "participant-leave": "leave", "participant-hold": "hold", "participant-unhold": "hold",
    "participant-mute": "mute", "participant-unmute": "mute", "participant-modify": "modify",
}


def _tf(flag: bool) -> str:
    return "true" if flag else "false"


def join(it: Interpreter, verb: Dial, noun: Conference, doc: Document) -> Step:
    """A call's `<Dial><Conference>`; returns the Dial action parameters when it leaves."""
    call = it.call
    conf = it.sim.conferences.get_or_create(noun.name)
    if noun.status_callback and conf.callback is None:
        events = tuple(e.replace("participant-", "") for e in noun.status_callback_event)
        conf.callback = (resolve(doc, noun.status_callback), noun.status_callback_method,
                         events or ("start", "end"))
    if len(conf.participants) >= noun.max_participants:
        call.log("warning", code=None, message=f"conference {noun.name!r} is full")
        return {"DialCallStatus": "failed"}
    p = conf.add(call, noun)
    if noun.record == "record-from-start":
        conf.record(RecordingSpec(
            resolve(doc, noun.recording_status_callback) if noun.recording_status_callback
            else None, noun.recording_status_callback_method,
            noun.recording_status_callback_event))
    try:
        if conf.status == "init":
            if noun.start_conference_on_enter:
                conf.start()
            else:
                p.waiting = True
                yield from _until_started(it, noun, doc)
        yield from _talk(it, p, verb.time_limit)  # until it ends, a kick, or timeLimit
        conf.remove(p)
    except ConferenceEvent:
        conf.remove(p)  # the conference ended, or a REST request removed the participant
    except CallInterrupt as exc:
        conf.remove(p)
        raise VerbInterrupted(exc, {"DialCallStatus": "answered", "DialBridged": "true"}) from None
    finally:
        p.in_join = False
    return {"DialCallStatus": "answered", "DialBridged": "true"}


def _until_started(it: Interpreter, noun: Conference, doc: Document) -> Step:
    """The wait music, until the conference starts (a hold meanwhile changes nothing)."""
    url = None if noun.wait_url == "" else resolve(doc, noun.wait_url or DEFAULT_HOLD_MUSIC)
    while True:
        try:
            yield from _music(it, url, noun.wait_method)
        except ConferenceEvent as exc:
            if exc.kind == "started":
                return
            if exc.kind not in ("hold", "unhold"):
                raise


def _talk(it: Interpreter, p: Participant, time_limit: float) -> Step:
    """In the started conference: talking, or on hold hearing the hold music, until an
    interrupt (the conference ended, a kick, a hang-up) or `time_limit`."""
    clock = it.sim.clock
    end = clock.elapsed + time_limit
    while clock.elapsed < end:
        try:
            if p.hold:
                yield from _music(it, p.hold_url or DEFAULT_HOLD_MUSIC, p.hold_method, end)
            elif (yield Wait(end - clock.elapsed)) is TIMEOUT:
                return
        except ConferenceEvent as exc:
            if exc.kind not in ("hold", "unhold"):
                raise


def _music(it: Interpreter, url: str | None, method: str, until: float | None = None) -> Step:
    """A wait or hold document (or Twilio's music, or silence for None) in a loop; only an
    interrupt (or `until`) ends it."""
    clock = it.sim.clock
    while until is None or clock.elapsed < until:
        started = clock.elapsed
        if url is None or url == DEFAULT_HOLD_MUSIC:
            if url is not None:
                it.call.log("play", url=url, loop=1, digits=None)
            yield it.timing.play(DEFAULT_HOLD_MUSIC) if url else Wait()
            continue
        wait_doc: Document | None = it.fetch(url, method)
        while wait_doc is not None:
            wait_doc = yield from it.run(wait_doc, CONFERENCE_WAIT_VERBS)
        if clock.elapsed - started < 1.0:
            yield 1.0 - (clock.elapsed - started)
