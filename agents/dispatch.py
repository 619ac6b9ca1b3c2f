"""`Dispatcher`: the service layer the application calls when a call-taker acts on an offer
or ends a call. It makes the state change first (atomic, in Redis), then asks the phone network
to follow; the state logic itself never touches the network."""

from __future__ import annotations

from agents.model import Action, Presence, Reservation, State, TransitionRefused
from agents.routing import Router
from agents.telephony import Telephony, TelephonyError


class Dispatcher:
    def __init__(self, router: Router, telephony: Telephony) -> None:
        self.router = router
        self.agents = router.agents
        self.telephony = telephony

    def accept(self, reservation_id: str, now: float, agent_id: str | None = None) -> Reservation:
        """Accept the offer, then connect the call-taker with the caller (`bridge`), or dial
        the resident for a callback (`call_back`).

        When the network fails, the call-taker would sit on a call that does not exist: the
        call is ended (wrap-up follows, as for any call) and the `TelephonyError` re-raised
        for the application to report.
        """
        reservation = self.router.reservations.accept(reservation_id, now, agent_id)
        try:
            if reservation.callback:
                self.telephony.call_back(reservation)
            else:
                self.telephony.bridge(reservation)
        except TelephonyError:
            self.agents.end_call(reservation.agent_id, now, reservation.call_id)
            raise
        return reservation

    def hang_up(self, agent_id: str, now: float) -> Presence:
        """The call-taker ends their call from the console: the state changes (wrap-up),
        then the caller's leg is hung up."""
        current = self.agents.get(agent_id)
        if current is None or current.state != State.ON_CALL or current.call_id is None:
            state = current.state if current is not None else State.OFFLINE
            raise TransitionRefused(agent_id, Action.END_CALL, state)
        presence = self.agents.end_call(agent_id, now, current.call_id)
        self.telephony.hangup(current.call_id)
        return presence
