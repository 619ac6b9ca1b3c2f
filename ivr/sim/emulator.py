"""The emulator's front door: Twilio's part in a box, on a virtual clock.

    sim = Emulator(account_sid, auth_token, [NumberConfig("+14155550311", voice_url)],
                   WSGITransport(app))
    call = sim.place_call(Caller("+14105551234", "+14155550311", script=[press("2")]))
    sim.run_until_idle()
    assert "pothole" in call.heard_text() and not call.application_error

Everything that changes emulator state holds `lock` (REST requests arrive on other threads);
their effects happen at the current virtual time, the next time the simulation runs.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ivr.sim.call import Call, Redirected, Webhook
from ivr.sim.callers import (
    Caller,
    HangupItem,
    Item,
    Party,
    Person,
    Responder,
    WaitItem,
    answers,
)
from ivr.sim.clock import SimClock, Timing
from ivr.sim.conference import Conferences
from ivr.sim.faults import Fault, Faults, Outage
from ivr.sim.interpreter import Interpreter
from ivr.sim.queue import Queues
from ivr.sim.recording import Recordings
from ivr.sim.scheduler import Scheduler
from ivr.sim.status import StatusCallback, StatusCallbacks, StatusPolicy
from ivr.sim.transport import Transport
from ivr.sim.twiml import Document
from ivr.sim.webhooks import Webhooks

MAX_CALL_SECONDS = 4 * 3600  # Twilio's default maximum call duration


@dataclass
class NumberConfig:
    """A phone number as configured in Twilio's console (its "A call comes in" settings)."""

    number: str
    voice_url: str
    voice_method: str = "POST"
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)
    sid: str = field(default="")

    def webhook(self) -> Webhook:
        return Webhook(self.voice_url, self.voice_method, self.fallback_url, self.fallback_method,
                       self.status_callback, self.status_callback_method,
                       tuple(self.status_callback_events))


