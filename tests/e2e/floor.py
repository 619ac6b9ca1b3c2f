"""A floor of call-takers for end-to-end tests: `ivr.demo.floor` on a test's `Center`."""

from __future__ import annotations

from ivr.demo.floor import ACCEPT, IGNORE, REJECT, Console
from ivr.demo.floor import Floor as _Floor

__all__ = ["ACCEPT", "IGNORE", "REJECT", "Console", "Floor"]


class Floor(_Floor):
    """The scripted floor on `center`'s services and emulator, ticking every virtual second."""

    def __init__(self, center, **options) -> None:  # type: ignore[no-untyped-def]
        super().__init__(center.services, center.sim, **options)
        self.center = center
