"""A recording `Telephony` for tests (the real one is the app's Twilio adapter)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agents import Reservation, TelephonyError


@dataclass
class RecordingTelephony:
    """Records every request; `fail` makes the next requests raise `TelephonyError`."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    def _record(self, what: str, call_id: str) -> None:
        self.calls.append((what, call_id))
        if self.fail:
            raise TelephonyError(f"{what} {call_id}: the network said no")

    def bridge(self, reservation: Reservation) -> None:
        self._record("bridge", reservation.call_id)

    def call_back(self, reservation: Reservation) -> None:
        self._record("call_back", reservation.call_id)

    def hangup(self, call_id: str) -> None:
        self._record("hangup", call_id)
