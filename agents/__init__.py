"""Call-takers: presence and its state machine, routing of waiting calls, reservations.

The public surface: `Agents` (presence), `Router` (matching, with its `Reservations`),
`Dispatcher` (the service layer over a `Telephony`), and the values in `agents.model`.
Depends on queues/ (never the reverse); knows nothing of Flask, SQL or Twilio.
"""

from agents.dispatch import Dispatcher
from agents.model import (
    TRANSITIONS,
    Action,
    AgentError,
    CallerGone,
    OfferClosed,
    Presence,
    Reservation,
    Rules,
    State,
    TransitionRefused,
)
from agents.presence import Agents
from agents.reservations import Reservations
from agents.routing import Router, Tick
from agents.telephony import CallEnded, Telephony, TelephonyError

__all__ = [
    "TRANSITIONS",
    "Action",
    "AgentError",
    "Agents",
    "CallEnded",
    "CallerGone",
    "Dispatcher",
    "OfferClosed",
    "Presence",
    "Reservation",
    "Reservations",
    "Router",
    "Rules",
    "State",
    "Telephony",
    "TelephonyError",
    "Tick",
    "TransitionRefused",
]
