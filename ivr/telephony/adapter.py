"""`TwilioTelephony`: agents' `Telephony` over Twilio's REST API (twilio's own `Client`).

Every call joins the conference named for the call (`conference_name`), which is the hub of
everything after the answer (hold, transfers, the end of the call):

* the caller waits there with ``startConferenceOnEnter=false`` (hold music until the call-taker
  arrives) and ``endConferenceOnExit=false``;
* the call-taker joins with ``startConferenceOnEnter=true`` and ``endConferenceOnExit=false``.
  Not true, although Twilio's warm-transfer sample does it: with it the conference, and so the
  caller, ends whenever the call-taker's leg drops (a browser tab closed, a network blip, the
  call-taker leaving a warm transfer to the dispatcher). TWILIO.md lists the failure modes; the
  engine must keep the caller connected through each. The application ends the conference
  itself when a call is over (`end_conference`), and decides then what the caller hears.

This module only speaks REST: which webhook answers which leg, and what a failed leg means for the
caller, is the connect room's business (`ivr.connect`). The URLs it hands Twilio are built by `url`.
Each method raises `TelephonyError` when Twilio (or the network) refuses; the methods that end or
move a leg treat a leg that is already over as done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from agents import CallEnded, Reservation, TelephonyError
from ivr.platform.config import Settings
from ivr.telephony.rest import rest_client

log = logging.getLogger("ivr.telephony")

PREFIX = "/voice/agent"
LIVE_STATUSES = ("queued", "ringing", "in-progress")
# How long an accept waits for a caller Twilio has not yet answered (its first TwiML on the way).
ANSWER_WAIT = 3.0


class NotAnswered(TelephonyError):
    """A live call that cannot be redirected yet: Twilio still waits for its first TwiML."""


@dataclass(frozen=True)
class EndedCall:
    """Twilio's record of a call that is over: what its lost final status callback carried."""

    sid: str
    status: str
    end_time: datetime | None
    from_: str
    to: str
    duration: str
LEG_EVENTS = ["initiated", "ringing", "answered", "completed"]
LIVE_CONFERENCE = ("init", "in-progress")


def conference_name(call_id: str) -> str:
    """The conference of a call: one per call, whoever is in it."""
    return f"call-{call_id}"


def twilio_queue_name(settings: Settings, queue_class: str) -> str:
    """The Twilio queue that holds the audio of a queue class's callers (the order is ours)."""
    return f"{settings.center}-{queue_class}"[:64]


def url(settings: Settings, path: str, **query: Any) -> str:
    """An absolute URL of a connect webhook (`path` under `PREFIX`), as Twilio must request it."""
    params = {k: str(v) for k, v in query.items() if v is not None}
    return f"{settings.public_url}{PREFIX}/{path}" + (f"?{urlencode(params)}" if params else "")


@dataclass(frozen=True)
class ConnectConfig:
    """The ``connect:`` settings.

    `contact`: how a call-taker is dialed, ``{agent}`` replaced by their id (``client:{agent}``
    for the browser console's Twilio Client; a number works too). `caller_id`: the From of the
    legs the center places (default: the line's own number). `agent_ring_seconds`: how long a
    call-taker's phone rings before the leg counts as failed. `failed_leg_break`: the break a
    call-taker whose phone failed is put on, so the next caller is not sent to the same dead
    phone (None: none). `callback_retries`: dials of a resident after the first, when nobody
    answers; `callback_retry_seconds` apart; each ringing `callback_ring_seconds`.
    """

    contact: str = "client:{agent}"
    caller_id: str | None = None
    agent_ring_seconds: int = 20
    failed_leg_break: str | None = "phone did not answer"
    callback_retries: int = 2
    callback_retry_seconds: float = 60.0
    callback_ring_seconds: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectConfig:
        spec = dict(settings.raw.get("connect") or {})
        known = {k: spec[k] for k in cls.__dataclass_fields__ if k in spec}
        config = cls(**known)
        if config.callback_retries < 0 or config.callback_retry_seconds < 0:
            raise ValueError("connect: callback_retries and callback_retry_seconds must be >= 0")
        return config

    def contact_of(self, agent_id: str) -> str:
        return self.contact.replace("{agent}", agent_id)


