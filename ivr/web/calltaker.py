"""What the console's faces know of the signed-in call-taker: their presence, the offer ringing
at their desk, the call they are on."""

from __future__ import annotations

from typing import Any

from agents.model import Presence, State
from ivr.accounts.accounts import Account
from ivr.calls import callview
from ivr.web.errors import ApiError
from ivr.web.kit import current_services


def presence_of(account: Account) -> Presence:
    found = current_services().agents.get(account.login)
    return found if found is not None else Presence(account.login, State.OFFLINE, 0.0)


def offer_of(presence: Presence) -> dict[str, Any] | None:
    """The offer ringing at this call-taker's desk, as the console shows it (None if none)."""
    if presence.state != State.RESERVED or not presence.reservation_id:
        return None
    svc = current_services()
    reservation = svc.router.reservations.get(presence.reservation_id)
    if reservation is None:
        return None
    with svc.engine.connect() as conn:
        return callview.describe_offer(conn, reservation, svc.clock().timestamp())


def on_call(account: Account) -> str:
    """The call this call-taker is on; 409 ``no_active_call`` when none."""
    presence = presence_of(account)
    if presence.state != State.ON_CALL or not presence.call_id:
        raise ApiError(409, "no_active_call", f"{account.login} is not on a call",
                       state=presence.state.value)
    return presence.call_id
