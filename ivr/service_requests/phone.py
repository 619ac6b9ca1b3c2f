"""The app's answers to the 311 flow's `request_status` lookup and `service_request` submit.

A caller checks a request by the digits of its number and hears its status, expected date and
latest public note in their own language; or files a request with the service's answers, the
recording of the address they spoke and a callback number, and hears the new number. Either way
the call is linked to the request (`ivr.service_requests.links`).

The spoken words come back as text per language key (``{"en": "open", "es": "abierta"}``), so the
flow speaks the caller's language; dates are written out here, not by the locale of the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from ivr.service_requests.forwarding import Forward
from ivr.service_requests.links import link
from ivr.service_requests.models import ServiceRequest, utc
from ivr.service_requests.service import create_request, find_by_digits, phone_digits

STATUS_WORDS = {"open": {"en": "open", "es": "abierta"},
                "closed": {"en": "closed", "es": "cerrada"}}
_DAYS = {"en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
         "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")}
_MONTHS = {"en": ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December"),
           "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                  "septiembre", "octubre", "noviembre", "diciembre")}
ATTRIBUTE = "attribute:"
PHONE_DESCRIPTION = "Reported by phone. The address is in the caller's recording."


@dataclass(frozen=True)
class PhoneCall:
    """What the answers need of the call asking: its id (None for a supervisor's trial call of a
    draft flow, which leaves no link), the time, and the center's settings."""

    sid: str | None
    at: datetime
    tz: tzinfo
    region: str
    forward: Forward | None = None  # the city's Open311 server, when new requests go there too


def spoken_date(moment: datetime, tz: tzinfo) -> dict[str, str]:
    """A date as a caller hears it: "Monday, November 23", "lunes 23 de noviembre"."""
    local = utc(moment).astimezone(tz)
    day, month = local.weekday(), local.month - 1
    return {"en": f"{_DAYS['en'][day]}, {_MONTHS['en'][month]} {local.day}",
            "es": f"{_DAYS['es'][day]} {local.day} de {_MONTHS['es'][month]}"}


def status_result(request: ServiceRequest, tz: tzinfo) -> dict[str, Any]:
    """The fields the status prompts speak: `status`, `expected` (an open request's expected
    date, else empty) and `note` (the latest public note, as its author wrote it)."""
    expected: Any = ""
    if request.status == "open" and request.expected_at is not None:
        expected = spoken_date(request.expected_at, tz)
    return {"number": request.number or "", "status": STATUS_WORDS.get(request.status,
                                                                       request.status),
            "expected": expected, "note": request.status_notes or ""}


def request_status(session: Session, call: PhoneCall,
                   args: Mapping[str, str]) -> dict[str, Any] | None:
    """Lookup `request_status` with arg `number` (the digits keyed); None when there is none."""
    request = find_by_digits(session, args.get("number", ""))
    if request is None:
        return None
    if call.sid is not None:
        link(session, call.sid, request, "asked", at=call.at)
    return status_result(request, call.tz)


def file_request(session: Session, call: PhoneCall, args: Mapping[str, str]) -> dict[str, Any]:
    """Submit `service_request`: args `service`, `address_recording`, `callback` and
    ``attribute:<code>`` answers (empty ones are questions the path did not ask).

    Raises `ivr.service_requests.fields.RequestError` when the request cannot be made as given.
    """
    answers = {name[len(ATTRIBUTE):]: value for name, value in args.items()
               if name.startswith(ATTRIBUTE) and value.strip()}
    request = create_request(
        session, service_code=args.get("service", ""), at=call.at,
        description=PHONE_DESCRIPTION, address_audio_url=args.get("address_recording") or None,
        callback_number=args.get("callback") or None, attributes=answers, call_sid=call.sid,
        channel="phone", region=call.region, tz=call.tz, forward=call.forward)
    link(session, call.sid, request, "created", at=call.at)
    number = request.number or ""
    return {"number": number, "digits": phone_digits(number)}
