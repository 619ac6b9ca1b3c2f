"""Signed requests from "Twilio" to the app.

Every request carries `X-Twilio-Signature`, computed by twilio-python's own `RequestValidator`
over the full URL (query string included) and, for a POST, the sorted form parameters. A GET
carries its parameters in the query string, so they are signed as part of the URL, as Twilio does.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from ivr.sim.faults import Faults
from ivr.sim.scheduler import Scheduler
from ivr.sim.transport import Params, Response, Transport, TransportError, with_query

USER_AGENT = "TwilioProxy/1.1"


def sign(auth_token: str, url: str, params: Params) -> str:
    """`X-Twilio-Signature` for a request to `url` with these POST parameters."""
    return _signature(RequestValidator(auth_token), url, params)


class _Values(dict[str, "str | list[str]"]):
    """Params as `RequestValidator` reads them: `getall(name)` lists a name's values.

    (A plain dict works too, but costs two exceptions per parameter and no repeated values.)
    """

    def getall(self, name: str) -> list[str]:
        value = self[name]
        return [value] if isinstance(value, str) else list(value)


def _signature(validator: RequestValidator, url: str, params: Params) -> str:
    return validator.compute_signature(url, _Values(params))


class Webhooks:
    """Sends signed requests through the transport, with the state lock released meanwhile;
    a request to a host that `faults` has down is refused without reaching the transport."""

    def __init__(self, transport: Transport, auth_token: str, sched: Scheduler,
                 rng: random.Random, faults: Faults | None = None) -> None:
        self.transport = transport
        self.validator = RequestValidator(auth_token)
        self.sched = sched
        self.rng = rng
        self.faults = faults or Faults()
        self.sent = 0

    def send(self, method: str, url: str, params: Mapping[str, str | list[str]],
             idempotency_token: str | None = None) -> Response:
        """Request `url`; raises `TransportError`/`TransportTimeout` like the transport."""
        method = method.upper()
        if method == "GET":
            url, params = with_query(url, params), {}
        now = self.sched.clock.elapsed
        outage = self.faults.refuses(url, now)
        if outage is not None:
            self.faults.record(now, "refused", method=method, url=url)
            raise TransportError(f"connection refused: {outage.host} is down")
        headers = {
            "X-Twilio-Signature": _signature(self.validator, url, params),
            "User-Agent": USER_AGENT,
            "I-Twilio-Idempotency-Token": idempotency_token or f"{self.rng.getrandbits(128):032x}",
        }
        self.sent += 1
        with self.sched.unlocked():
            return self.transport.request(method, url, params, headers)
