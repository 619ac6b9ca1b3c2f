"""Scripted warm transfers in `ivr demo`: some 311 calls turn out to be emergencies.

A share of the 311 calls a scripted call-taker takes (gas smell, wires down) are warm-transferred to
the county's 911 dispatch center, as a call-taker does from the console: `after` seconds into the
call they start the transfer (the caller on hold, the dispatch line dialed into the call's
conference), brief the dispatcher for `briefing` seconds once the line answers, then complete (they
leave; caller and dispatcher stay). The dispatch line is an emulator party. The transfer goes
through the real `ivr.transfers.actions`, so it is recorded, handed off (EIDO, outbox) and counted
on the wallboard like any other; a transfer the network refuses, or whose call-taker's phone hung up
first, ends as the app decides, and is counted here by its final state.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from agents import TelephonyError
from ivr.services import Services
from ivr.sim import Emulator, answers
from ivr.transfers import actions as transfers
from ivr.transfers.records import LIVE

log = logging.getLogger("ivr.demo")

CENTER = "county-911"
NUMBER = "+14435550999"

# The demo's dispatch center (merged into the demo's settings by `configure`).
DISPATCH = {CENTER: {"label": "County 911 dispatch", "number": NUMBER,
                     "agency": "psap.county.example"}}
NOTES = ("Caller smells gas in the basement", "Wires down across the road, sparking",
         "Water main break flooding the street", "Person hurt by a falling branch")


def configure(raw: dict[str, Any]) -> dict[str, Any]:
    """The demo's settings with its dispatch center added."""
    return {**raw, "dispatch_centers": {**(raw.get("dispatch_centers") or {}), **DISPATCH}}


@dataclass
class ScriptedTransfers:
    """An `on_call_started` hook of the demo's floor (see `ivr.demo.floor.Floor`)."""

    svc: Services
    sim: Emulator
    share: float = 0.03
    after: float = 20.0
    briefing: float = 15.0
    seed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        # The dispatcher answers within seconds and stays with the caller for a few minutes.
        self.sim.on_dial(NUMBER, answers(after=6, hangup_after=240))

    def __call__(self, agent: str, call_id: str, now: float) -> None:
        live = self.svc.live.get(call_id)
        if live is None or live.line != "311" or self.rng.random() >= self.share:
            return
        self.sim.sched.call_later(self.after, self._start, agent, call_id)

    def _start(self, agent: str, call_id: str) -> None:
        try:
            with self.sim.sched.unlocked():  # the app's REST requests need the emulator's lock
                transfers.start_warm(self.svc, call_id, agent, CENTER,
                                     note=self.rng.choice(NOTES))
        except (transfers.TransferRefused, TelephonyError) as exc:
            code = getattr(exc, "code", "network")
            self.outcomes[f"not started ({code})"] += 1
            log.warning("demo transfer of %s not started: %s", call_id, exc)
            return
        self.outcomes["started"] += 1
        self._watch(agent, call_id, 0)

    def _watch(self, agent: str, call_id: str, waited: int) -> None:
        t = transfers.current(self.svc, call_id)
        if t is None:
            return
        if t.state == "briefing":
            self.sim.sched.call_later(self.briefing, self._complete, agent, call_id)
        elif t.state in LIVE and waited < 120:
            self.sim.sched.call_later(1.0, self._watch, agent, call_id, waited + 1)
        else:
            self.outcomes[t.state] += 1

    def _complete(self, agent: str, call_id: str) -> None:
        try:
            with self.sim.sched.unlocked():
                done = transfers.complete(self.svc, call_id, agent)
        except transfers.TransferRefused:
            t = transfers.current(self.svc, call_id)
            self.outcomes[t.state if t is not None else "gone"] += 1
            return
        self.outcomes[done.state] += 1
