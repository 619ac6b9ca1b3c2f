"""Phone numbers: E.164 normalisation and masking for logs.

Twilio sends E.164 for real numbers but anonymous or short-code callers arrive as words
(``anonymous``, ``+266696687``) or short codes (``311``); those are kept as they are, never guessed.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=4096)
def normalize(number: str, region: str = "US") -> str:
    """E.164 form of `number` when it parses as a possible number, else the stripped input."""
    raw = (number or "").strip()
    if not raw or not any(ch.isdigit() for ch in raw):
        return raw
    if raw.isdigit() and len(raw) <= 6:
        return raw  # short codes such as 311 or 911
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(parsed):
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str, key: str) -> str:
    """What logs may show of a caller's number: a short keyed hash and the last two digits.

    The hash lets an operator follow one caller through the logs without the logs holding the
    number itself. It is an HMAC under the center's log key (``IVR_LOG_KEY``, see
    `ivr.platform.config.log_key`): without the key a mask cannot be reversed by trying every
    number of an area code, and the logs of two centers cannot be joined on it.
    """
    if not number:
        return "-"
    digest = hmac.new(key.encode(), number.encode(), hashlib.sha256).hexdigest()[:12]
    return f"#{digest}..{number[-2:]}"
