"""What came back from a caller, checked field by field before the engine looks at it.

`Input` is filled from web forms and relayed events; the engine promises never to fail on it, so
every field is read defensively here, once: wrong types become "nothing", text is stripped, and
a non-finite confidence counts as absent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_RESULT_TEXT = 1000


@dataclass(frozen=True)
class Answer:
    event: str
    digits: str
    speech: str
    confidence: float | None
    recording_url: str
    recording_seconds: int | None
    result: dict[str, Any]

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
                   text("recording_url"), seconds, _result(getattr(raw, "result", None)))


def _result(raw: object) -> dict[str, Any]:
    """An app's answer as vars can hold it: field names that are var names, each text or text
    per language key; anything else is dropped (vars stay small, JSON-safe and speakable)."""
    if not isinstance(raw, Mapping):
        return {}
    found: dict[str, Any] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            continue
        if isinstance(value, Mapping):
            texts = {k: _text(v) for k, v in value.items() if isinstance(k, str)}
            found[name] = {k: v for k, v in texts.items() if v is not None}
        elif (clean := _text(value)) is not None:
            found[name] = clean
    return found


def _text(value: object) -> str | None:
    if value is None or isinstance(value, Mapping | list | tuple | set):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value).strip()[:MAX_RESULT_TEXT]
