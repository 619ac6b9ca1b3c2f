"""Callers who give up in line: each has a patience, counted from the moment they joined a
Twilio queue; once it is spent they hang up, if they are still waiting there (a caller already
talking to a call-taker never hangs up on this timer). A caller still in the menus is looked
at again a few seconds later.

    patience = Patience(sim, until=600)        # everyone still waiting at 600 s hangs up
    call = sim.place_call(caller, at=t)
    patience.watch(call, seconds=180, first_look=t + 1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr.sim.call import Call
    from ivr.sim.emulator import Emulator

RECHECK = 5.0  # seconds between looks at a caller still in the menus


class Patience:
    """`until`: a virtual time when every caller still waiting hangs up (the end of a storm);
    a caller still in the menus then hangs up at the first look after joining a queue."""

    def __init__(self, sim: Emulator, until: float | None = None) -> None:
        self.sim = sim
        self.until = until
        self.hangups = 0

    def watch(self, call: Call, seconds: float, first_look: float) -> None:
        self.sim.sched.call_at(first_look, self._look, call, seconds)

    def _look(self, call: Call, seconds: float) -> None:
        if call.ended:
            return
        member = call.queue_member
        now = self.sim.clock.elapsed
        if member is not None and member.active:
            due = member.enqueued_t + seconds
            if self.until is not None:
                due = min(due, max(self.until, now))
            if now >= due:
                self.hangups += 1
                self.sim.hangup(call, "caller")
            else:
                self.sim.sched.call_at(due, self._look, call, seconds)
        elif not call.events("enqueued"):  # still in the menus (or leaving a message)
            self.sim.sched.call_later(RECHECK, self._look, call, seconds)
