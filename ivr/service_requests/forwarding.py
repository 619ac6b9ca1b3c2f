"""Forwarding new service requests to a city's own Open311 server, through the outbox.

Many cities already run a work-order system with an Open311 GeoReport v2 front door; a request
taken here (by phone, by a call-taker, or over this engine's own Open311 API) must reach it too.
Configured under ``open311.forward`` (``url``: the server's base, e.g.
``https://city.example/open311/v2``; ``key_env``: the name of the environment variable holding its
api_key). Unset: nothing is forwarded.

The message is written to the outbox in the transaction that makes the request, so a request that
exists is always forwarded, once (its number is the idempotency key), and the worker's sweep
delivers it within a second, retried with backoff until the city's server answers 2xx. The POST is
the standard one (form fields, ``api_key`` among them: `ivr.platform.outbox` encodes this kind as a
form rather than signed JSON), to ``<url>/requests.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ivr.platform import outbox
from ivr.platform.config import Settings
from ivr.service_requests.models import ServiceRequest

KIND = outbox.OPEN311_FORWARD


@dataclass(frozen=True)
class Forward:
    """Where new requests go: the city's Open311 base URL and its key's variable name."""

    url: str
    key_env: str

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + "/requests.json"


def forward_of(settings: Settings) -> Forward | None:
    spec = (settings.raw.get("open311") or {}).get("forward") or {}
    url = str(spec.get("url") or "").strip()
    if not url:
        return None
    return Forward(url, str(spec.get("key_env") or "IVR_OPEN311_FORWARD_KEY"))


def fields(request: ServiceRequest) -> dict[str, Any]:
    """The standard POST fields of `request` (without api_key, added at delivery). The city's
    service code is the catalogue's `external_code` when it has one."""
    service = request.service
    out: dict[str, Any] = {
        "service_code": service.external_code or service.code,
        "description": request.description or "",
        "address_string": request.address or "",
        "address_id": request.address_id or "",
        "lat": "" if request.lat is None else repr(request.lat),
        "long": "" if request.long is None else repr(request.long),
        "phone": request.callback_number or "",
        "first_name": request.first_name or "",
        "last_name": request.last_name or "",
        "email": request.email or "",
        "media_url": request.media_url or request.address_audio_url or "",
    }
    if request.address_audio_url and not request.address:
        out["description"] = (out["description"] + "\nAddress spoken by the caller: "
                              + request.address_audio_url).strip()
    for code, value in sorted((request.attributes or {}).items()):
        if isinstance(value, list):  # a multivaluelist answer: attribute[code][]=a&...=b
            out[f"attribute[{code}][]"] = [str(v) for v in value]
        else:
            out[f"attribute[{code}]"] = str(value)
    return {k: v for k, v in out.items() if v not in ("", [])}


def add(session: Session, forward: Forward, request: ServiceRequest, at: datetime) -> None:
    """Write the forwarding message in `session`'s transaction (the one making `request`)."""
    outbox.add(session.connection(), kind=KIND, destination=forward.endpoint,
               secret_name=forward.key_env, payload=fields(request),
               idempotency_key=f"{KIND}:{request.number}", at=at, subject=request.number)
