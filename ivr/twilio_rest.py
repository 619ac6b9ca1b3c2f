"""Twilio's REST API through twilio's own client, sent to the configured base URL.

Production leaves `twilio.api_base` at https://api.twilio.com; tests and the demo point it at the
emulator. The app never knows which: this seam is the only difference.
"""

from __future__ import annotations

from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ivr.config import Settings

TWILIO_API = "https://api.twilio.com"


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends every request for api.twilio.com to `base` instead."""

    def __init__(self, base: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.base = base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        if url.startswith(TWILIO_API):
            url = self.base + url[len(TWILIO_API):]
        return super().request(method, url, *args, **kwargs)


def rest_client(settings: Settings) -> Client:
    http = None if settings.api_base == TWILIO_API else BaseUrlHttpClient(settings.api_base)
    return Client(settings.account_sid, settings.auth_token, http_client=http)
