"""Checking what a request is made of: its errors, its fields, and the answers to its service's
questions. Pure functions (no SQL), shared by the phone, the console and the Open311 API.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ivr.platform.phones import normalize
from ivr.service_requests.catalogue import Attribute

DESCRIPTION_MAX = 4000
ANSWER_MAX = {"string": 255, "text": DESCRIPTION_MAX}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RequestError(ValueError):
    """A request cannot be made or changed as asked. `field` names the input at fault, and
    `message` says what is wrong with it; str() gives both ("email: not a valid email address")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidRequest(RequestError):
    pass


class UnknownService(RequestError):
    pass


class RequestNotFound(LookupError):
    pass


def validate_answers(questions: Sequence[Attribute],
                     answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check `answers` (code -> value or list of values) against `questions`; the clean answers.

    List answers are stored by key, numbers as numbers, datetimes in ISO 8601. Raises
    `InvalidRequest` (field ``attribute[code]``) for an unknown question, a value of the wrong kind,
    a key not in the list, or a required question left unanswered.
    """
    by_code = {q.code: q for q in questions if q.variable}
    clean: dict[str, Any] = {}
    for code, raw in answers.items():
        field = f"attribute[{code}]"
        question = by_code.get(code)
        if question is None:
            raise InvalidRequest(field, "not a question of this service")
        values = list(raw) if isinstance(raw, list | tuple) else [raw]
        values = [printable(str(v).strip(), field) for v in values
                  if v is not None and str(v).strip() != ""]
        if not values:
            continue
        if question.datatype != "multivaluelist" and len(values) > 1:
            raise InvalidRequest(field, "takes a single value")
        clean[code] = _answer(question, values, field)
    for question in by_code.values():
        if question.required and question.code not in clean:
            ask = f" ({question.description})" if question.description else ""
            raise InvalidRequest(f"attribute[{question.code}]", f"required{ask}")
    return clean


def _answer(question: Attribute, values: list[str], field: str) -> Any:
    kind = question.datatype
    if kind in ("singlevaluelist", "multivaluelist"):
        keys = [c.key for c in question.values]
        for value in values:
            if value not in keys:
                raise InvalidRequest(field, f"{value!r} is not one of {', '.join(keys)}")
        return values[0] if kind == "singlevaluelist" else list(dict.fromkeys(values))
    value = values[0]
    if kind == "number":
        try:
            number = float(value)
        except ValueError:
            raise InvalidRequest(field, f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise InvalidRequest(field, f"{value!r} is not a number")
        return int(number) if number.is_integer() else number
    if kind == "datetime":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
        except ValueError:
            raise InvalidRequest(field, f"{value!r} is not an ISO 8601 date and time") from None
    if len(value) > ANSWER_MAX[kind]:
        raise InvalidRequest(field, f"at most {ANSWER_MAX[kind]} characters")
    return value


def printable(value: str, field: str) -> str:
    # PostgreSQL refuses NUL in text, and XML cannot carry control characters at all.
    if CONTROL.search(value):
        raise InvalidRequest(field, "contains control characters")
    return value


def short(value: str | None, limit: int, field: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > limit:
        raise InvalidRequest(field, f"longer than {limit} characters")
    return value if value is None else printable(value, field)


def position(lat: Any, long: Any) -> tuple[float | None, float | None]:
    if lat in (None, "") and long in (None, ""):
        return None, None
    if lat in (None, "") or long in (None, ""):
        raise InvalidRequest("lat" if lat in (None, "") else "long", "lat and long go together")
    try:
        la, lo = float(lat), float(long)
    except (TypeError, ValueError):
        raise InvalidRequest("lat", "lat and long must be decimal degrees (WGS84)") from None
    if not (math.isfinite(la) and -90 <= la <= 90):
        raise InvalidRequest("lat", "must be between -90 and 90")
    if not (math.isfinite(lo) and -180 <= lo <= 180):
        raise InvalidRequest("long", "must be between -180 and 180")
    return la, lo


def callback(number: str | None, region: str) -> str | None:
    if not (number or "").strip():
        return None
    e164 = normalize(printable(number or "", "callback_number"), region)
    if not e164.startswith("+"):
        raise InvalidRequest("callback_number", "not a phone number")
    return e164


def email(value: str | None) -> str | None:
    value = short(value, 254, "email")
    if value is not None and not _EMAIL.match(value):
        raise InvalidRequest("email", "not a valid email address")
    return value


def url(value: str | None, field: str = "media_url") -> str | None:
    value = short(value, 1024, field)
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequest(field, "must be an http or https URL")
    return value
