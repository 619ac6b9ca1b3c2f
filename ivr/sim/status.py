"""Status callbacks: what Twilio tells the app about a call's progress, and when it arrives.

A callback is built at the moment of its event (`CallStatus`, `Timestamp` and `SequenceNumber`
are those of the event) and delivered by the scheduler, never inside a REST request.
Twilio does not promise order or single delivery, so neither does the emulator when asked:

- `StatusPolicy(delay=s)` delivers every callback `s` virtual seconds late,
- `duplicate=True` delivers each twice (same parameters, same idempotency token),
- `shuffle=True` holds a call's callbacks until its `completed` event and delivers them
  in a random (seeded) order, `completed` often first,
- `hold=True` keeps them until a test calls `Emulator.deliver_status(call, ...)`,
- `lose=p` loses each callback with probability `p` (1.0: every one; drawn from a generator
  seeded with `seed`, so a run repeats), only those of `lose_events` when that is given
  (``lose=1.0, lose_events={"completed"}``: every final callback is lost).

A lost callback is never sent; so is one that could not be delivered (the app's host down, no
answer in time): Twilio does not retry status callbacks. Both are in `StatusCallbacks.lost`, in
the emulator's fault log (`Emulator.faults`, kind ``status_lost``) and in the call's transcript
(``status_lost``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import TYPE_CHECKING

from ivr.sim.transport import TransportError

if TYPE_CHECKING:
    from ivr.sim.call import Call
    from ivr.sim.emulator import Emulator


@dataclass
class StatusPolicy:
    delay: float = 0.0
    duplicate: bool = False
    shuffle: bool = False
    hold: bool = False
    seed: int = 0
    lose: float = 0.0
    lose_events: frozenset[str] = frozenset()  # empty: any event may be lost

    def __post_init__(self) -> None:
        if not 0.0 <= self.lose <= 1.0:
            raise ValueError(f"StatusPolicy.lose is a probability, not {self.lose}")
        self.lose_events = frozenset(self.lose_events)


@dataclass
class StatusCallback:
    call: Call | None  # None for a conference event
    event: str
    url: str
    method: str
    params: dict[str, str]
    token: str
    deliveries: list[int | None] = field(default_factory=list)  # HTTP statuses, None: no answer
    lost: str | None = None  # why it never reached the app ("policy", a transport error)


# The CallStatus Twilio reports with each call progress event.
_EVENT_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}


class StatusCallbacks:
    """Builds, schedules and delivers status callbacks (see the module docstring)."""

    def __init__(self, sim: Emulator, policy: StatusPolicy) -> None:
        self.sim = sim
        self.policy = policy
        self.rng = random.Random(policy.seed)
        # Apart from `rng`: losing callbacks leaves the tokens and shuffles of a run as they were.
        self._lose_rng = random.Random(f"lose-{policy.seed}")
        self.held: list[StatusCallback] = []
        self.lost: list[StatusCallback] = []
        self._buffered: dict[str, list[StatusCallback]] = {}

    def emit(self, call: Call, event: str) -> None:
        """`call` reached `event` (initiated, ringing, answered, completed) just now."""
        hook = call.webhook
        if not hook.status_callback or event not in hook.status_callback_events:
            return
        params = call.params()
        params["CallStatus"] = _EVENT_STATUS.get(event, call.status)
        if event == "completed":
            params["CallDuration"] = str(call.duration)
        params.update(self._stamp(call.sequence))
        call.sequence += 1
        cb = StatusCallback(call, event, hook.status_callback, hook.status_callback_method, params,
                            f"{self.rng.getrandbits(128):032x}")
        self._route(cb, call.sid, final=event == "completed")

    def emit_conference(self, url: str, method: str, event: str, params: dict[str, str],
                        sequence: int) -> None:
        """A conference status event (conference-start, participant-join, ...)."""
        stamp = self._stamp(sequence)
        del stamp["CallbackSource"]  # that one is for call progress events
        params = {**params, "StatusCallbackEvent": event, **stamp}
        cb = StatusCallback(None, event, url, method, params, f"{self.rng.getrandbits(128):032x}")
        self._route(cb, None, final=True)

    def emit_recording(self, url: str, method: str, event: str, params: dict[str, str]) -> None:
        """A recording status event (in-progress, completed, absent): no sequence number."""
        cb = StatusCallback(None, event, url, method, dict(params),
                            f"{self.rng.getrandbits(128):032x}")
        self._route(cb, None, final=True)

    def _stamp(self, sequence: int) -> dict[str, str]:
        return {
            "Timestamp": format_datetime(self.sim.clock.now()),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(sequence),
        }

    def _loses(self, cb: StatusCallback) -> bool:
        policy = self.policy
        if policy.lose <= 0.0 or (policy.lose_events and cb.event not in policy.lose_events):
            return False
        return policy.lose >= 1.0 or self._lose_rng.random() < policy.lose

    def _route(self, cb: StatusCallback, sid: str | None, final: bool) -> None:
        policy = self.policy
        if self._loses(cb):
            cb.lost = "policy"  # it still takes its place in the timing: lost on delivery
        if policy.hold:
            self.held.append(cb)
            return
        if policy.shuffle and sid is not None:
            batch = self._buffered.setdefault(sid, [])
            batch.append(cb)
            if not final:
                return
            del self._buffered[sid]
            self.rng.shuffle(batch)
        else:
            batch = [cb]
        for item in batch:
            for _ in range(2 if policy.duplicate else 1):
                self.sim.sched.call_later(policy.delay, self.deliver, item)

    def deliver(self, cb: StatusCallback) -> int | None:
        """Send one callback now; returns the app's HTTP status (None if it could not answer
        or the callback is lost)."""
        if cb.lost == "policy":
            self._record_loss(cb)
            return None
        status: int | None
        try:
            status = self.sim.webhooks.send(cb.method, cb.url, cb.params, cb.token).status
        except TransportError as exc:
            status = None
            cb.lost = cb.lost or str(exc)
            self._record_loss(cb)
        cb.deliveries.append(status)
        if cb.call is not None:
            cb.call.log("status_callback", event=cb.event, url=cb.url, status=status,
                        sequence=int(cb.params.get("SequenceNumber", -1)), params=cb.params)
            if status is None or not 200 <= status < 300:
                cb.call.log("warning", code=15003, message=f"status callback got {status}")
        return status

    def _record_loss(self, cb: StatusCallback) -> None:
        if any(x is cb for x in self.lost):
            return  # a duplicate of a callback already lost
        self.lost.append(cb)
        sequence = int(cb.params.get("SequenceNumber", -1))
        self.sim.faults.record(self.sim.clock.elapsed, "status_lost", event=cb.event, url=cb.url,
                               call_sid=cb.params.get("CallSid"), sequence=sequence,
                               conference_sid=cb.params.get("ConferenceSid"), reason=cb.lost)
        if cb.call is not None:
            cb.call.log("status_lost", event=cb.event, url=cb.url, sequence=sequence,
                        reason=cb.lost)

    def pending(self, call: Call | None = None) -> list[StatusCallback]:
        """Held callbacks (policy `hold`), of one call or all."""
        return [cb for cb in self.held if call is None or cb.call is call]

    def release(self, call: Call | None, event: str | None, duplicate: bool) -> int:
        """Deliver held callbacks (of `call`, of `event`) now; returns how many were sent."""
        chosen = [cb for cb in self.pending(call) if event is None or cb.event == event]
        for cb in chosen:
            self.held.remove(cb)
            for _ in range(2 if duplicate else 1):
                self.deliver(cb)
        return len(chosen)
