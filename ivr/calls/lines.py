"""Which line a call reached: the dialed number picks it; an unknown one gets the default line."""

from __future__ import annotations

from ivr.platform.config import Line, Settings
from ivr.platform.phones import normalize


class LineDirectory:
    def __init__(self, settings: Settings) -> None:
        self._default = settings.lines[settings.default_line]
        self._by_number: dict[str, Line] = {}
        self._region = settings.default_region
        for line in settings.lines.values():
            for number in line.numbers:
                self._by_number[normalize(number, self._region)] = line
        self.lines = dict(settings.lines)

    def for_number(self, dialed: str) -> Line:
        return self._by_number.get(normalize(dialed, self._region), self._default)

    def numbers(self) -> frozenset[str]:
        """Every number (E.164 or short code) a line answers on."""
        return frozenset(self._by_number)

    def get(self, name: str) -> Line | None:
        return self.lines.get(name)
