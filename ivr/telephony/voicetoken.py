"""Access tokens for the browser phone (Twilio's Voice JavaScript SDK in the console).

A token lets one browser register as one Twilio Client identity and receive the calls dialed
to ``client:<identity>``. It is signed with an API key (``IVR_TWILIO_API_KEY`` and
``IVR_TWILIO_API_SECRET``), never the account's auth token, so the key can be revoked alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant


class BrowserPhoneUnavailable(Exception):
    """No token can be made; `str(error)` says what the operator must set."""


def api_key_from(env: Mapping[str, str] = os.environ) -> tuple[str, str]:
    return env.get("IVR_TWILIO_API_KEY", ""), env.get("IVR_TWILIO_API_SECRET", "")


def mint(account_sid: str, key_sid: str, key_secret: str, identity: str, ttl: int) -> str:
    """A JWT for `identity` that may receive calls, valid `ttl` seconds."""
    if not key_sid or not key_secret:
        raise BrowserPhoneUnavailable(
            "the browser phone is not configured: set IVR_TWILIO_API_KEY and "
            "IVR_TWILIO_API_SECRET (a Twilio API key) on the server; calls can still ring a "
            "desk phone set as the account's contact")
    token = AccessToken(account_sid, key_sid, key_secret, identity=identity, ttl=ttl)
    token.add_grant(VoiceGrant(incoming_allow=True))
    jwt = token.to_jwt()
    return jwt.decode() if isinstance(jwt, bytes) else jwt
