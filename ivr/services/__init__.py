"""`Services`: what every handler of a call is given, wired once per process by
`ivr.bootstrap`: the settings, the stores (Redis, SQL), the live state of calls, the queues and
call-takers, the phone network and the clock.

This room stands between the domains (flows, service requests, floor, accounts, connect and
everything above) and the rooms whose parts it carries (calls, telephony, platform). It also
declares the two seams through which lower rooms reach upper ones without importing them:

* `FlowSource`: the flows a call runs, by name and version (the flows room implements it over
  SQL; tests may use the in-memory `FlowStore`);
* `CallHooks`: what the connect room needs from the rooms above it when a caller hangs up
  while a transfer holds the call, when a conference participant event arrives during a
  transfer, when a caller going back in line finds the queue full, and when a call Twilio
  has ended turns up live here (its final callback lost). `ivr.voice.hooks` implements it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from twilio.request_validator import RequestValidator

from agents.presence import Agents
from agents.routing import Router
from callflows.model import Flow
from ivr.calls.lines import LineDirectory
from ivr.calls.links import Link, Links
from ivr.calls.live import LiveCall, LiveCalls
from ivr.platform.clock import Clock
from ivr.platform.config import Settings
from ivr.platform.db import Writer
from ivr.telephony.adapter import EndedCall, TwilioTelephony
from queues import Queues


class FlowSource(Protocol):
    """The flows calls run. A call keeps the version it started with, so a call in progress
    asks for its own (name, version); a new call asks for the live version of its flow."""

    def get(self, name: str, version: int) -> Flow: ...

    def live(self, name: str) -> tuple[Flow, int]: ...


class CallHooks(Protocol):
    """What connecting a caller with a call-taker needs from the rooms above it (see the
    module docstring). Each is called at most once per event, by the first process to learn
    of it."""

    def caller_hung_up(self, svc: Services, link: Link, now: float) -> None:
        """The caller's leg ended while a transfer held the link."""

    def participant_event(self, svc: Services, link: Link, event: str, leg: str,
                          now: float) -> None:
        """A ``participant-join`` or ``-leave`` of the call's conference while a transfer
        holds the link."""

    def overflow(self, svc: Services, conn: Writer, live: LiveCall, now: float) -> str:
        """The caller went back in line and the class was full: the flow's overflow step,
        recorded in `conn`; returns its TwiML."""

    def ended_at_twilio(self, svc: Services, call: EndedCall, found: str) -> None:
        """Twilio says the call is over but its final status callback never came: end it here
        through that callback's own code, and record the repair (`found`: where)."""

    def waiting_tick(self, svc: Services, now: float) -> None:
        """Once a second, after routing: what the rooms above do with calls still waiting
        (a line's rollover to an alternate PSAP)."""


@dataclass
class Services:
    settings: Settings
    redis: redis.Redis
    engine: Engine
    sessions: sessionmaker[Session]
    flows: FlowSource
    lines: LineDirectory
    live: LiveCalls
    queues: Queues
    agents: Agents
    router: Router
    validator: RequestValidator
    clock: Clock
    links: Links  # accepted offers until their call is over (ivr.calls.links)
    telephony: TwilioTelephony  # the phone network, by REST (ivr.telephony.adapter)
    hooks: CallHooks  # connect's way up to voice and transfers (ivr.voice.hooks)
