"""`Telephony`: the only way agents/ drives the phone network.

The application supplies the implementation (a Twilio REST adapter; the offline emulator is
reached through that same adapter). agents/ never imports it, and its state logic (presence,
routing, reservations) never calls it: only `agents.dispatch.Dispatcher` does, after a state
change has been made, so that every state change stays testable without a phone network.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents.model import Reservation


class TelephonyError(Exception):
    """The network refused or failed an operation (the caller is gone, the call-taker's phone
    did not answer, the REST call failed after its retries)."""


class CallEnded(TelephonyError):
    """The caller's call is over (Twilio knows no such live call): there is nothing to bridge,
    and the call must be closed, not put back in line."""


@runtime_checkable
class Telephony(Protocol):
    """Connects callers and call-takers. The whole contract:

    `bridge(reservation)`: the caller of ``reservation.call_id`` is waiting in the queue on
    the line; take that exact caller out of it into a conference named for the call id and
    dial the call-taker ``reservation.agent_id`` into the same conference. Called once the
    call-taker accepted (their state is already ``on_call``).

    `call_back(reservation)`: ``reservation.callback`` is true: the caller hung up and asked
    to be called back (``reservation.entry.data`` holds what the application stored with the
    call, such as the number to dial). Dial the resident and the call-taker into a conference
    named for the call id.

    `hangup(call_id)`: end the caller's leg of `call_id` (the call-taker ended the call from
    the console). Hanging up a call that already ended is not an error.

    Each method returns once the network accepted the request, not when the call is
    answered; progress comes back through the application's status callbacks. Each raises
    `TelephonyError` when the request fails. Implementations must be safe to call from any
    process (they hold no routing state).
    """

    def bridge(self, reservation: Reservation) -> None: ...

    def call_back(self, reservation: Reservation) -> None: ...

    def hangup(self, call_id: str) -> None: ...
