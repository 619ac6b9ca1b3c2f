"""Twilio's call queues (`<Enqueue>`), seen from the waiting caller's side.

A `TwilioQueue` is FIFO, like Twilio's: `QueuePosition` is the caller's place in *this* queue,
not in the app's priority order. While a caller waits, the `waitUrl` document plays in a loop:
it is requested again (with `QueueSid`, `QueuePosition`, `QueueTime`, `AvgQueueTime`,
`CurrentQueueSize`, `MaxQueueSize`) each time its verbs run out; a `<Gather>` action or a
`<Redirect>` inside it yields another wait document; `<Leave>` leaves at once.

The wait ends in one of these ways, each reported to the Enqueue `action` as `QueueResult`:
`leave`; `bridged` (a `<Dial><Queue>` took the caller; reported when the bridge ends);
`redirected` (a REST dequeue or a call redirect; the action is requested at once, its answer
ignored, and the call goes to the new URL); `redirected-from-bridged`; `hangup`;
`queue-full` (never enqueued). Without `action`, execution continues after `<Enqueue>`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ivr.sim.call import Bridge, CallInterrupt, HungUp, Redirected
from ivr.sim.clock import SimClock
from ivr.sim.scheduler import Process, Wait
from ivr.sim.twiml import (
    DEFAULT_HOLD_MUSIC,
    DEQUEUE_VERBS,
    WAIT_VERBS,
    Document,
    Enqueue,
    QueueNoun,
    resolve,
)

if TYPE_CHECKING:
    from ivr.sim.call import Call
    from ivr.sim.interpreter import Interpreter, Step

DEFAULT_MAX_SIZE = 1000
MAX_SIZE = 5000
MIN_WAIT_LOOP = 1.0  # a waitUrl document that takes no time is re-requested after this long


class LeaveQueue(Exception):
    """`<Leave>` ran in a wait document."""


class Dequeued(CallInterrupt):
    """A `<Dial><Queue>` on `agent` took this caller; `bridge` connects them once ready."""

    def __init__(self, agent: Call, noun: QueueNoun, doc_url: str, bridge: Bridge,
                 member: Member) -> None:
        super().__init__(agent.sid)
        self.agent = agent
        self.noun = noun
        self.doc_url = doc_url
        self.bridge = bridge
        self.member = member

    def relevant(self) -> bool:
        return self.member.call.queue_member is self.member  # still in its <Enqueue>


class Member:
    """A call waiting in a queue. `active` until something takes it out."""

    __slots__ = (
        "call", "queue", "ticket", "enqueued_t", "left_t", "active", "bridged", "taken_by",
    )

    def __init__(self, call: Call, queue: TwilioQueue, ticket: int, t: float) -> None:
        self.call = call
        self.queue = queue
        self.ticket = ticket
        self.enqueued_t = t
        self.left_t: float | None = None
        self.active = True
        self.bridged = False
        self.taken_by: Process | None = None  # the <Dial><Queue> that took this caller

    def wait_time(self, now: float) -> int:
        """Whole seconds spent in the queue (until it left, if it has)."""
        return int((self.left_t if self.left_t is not None else now) - self.enqueued_t)

    def position(self) -> int:
        """1-based FIFO position (0 once out of the queue)."""
        return self.queue.position(self) if self.active else 0


class TwilioQueue:
    """One named queue: FIFO members, size limit, and the `<Dial><Queue>` callers waiting on it."""

    def __init__(self, sid: str, name: str, max_size: int, t: float) -> None:
        self.sid = sid
        self.friendly_name = name
        self.max_size = max_size
        self.created_t = t
        self.updated_t = t
        self._tickets: list[int] = []  # sorted; a member's position is a bisect
        self._by_ticket: dict[int, Member] = {}
        self._by_call: dict[str, Member] = {}
        self._next_ticket = 0
        self._sum_enqueued_t = 0.0
        self.waiters: deque[Process] = deque()

    def __len__(self) -> int:
        return len(self._tickets)

    @property
    def full(self) -> bool:
        return len(self._tickets) >= self.max_size

    def push(self, call: Call, now: float) -> Member:
        member = Member(call, self, self._next_ticket, now)
        self._next_ticket += 1
        self._tickets.append(member.ticket)  # tickets only grow: appending keeps the order
        self._by_ticket[member.ticket] = member
        self._by_call[call.sid] = member
        self._sum_enqueued_t += now
        self.updated_t = now
        while self.waiters:  # a <Dial><Queue> was waiting for someone to arrive
            if self.waiters.popleft().resume(member):
                self.remove(member, now)
                break
        return member

    def remove(self, member: Member, now: float) -> None:
        if not member.active:
            return
        member.active = False
        member.left_t = now
        i = bisect_left(self._tickets, member.ticket)
        del self._tickets[i]
        del self._by_ticket[member.ticket]
        del self._by_call[member.call.sid]
        self._sum_enqueued_t -= member.enqueued_t
        self.updated_t = now

    def position(self, member: Member) -> int:
        return bisect_left(self._tickets, member.ticket) + 1

    def front(self) -> Member | None:
        return self._by_ticket[self._tickets[0]] if self._tickets else None

    def member(self, call_sid: str) -> Member | None:
        return self._by_call.get(call_sid)

    def members(self) -> list[Member]:
        return [self._by_ticket[t] for t in self._tickets]

    def average_wait(self, now: float) -> int:
        """Average seconds the current members have waited (Twilio's `AvgQueueTime`)."""
        n = len(self._tickets)
        return int(now - self._sum_enqueued_t / n) if n else 0

    def wait_params(self, member: Member, now: float) -> dict[str, str]:
        return {
            "QueueSid": self.sid, "QueuePosition": str(self.position(member)),
            "QueueTime": str(member.wait_time(now)), "AvgQueueTime": str(self.average_wait(now)),
            "CurrentQueueSize": str(len(self)), "MaxQueueSize": str(self.max_size),
        }


class Queues:
    """The account's queues, by sid and by friendly name."""

    def __init__(self, new_sid: Callable[[str], str], clock: SimClock) -> None:
        self._new_sid = new_sid
        self._clock = clock
        self.by_sid: dict[str, TwilioQueue] = {}
        self.by_name: dict[str, TwilioQueue] = {}

    def create(self, name: str, max_size: int = DEFAULT_MAX_SIZE) -> TwilioQueue:
        q = TwilioQueue(self._new_sid("QU"), name, max_size, self._clock.elapsed)
        self.by_sid[q.sid] = q
        self.by_name[name] = q
        return q

    def get_or_create(self, name: str) -> TwilioQueue:
        q = self.by_name.get(name)
        return q if q is not None else self.create(name)

    def redirect_member(self, member: Member, url: str, method: str) -> None:
        """REST dequeue: the member leaves now; its call fetches `url` (QueueResult=redirected)."""
        member.queue.remove(member, self._clock.elapsed)
        if member.call.process is not None:
            member.call.process.interrupt(Redirected(url, method))


# --- the Enqueue verb ---------------------------------------------------------------------------


def enqueue(it: Interpreter, verb: Enqueue, doc: Document) -> Step:
    call, clock = it.call, it.sim.clock
    if len(verb.name) > 64:
        call.log("warning", code=12200, message="a queue name is at most 64 characters")
    q = it.sim.queues.get_or_create(verb.name)
    if verb.max_queue_size:
        q.max_size = max(1, min(verb.max_queue_size, MAX_SIZE))
    action = resolve(doc, verb.action) if verb.action else None
    if q.full:
        call.log("warning", code=14207, message=f"queue {verb.name!r} is full")
        call.log("queue_full", queue=verb.name)
        return _report(it, verb, action, {"QueueResult": "queue-full"})
    member = q.push(call, clock.elapsed)
    call.queue_member = member
    call.log("enqueued", queue=verb.name, queue_sid=q.sid, position=member.position())
    try:
        try:
            yield from _wait(it, member, verb, doc)
            result = "leave"
            call.log("left", queue=verb.name, waited=member.wait_time(clock.elapsed))
        except Dequeued as exc:
            yield from _dequeued(it, member, exc)
            result = "bridged"
    except CallInterrupt as exc:
        if isinstance(exc, Redirected):
            result = "redirected-from-bridged" if member.bridged else "redirected"
        else:
            result = "bridged" if member.bridged else "hangup"
            call.set_status("completed")  # the action request of a call that has ended
        _finish(call, member, clock.elapsed)
        _report(it, verb, action, _result(member, result, clock.elapsed))  # answer ignored
        raise
    _finish(call, member, clock.elapsed)
    return _report(it, verb, action, _result(member, result, clock.elapsed))


def _finish(call: Call, member: Member, now: float) -> None:
    member.queue.remove(member, now)
    if member.taken_by is not None and not member.bridged:
        member.taken_by.resume("failed")  # a <Dial><Queue> took a caller who is gone
    if call.queue_member is member:
        call.queue_member = None
        call.queue_time += member.wait_time(now)


def _result(member: Member, result: str, now: float) -> dict[str, str]:
    return {"QueueResult": result, "QueueSid": member.queue.sid,
            "QueueTime": str(member.wait_time(now))}


def _report(it: Interpreter, verb: Enqueue, action: str | None,
            params: dict[str, str]) -> Document | None:
    return it.fetch(action, verb.method, params) if action else None


def _wait(it: Interpreter, member: Member, verb: Enqueue, doc: Document) -> Step:
    """The wait-music loop; returns on `<Leave>`, otherwise ends by an interrupt."""
    clock, q = it.sim.clock, member.queue
    url = resolve(doc, verb.wait_url) if verb.wait_url else None
    wait_doc: Document | None = None
    while True:
        if not member.active:
            yield Wait()  # whoever took the caller out interrupts this wait
            continue
        started = clock.elapsed
        if url is None:  # Twilio's default hold music
            it.call.log("play", url=DEFAULT_HOLD_MUSIC, loop=1, digits=None)
            yield it.timing.play(DEFAULT_HOLD_MUSIC)
            continue
        if wait_doc is None:
            wait_doc = it.fetch(url, verb.wait_url_method, q.wait_params(member, clock.elapsed))
        try:
            wait_doc = yield from it.run(wait_doc, WAIT_VERBS)
        except LeaveQueue:
            return None
        if wait_doc is None and clock.elapsed - started < MIN_WAIT_LOOP:
            yield MIN_WAIT_LOOP - (clock.elapsed - started)


def _dequeued(it: Interpreter, member: Member, d: Dequeued) -> Step:
    """The caller's side of a `<Dial><Queue>`: hear the `url` document, then talk."""
    call, clock, q = it.call, it.sim.clock, member.queue
    call.log("dequeued", queue=q.friendly_name, by=d.agent.sid)
    agent = d.agent.process
    try:
        if d.noun.url:
            doc: Document | None = it.fetch(
                resolve(Document((), d.doc_url), d.noun.url), d.noun.method,
                {"QueueSid": q.sid, "CallSid": call.sid, "DequeingCallSid": d.agent.sid,
                 "QueueTime": str(member.wait_time(clock.elapsed))},
            )
            while doc is not None:
                doc = yield from it.run(doc, DEQUEUE_VERBS)
    except CallInterrupt:
        if agent is not None:
            agent.resume("failed")
        raise
    if d.bridge.ended:  # the agent went away meanwhile: the caller goes on with its TwiML
        return None
    proc = call.process
    d.bridge.notify[call.sid] = lambda: proc is not None and proc.resume("ended")
    d.bridge.start()
    member.bridged = True
    if agent is not None:
        agent.resume("bridged")
    try:
        yield Wait()  # until the agent's side ends the bridge
    except (HungUp, Redirected):
        d.bridge.end(call)
        raise
    return None
