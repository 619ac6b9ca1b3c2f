"""An offline Twilio for tests, the demo and load runs: see `ivr/sim/README.md`.

Nothing here imports the app: the emulator reaches it over a `Transport`, as Twilio would.
"""

from ivr.sim.call import Call, Event
from ivr.sim.callers import (
    Caller,
    Party,
    Window,
    answers,
    busy,
    fails,
    hangup,
    no_answer,
    press,
    record,
    say,
    silence,
    wait,
)
from ivr.sim.clock import SimClock, Timing
from ivr.sim.emulator import Emulator, NumberConfig
from ivr.sim.status import StatusPolicy
from ivr.sim.transport import HTTPTransport, Response, Transport, WSGITransport
from ivr.sim.webhooks import sign

__all__ = [
    "Call", "Caller", "Emulator", "Event", "HTTPTransport", "NumberConfig", "Party", "Response",
    "SimClock", "StatusPolicy", "Timing", "Transport", "WSGITransport", "Window", "answers",
    "busy", "fails", "hangup", "no_answer", "press", "record", "say", "sign", "silence", "wait",
]
