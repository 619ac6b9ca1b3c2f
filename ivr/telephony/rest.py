"""Twilio's REST API through twilio's own client, sent to the configured base URL.

Production leaves `twilio.api_base` at https://api.twilio.com; tests and the demo point it at the
emulator (or a Twilio-compatible provider). The app never knows which: this seam is the only
difference. twilio-python builds absolute URLs on `https://api.twilio.com` (or a regional/edge host
under `twilio.com`); `BaseUrlHttpClient` swaps that scheme and host for the base and keeps path and
query, so every resource, page link and error goes through the same seam.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ivr.platform.config import Settings

TWILIO_API = "https://api.twilio.com"


class BaseUrlHttpClient(TwilioHttpClient):
    """Sends every request meant for a `*.twilio.com` host to `base` instead."""

    def __init__(self, base: str, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.base = base.rstrip("/")

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        return self.base + parts.path + (f"?{parts.query}" if parts.query else "")

    def request(  # type: ignore[override]
        self, method: str, url: str, *args: Any, **kwargs: Any,
    ) -> Response:
        return super().request(method, self.rewrite(url), *args, **kwargs)


def client_for(base_url: str, account_sid: str, auth_token: str) -> Client:
    """A twilio `Client` whose REST calls all go to `base_url`."""
    return Client(account_sid, auth_token, http_client=BaseUrlHttpClient(base_url))


def rest_client(settings: Settings) -> Client:
    """The app's REST client: Twilio itself unless `twilio.api_base` names another endpoint."""
    if settings.api_base == TWILIO_API:
        return Client(settings.account_sid, settings.auth_token)
    return client_for(settings.api_base, settings.account_sid, settings.auth_token)