class TwilioTelephony:
    """The Twilio adapter. `contacts(agent_id)` gives the address to dial a call-taker at
    (default from `ConnectConfig.contact`; the accounts module can supply its own). The REST
    client is made on first use, so building this object touches no network."""

    def __init__(self, settings: Settings, *, client: Client | None = None,
                 contacts: Callable[[str], str] | None = None) -> None:
        self.settings = settings
        self.config = ConnectConfig.from_settings(settings)
        self.contacts = contacts or self.config.contact_of
        self._client = client
        self._queue_sids: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = rest_client(self.settings)
            return self._client

    # -- the Telephony protocol -----------------------------------------------------------------

    def bridge(self, reservation: Reservation) -> None:
        """Move the caller out of the Twilio queue into the call's conference, then ring the
        call-taker into it."""
        self.dequeue(reservation)
        self.dial_agent(reservation)

    def call_back(self, reservation: Reservation) -> None:
        """Ring the call-taker into the call's conference; the resident is dialed once the
        call-taker is on the line (`dial_resident`, from the call-taker's join webhook), so a
        resident who answers never waits for a phone that may not answer."""
        self.dial_agent(reservation)

    def hangup(self, call_id: str) -> None:
        """End the call's conference (everyone in it hears their goodbye), or the caller's
        leg if there is no conference yet."""
        if not self.end_conference(call_id):
            self.end_leg(call_id)

    # -- the pieces -----------------------------------------------------------------------------

    def dequeue(self, reservation: Reservation, queue_sid: str | None = None) -> None:
        """Take exactly this caller out of its Twilio queue (REST, Queue Members) into the
        conference, by the caller URL of `reservation`.

        Twilio's queue is FIFO; the Members resource is how our own priority order picks one
        caller. A caller not (yet, or any more) in the queue we know is moved by a redirect of
        the call itself; a caller whose call is over raises `TelephonyError`.
        """
        call_id = reservation.call_id
        target = url(self.settings, "caller", resv=reservation.reservation_id)
        deadline = time.monotonic() + ANSWER_WAIT
        while True:
            sid = queue_sid or self.queue_sid(reservation.entry.queue_class)
            if sid:
                try:
                    self.client.queues(sid).members(call_id).update(url=target, method="POST")
                    return
                except TwilioRestException as exc:
                    if exc.status != 404:
                        raise TelephonyError(f"dequeue of {call_id} failed: {exc.msg}") from exc
                except (TwilioException, requests.RequestException) as exc:
                    raise TelephonyError(f"dequeue of {call_id} failed: {exc}") from exc
            try:
                if self.redirect(call_id, target):
                    return
                raise CallEnded(f"caller {call_id} is no longer on the line")
            except NotAnswered as exc:
                # Offered while Twilio still waits for the call's first TwiML (the call is
                # `ringing` and in no queue yet): it is in line within moments.
                if time.monotonic() >= deadline:
                    raise TelephonyError(
                        f"caller {call_id} was not yet answered by Twilio") from exc
                with self._lock:
                    self._queue_sids.pop(twilio_queue_name(
                        self.settings, reservation.entry.queue_class), None)
                time.sleep(0.2)

    def queue_sid(self, queue_class: str) -> str | None:
        """The sid of the Twilio queue of a class, looked up by its name once per process."""
        name = twilio_queue_name(self.settings, queue_class)
        with self._lock:
            known = self._queue_sids.get(name)
        if known:
            return known
        found = self._rest(f"list queues for {name}", lambda: [
            q.sid for q in self.client.queues.stream(page_size=100) if q.friendly_name == name])
        if found:
            with self._lock:
                self._queue_sids[name] = found[0]
            return found[0]
        return None

    def dial_agent(self, reservation: Reservation) -> str:
        """Ring the call-taker; their leg asks the join webhook for its TwiML once answered.
        Returns the leg's CallSid."""
        rid = reservation.reservation_id
        to = self.contacts(reservation.agent_id)
        line = reservation.entry.data.get("line")
        what = f"dial call-taker {reservation.agent_id}"
        call = self._rest(what, lambda: self.client.calls.create(
            to=to, from_=self.caller_id(line),
            url=url(self.settings, "join", resv=rid), method="POST",
            status_callback=url(self.settings, "leg-status", resv=rid, leg="agent"),
            status_callback_event=LEG_EVENTS, status_callback_method="POST",
            timeout=self.config.agent_ring_seconds,
        ))
        return str(call.sid)

    def dial_resident(self, reservation_id: str, to: str, line: str | None) -> str:
        """Ring a resident who asked to be called back; once answered their leg asks the
        resident webhook for its TwiML. Returns the leg's CallSid."""
        call = self._rest("dial resident", lambda: self.client.calls.create(
            to=to, from_=self.caller_id(line),
            url=url(self.settings, "resident", resv=reservation_id), method="POST",
            status_callback=url(self.settings, "leg-status", resv=reservation_id, leg="resident"),
            status_callback_event=LEG_EVENTS, status_callback_method="POST",
            timeout=self.config.callback_ring_seconds,
        ))
        return str(call.sid)

    def caller_id(self, line: str | None) -> str:
        """The From of legs the center places: the configured caller id, else the line's own
        number (the first in E.164), so a resident sees the number they called."""
        if self.config.caller_id:
            return self.config.caller_id
        lines = self.settings.lines
        chosen = lines.get(line or "") or lines[self.settings.default_line]
        for number in chosen.numbers:
            if number.startswith("+"):
                return number
        return chosen.numbers[0] if chosen.numbers else ""

    def redirect(self, sid: str, target: str) -> bool:
        """Move a live leg to new TwiML. False when the leg is over (or unknown)."""
        try:
            self.client.calls(sid).update(url=target, method="POST")
            return True
        except TwilioRestException as exc:
            if exc.status == 400 and exc.code == 21220 and self._status(sid) in ("queued",
                                                                                 "ringing"):
                raise NotAnswered(sid) from exc
            if exc.status in (400, 404):  # 21220: not in progress; 20404: no such call
                return False
            raise TelephonyError(f"redirect of {sid} failed: {exc.msg}") from exc
        except (TwilioException, requests.RequestException) as exc:
            raise TelephonyError(f"redirect of {sid} failed: {exc}") from exc

    def end_leg(self, sid: str | None) -> bool:
        """Hang a leg up, ringing or answered. False when it was already over."""
        if not sid:
            return False
        try:
            call = self.client.calls(sid).fetch()
            if call.status in ("queued", "ringing"):
                self.client.calls(sid).update(status="canceled")
            elif call.status == "in-progress":
                self.client.calls(sid).update(status="completed")
            else:
                return False
            return True
        except TwilioRestException as exc:
            if exc.status in (400, 404):
                return False
            raise TelephonyError(f"hang-up of {sid} failed: {exc.msg}") from exc
        except (TwilioException, requests.RequestException) as exc:
            raise TelephonyError(f"hang-up of {sid} failed: {exc}") from exc

    def conference_sid(self, call_id: str) -> str | None:
        """The sid of the call's conference while it is live (waiting or started)."""
        name = conference_name(call_id)
        found = self._rest(f"find conference {name}", lambda: [
            c.sid for c in self.client.conferences.list(friendly_name=name, limit=20)
            if c.status in LIVE_CONFERENCE])
        return found[0] if found else None

    def end_conference(self, call_id: str, sid: str | None = None) -> bool:
        """End the call's conference: every participant leaves it and goes on with the TwiML
        after their `<Dial>` (their Dial action). False when there is no live conference."""
        sid = sid or self.conference_sid(call_id)
        if not sid:
            return False
        try:
            if self.client.conferences(sid).fetch().status not in LIVE_CONFERENCE:
                return False  # it ended on its own (its last participant left)
            self.client.conferences(sid).update(status="completed")
        except TwilioRestException as exc:
            if exc.status in (400, 404):
                return False
            raise TelephonyError(f"ending conference {sid} failed: {exc.msg}") from exc
        except (TwilioException, requests.RequestException) as exc:
            raise TelephonyError(f"ending conference {sid} failed: {exc}") from exc
        return True

    def hold(self, conference_sid: str, leg: str, on: bool, hold_url: str | None = None) -> None:
        """Put a participant on hold (hearing `hold_url`) or take them off it."""
        kwargs: dict[str, Any] = {"hold": on}
        if on and hold_url:
            kwargs.update(hold_url=hold_url, hold_method="POST")
        self._rest(f"{'hold' if on else 'resume'} {leg}", lambda: self.client.conferences(
            conference_sid).participants(leg).update(**kwargs))

    def add_participant(self, conference_sid: str, to: str, from_: str, *, label: str,
                        timeout: int, status_callback: str) -> str:
        """Ring `to` into a live conference (a dispatch line in a warm transfer): it joins
        with ``startConferenceOnEnter=true`` and ``endConferenceOnExit=false`` (its leaving
        never ends the call for the others); its status callbacks report busy, no-answer,
        failed, answered and completed. Returns the new leg's CallSid."""
        participant = self._rest(f"add {label} to {conference_sid}", lambda: self.client
                                 .conferences(conference_sid).participants.create(
                                     from_=from_, to=to, label=label, timeout=timeout,
                                     early_media=False, beep="false",
                                     start_conference_on_enter=True,
                                     end_conference_on_exit=False,
                                     status_callback=status_callback,
                                     status_callback_method="POST",
                                     status_callback_event=LEG_EVENTS))
        return str(participant.call_sid)

    def add_listener(self, conference_sid: str, to: str, from_: str, *, label: str,
                     muted: bool, coach: str | None, timeout: int,
                     status_callback: str) -> str:
        """Ring a supervisor into a live conference: muted (listening), coaching the
        participant `coach` (heard by that leg alone: Twilio's ``CallSidToCoach``), or heard
        by all. No beep, no early media: nobody learns of a listener from a sound. Their
        leaving never ends the call (``endConferenceOnExit=false``) and they never start a
        conference (``startConferenceOnEnter=false``). Returns the new leg's CallSid."""
        kwargs: dict[str, Any] = {"muted": muted}
        if coach:
            kwargs.update(coaching=True, call_sid_to_coach=coach)
        participant = self._rest(f"add {label} to {conference_sid}", lambda: self.client
                                 .conferences(conference_sid).participants.create(
                                     from_=from_, to=to, label=label, timeout=timeout,
                                     early_media=False, beep="false",
                                     start_conference_on_enter=False,
                                     end_conference_on_exit=False,
                                     status_callback=status_callback,
                                     status_callback_method="POST",
                                     status_callback_event=LEG_EVENTS, **kwargs))
        return str(participant.call_sid)

    def set_listening(self, conference_sid: str, leg: str, *, muted: bool,
                      coach: str | None) -> None:
        """Change how a participant is heard, in one request: muted, coaching `coach`, or
        heard by all (``Coaching=false``)."""
        kwargs: dict[str, Any] = {"muted": muted}
        if coach:
            kwargs.update(coaching=True, call_sid_to_coach=coach)
        else:
            kwargs["coaching"] = False
        self._rest(f"update participant {leg}", lambda: self.client.conferences(
            conference_sid).participants(leg).update(**kwargs))

    def ended(self, call_id: str) -> EndedCall | None:
        """Twilio's record of `call_id` if it is over; None while it is up, when Twilio does
        not know it, or when Twilio cannot be asked (the caller is then taken to be there)."""
        try:
            call = self.client.calls(call_id).fetch()
        except (TwilioException, requests.RequestException) as exc:
            if not (isinstance(exc, TwilioRestException) and exc.status == 404):
                log.warning("could not ask Twilio whether %s is up: %s", call_id, exc)
            return None
        if call.status in LIVE_STATUSES:
            return None
        end = call.end_time
        if isinstance(end, datetime) and end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        return EndedCall(call_id, str(call.status), end if isinstance(end, datetime) else None,
                         str(getattr(call, "_from", "") or ""), str(call.to or ""),
                         str(call.duration or ""))

    def _status(self, call_id: str) -> str | None:
        """The call's status at Twilio now; None when it cannot be read."""
        try:
            return str(self.client.calls(call_id).fetch().status)
        except (TwilioException, requests.RequestException):
            return None

    def _rest(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except TwilioRestException as exc:
            raise TelephonyError(f"{what}: Twilio said {exc.status} {exc.code}: {exc.msg}") \
                from exc
        except (TwilioException, requests.RequestException) as exc:
            raise TelephonyError(f"{what}: {exc}") from exc
