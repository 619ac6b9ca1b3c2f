"""What came back from a caller, checked field by field before the engine looks at it.

`Input` is filled from web forms and relayed events; the engine promises never to fail on it, so
every field is read defensively here, once: wrong types become "nothing", text is stripped, and
a non-finite confidence counts as absent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    event: str
    digits: str
    speech: str
    confidence: float | None
    recording_url: str
    recording_seconds: int | None

    @classmethod
    def read(cls, raw: object) -> Answer:
        """Any object (an `Input`, or worse); missing fields are empty, the event "gather"."""

        def text(name: str) -> str:
            value = getattr(raw, name, None)
            return "" if value is None else str(value).strip()

        confidence: float | None
        try:
            confidence = float(getattr(raw, "confidence", None))  # type: ignore[arg-type]
            confidence = confidence if math.isfinite(confidence) else None
        except (TypeError, ValueError):
            confidence = None
        seconds: int | None
        try:
            seconds = int(getattr(raw, "recording_seconds", None))  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            seconds = None
        digits = text("digits").replace(" ", "")
        if len(digits) > 1 and digits.endswith("#"):
            digits = digits[:-1]  # the finish key, when the renderer passes it along
        return cls(text("event") or "gather", digits, text("speech"), confidence,
                   text("recording_url"), seconds)
