"""How values cross to and from the Lua scripts (both reply types: bytes from a plain client,
str from one with ``decode_responses=True``)."""

from __future__ import annotations

import math
from typing import Any


def time_arg(now: float) -> str:
    """A time as sent to Lua: repr round-trips every bit of the double."""
    value = float(now)
    if not math.isfinite(value):
        raise ValueError("time must be a finite number of epoch seconds")
    return repr(value)


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