class Emulator:
    """Plays Twilio: numbers, calls, queues, conferences, status callbacks and the REST API."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        numbers: Iterable[NumberConfig],
        transport: Transport,
        *,
        clock: SimClock | None = None,
        timing: Timing | None = None,
        status: StatusPolicy | None = None,
        seed: int = 0,
        max_call_seconds: float = MAX_CALL_SECONDS,
        default_party: Party | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock or SimClock()
        self.sched = Scheduler(self.clock)
        self.lock = self.sched.lock
        self.timing = timing or Timing()
        self.rng = random.Random(seed)
        self.max_call_seconds = max_call_seconds
        self.numbers: dict[str, NumberConfig] = {}
        for n in numbers:
            n.sid = n.sid or self.new_sid("PN")
            self.numbers[n.number] = n
        self.faults = Faults()
        self.webhooks = Webhooks(transport, auth_token, self.sched, self.rng, self.faults)
        self.status = StatusCallbacks(self, status or StatusPolicy())
        self.queues = Queues(self.new_sid, self.clock)
        self.conferences = Conferences(self, self.new_sid, self.clock)
        self.recordings = Recordings(self)
        self.calls: dict[str, Call] = {}
        self.default_party = default_party or answers()
        self.party_resolver: Callable[[str], Party | None] | None = None
        self._parties: dict[str, list[Party]] = {}
        self._rest_app: Any = None
        self._after_rest: list[tuple[str, str, Callable[[], None]]] = []
        self._server: Any = None
        self._server_thread: threading.Thread | None = None

    # --- identities ----------------------------------------------------------------------------

    def new_sid(self, prefix: str) -> str:
        """A Twilio-shaped sid: two letters and 32 hex digits (seeded: runs repeat)."""
        return f"{prefix}{self.rng.getrandbits(128):032x}"

    def new_call(self, from_: str, to: str, direction: str, webhook: Webhook,
                 parent_sid: str | None = None, caller_name: str | None = None) -> Call:
        call = Call(self, self.new_sid("CA"), from_, to, direction, webhook,
                    parent_sid=parent_sid, caller_name=caller_name)
        self.calls[call.sid] = call
        return call

    def call(self, sid: str) -> Call:
        return self.calls[sid]

    # --- who answers the phone -----------------------------------------------------------------

    def on_dial(self, to: str, party: Party | Sequence[Party]) -> None:
        """How `to` ("+1...", "client:alice", "sip:...") behaves when rung by Dial or by REST.

        A list is one behaviour per ring, in order, the last one for every ring after (a
        resident who misses the first call-back and answers the second).
        """
        parties = [party] if isinstance(party, Party) else list(party)
        if not parties:
            raise ValueError(f"on_dial({to!r}) needs at least one party")
        with self.lock:
            self._parties[to] = parties

    on_outbound = on_dial

    def party_for(self, to: str) -> Party:
        """The behaviour of `to` for this ring (takes the next one of a list)."""
        parties = self._parties.get(to)
        party = (parties.pop(0) if len(parties) > 1 else parties[0]) if parties else None
        if party is None and self.party_resolver is not None:
            party = self.party_resolver(to)
        return party or self.default_party

    def attach_person(self, call: Call, script: Sequence[Item], responder: Responder | None,
                      hangup_after: float | None, by: str, live: bool = False) -> Person:
        """Put a scripted person on `call` from now on (hang-ups scheduled on the call)."""
        def schedule(t: float) -> None:
            call.timers.append(self.sched.call_at(t, call.hang_up, by))

        person = Person(script, responder, schedule, live=live)
        call.person = person
        person.start(self.clock.elapsed)
        if hangup_after is not None:
            call.timers.append(self.sched.call_later(hangup_after, call.hang_up, by))
        return person

    # --- calls ---------------------------------------------------------------------------------

    def place_call(self, caller: Caller, at: float | datetime | None = None) -> Call:
        """A scripted caller dials one of the numbers, now or `at` a later virtual time.

        `at` is an aware datetime or a virtual offset (seconds since the clock's start, like
        `Call.created_t` and `Event.t`). The call object is returned at once; it starts then.
        """
        with self.lock:
            number = self.numbers.get(caller.to)
            if number is None:
                raise KeyError(f"{caller.to} is not one of the emulator's numbers")
            start = self._offset(at) if at is not None else self.clock.elapsed
            return self.start_inbound(number, caller.from_, caller=caller,
                                      delay=max(start - self.clock.elapsed, 0.0))

    def start_inbound(self, number: NumberConfig, from_: str, *, caller: Caller | None = None,
                      person: Person | None = None, delay: float = 0.0) -> Call:
        """An inbound call to `number`; `person` is someone already on the line (a forward)."""
        call = self.new_call(from_, number.number, "inbound", number.webhook(),
                             caller_name=caller.caller_name if caller else None)
        it = Interpreter(self, call, person)
        call.person = person

        def attach() -> None:
            assert caller is not None
            it.person = self.attach_person(call, caller.script, caller.responder,
                                           caller.hangup_after, "caller", caller.live)

        def begin() -> None:
            call.created_t = call.updated_t = self.clock.elapsed
            if caller is not None and it.person is None:
                attach()
            call.timers.append(self.sched.call_later(self.max_call_seconds, call.hang_up, "system"))

        if caller is not None and caller.live and delay == 0:
            attach()  # on the line now: input sent before the first webhook is kept for it
        call.process = self.sched.spawn(it.inbound(begin), call.sid, delay)
        return call

    def create_call(self, to: str, from_: str, webhook: Webhook, *, twiml: Document | None = None,
                    timeout: float = 60.0, party: Party | None = None) -> Call:
        """An outbound call (`Direction=outbound-api`), as `POST Calls.json` makes one."""
        with self.lock:
            call = self.new_call(from_, to, "outbound-api", webhook)
            it = Interpreter(self, call, None)

            def first() -> Document:
                return twiml if twiml is not None else it.fetch(webhook.url or "", webhook.method)

            call.process = self.sched.spawn(
                it.outbound(party or self.party_for(to), timeout, first), call.sid)
            call.timers.append(self.sched.call_later(self.max_call_seconds, call.hang_up, "system"))
            return call

    def send_input(self, call: Call | str, item: Item) -> str:
        """A live caller (`Caller(live=True)`) presses keys, speaks or hangs up now.

        Returns what became of it: "heard" (an open input window took it), "kept" (no window
        is open: the next one takes it) or "hung up". `ValueError` if the call is over or its
        caller is not live.
        """
        with self.lock:
            call = self.calls[call] if isinstance(call, str) else call
            person = call.person
            if call.ended:
                raise ValueError(f"call {call.sid} is over")
            if person is None or not person.live:
                raise ValueError(f"call {call.sid} has no live caller")
            if isinstance(item, HangupItem):
                self.hangup(call)
                return "hung up"
            if isinstance(item, WaitItem):
                raise ValueError("a live caller waits by not answering")
            if person.window is not None and call.process is not None and \
                    call.process.resume(item):
                return "heard"
            person.kept.append(item)
            return "kept"

    def hangup(self, call: Call | str, by: str = "caller") -> None:
        """Hang `call` up now (the caller, or `by="api"` as a REST `Status=completed`)."""
        with self.lock:
            call = self.calls[call] if isinstance(call, str) else call
            if call.process is not None and not call.process.started:
                call.process.kill()
                call.end("canceled", by)
            else:
                call.hang_up(by)

    def redirect(self, call: Call | str, url: str | None, method: str = "POST",
                 twiml: Document | None = None) -> None:
        """Move a live call to new TwiML now, as `POST Calls/{Sid}.json` with `Url` or `Twiml`."""
        with self.lock:
            call = self.calls[call] if isinstance(call, str) else call
            if call.status != "in-progress":
                raise ValueError(f"call {call.sid} is {call.status}, not in-progress")
            if call.process is not None and not call.process.done:
                call.process.interrupt(Redirected(url, method, twiml))
                return
            # A leg without TwiML of its own (a dialed party) leaves its bridge for the new TwiML.
            it = Interpreter(self, call, call.person)
            call.log("redirect", url=url, by="api")
            if call.bridge is not None:
                call.bridge.end(call)

            def first() -> Document:
                return twiml if twiml is not None else it.fetch(url or "", method)

            call.process = self.sched.spawn(it.answered(first), call.sid)

    # --- time ----------------------------------------------------------------------------------

    def _offset(self, when: float | datetime) -> float:
        return self.clock.offset(when) if isinstance(when, datetime) else float(when)

    def run(self, until: float | datetime | None = None) -> None:
        """Run the simulation up to `until` (offset since the clock's start, or a datetime).

        None runs until idle. Unlike `run_until_idle`, the clock ends at `until` exactly.
        """
        if until is None:
            self.run_until_idle()
        else:
            self.sched.run(until=self._offset(until))

    def run_until_idle(self, max_seconds: float | None = None) -> None:
        """Run until nothing is left to happen (or `max_seconds` of virtual time passed)."""
        limit = None if max_seconds is None else self.clock.elapsed + max_seconds
        self.sched.run(until=limit, advance=False)

    def advance(self, seconds: float) -> None:
        """Run the next `seconds` of virtual time."""
        self.sched.run(until=self.clock.elapsed + seconds)

    # --- status callbacks ----------------------------------------------------------------------

    def pending_status(self, call: Call | None = None) -> list[StatusCallback]:
        with self.lock:
            return self.status.pending(call)

    def deliver_status(self, call: Call | None = None, event: str | None = None,
                       duplicate: bool = False) -> int:
        """Deliver held status callbacks now (see `StatusPolicy(hold=True)`)."""
        with self.lock:
            return self.status.release(call, event, duplicate)

    # --- faults --------------------------------------------------------------------------------

    def take_down(self, host: str | None = None, at: float | datetime | None = None,
                  until: float | datetime | None = None) -> Outage:
        """The app's `host` refuses every request from `at` (default now) to `until` (default:
        until `bring_up`). `host` defaults to the host of the first number's voice URL.
        Twilio's rules follow (see `ivr.sim.faults`): fallback URL or application error for
        TwiML, status callbacks lost."""
        with self.lock:
            if host is None:
                first = next(iter(self.numbers.values()), None)
                host = urlsplit(first.voice_url).netloc if first else ""
            if not host:
                raise ValueError("take_down needs a host (the emulator has no number)")
            start = self.clock.elapsed if at is None else self._offset(at)
            outage = Outage(host, start, None if until is None else self._offset(until))
            self.faults.outages.append(outage)
            return outage

    def bring_up(self, host: str | None = None) -> None:
        """End now every open outage (of `host`, or of every host)."""
        with self.lock:
            now = self.clock.elapsed
            for outage in self.faults.outages:
                if (host is None or outage.host == host) and (outage.end is None
                                                               or outage.end > now):
                    outage.end = max(now, outage.start)

    def fault_log(self, kind: str | None = None) -> list[Fault]:
        """What the faults did (kinds ``refused``, ``status_lost``), in order."""
        with self.lock:
            return list(self.faults.log) if kind is None else self.faults.of(kind)

    def lost_status(self, call: Call | None = None) -> list[StatusCallback]:
        """Status callbacks that never reached the app (lost by policy or by an outage)."""
        with self.lock:
            return [cb for cb in self.status.lost if call is None or cb.call is call]

    # --- the REST API --------------------------------------------------------------------------

    def after_rest(self, endpoint: str, action: Callable[[], None], method: str = "GET") -> None:
        """Run `action` once, right after the next `method` request to `endpoint` (a name of
        `ivr.sim.rest.ROUTES`: ``calls``, ``members``, ...) is answered and before the app
        reads the answer. What a list says is true when Twilio answers it, not when the app
        acts on it: a caller can hang up in between. This puts such a change at that exact
        point. `action` runs in the thread serving the request, outside the lock: it may
        change calls and run the simulation (`run`), whose webhooks reach the app meanwhile."""
        with self.lock:
            self._after_rest.append((endpoint, method.upper(), action))

    def rest_answered(self, endpoint: str, method: str) -> None:
        """The REST API answered a request: run the actions waiting for it (`after_rest`)."""
        with self.lock:
            due = [a for a in self._after_rest if a[:2] == (endpoint, method.upper())]
            self._after_rest = [a for a in self._after_rest if a not in due]
        for _endpoint, _method, action in due:
            action()

    @property
    def rest_app(self) -> Any:
        """The WSGI app of Twilio's REST API (`/2010-04-01/Accounts/...`)."""
        if self._rest_app is None:
            # Loaded on first use: the REST side is werkzeug routing that most runs never serve.
            from ivr.sim.rest import RestApp

            self._rest_app = RestApp(self)
        return self._rest_app

    def serve_rest(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the REST API on a real port in a background thread; returns its base URL."""
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass  # a simulated day makes thousands of REST requests

        if self._server is None:
            self._server = make_server(host, port, self.rest_app, threaded=True,
                                       request_handler=Quiet)
            self._server_thread = threading.Thread(
                target=self._server.serve_forever, args=(0.1,), name="twilio-sim-rest",
                daemon=True)
            self._server_thread.start()
        return f"http://{host}:{self._server.server_port}"

    def stop_rest(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._server_thread is not None:
                self._server_thread.join(timeout=5)
            self._server = self._server_thread = None

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_rest()
