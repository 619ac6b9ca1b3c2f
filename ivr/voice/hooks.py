"""`CallPathHooks`: the connect room's `ivr.services.CallHooks`, carried out by the rooms above
it (transfers for a call a transfer holds and for the rollover of waiting calls, voice for the
flow's overflow step and for a call whose final status callback was lost). Wired into
`Services` by `ivr.bootstrap`."""

from __future__ import annotations

from ivr.calls.links import Link
from ivr.calls.live import LiveCall
from ivr.platform.db import Writer
from ivr.services import Services
from ivr.telephony.adapter import EndedCall
from ivr.transfers import events as transfer_events
from ivr.transfers import rollover
from ivr.voice import calls, reconcile


class CallPathHooks:
    def caller_hung_up(self, svc: Services, link: Link, now: float) -> None:
        transfer_events.caller_hung_up(svc, link, now)

    def participant_event(self, svc: Services, link: Link, event: str, leg: str,
                          now: float) -> None:
        transfer_events.participant_event(svc, link, event, leg, now)

    def overflow(self, svc: Services, conn: Writer, live: LiveCall, now: float) -> str:
        return calls.overflow(svc, conn, live, now)

    def ended_at_twilio(self, svc: Services, call: EndedCall, found: str) -> None:
        reconcile.end_as_twilio_did(svc, call, found)

    def waiting_tick(self, svc: Services, now: float) -> None:
        rollover.sweep(svc, now)
