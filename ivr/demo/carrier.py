"""The emulated carrier of `ivr serve --emulate`: the offline Twilio, on the wall clock, for a
running server.

One process (``python -m ivr.demo.carrier --port P``, started and watched by `ivr serve`)
plays Twilio for the center: it holds the center's numbers (their webhooks point at the
server's public URL), serves Twilio's REST API at ``/2010-04-01/...`` (the app reaches it
through ``IVR_TWILIO_API_BASE``), and answers the legs the app places: a call-taker's browser
phone (``client:...``) picks up at once, as the console does with a real one; every other
number (a dispatch center, a resident called back) answers after a few seconds.

Its own small API, under ``/emulator`` and behind a key, places test calls and lets a person
play the caller (what they hear, the keys they press, what they say):

- ``GET  /emulator``: the lines and their numbers;
- ``POST /emulator/calls`` (``line`` or ``to``, optional ``from``): a live caller dials in;
  with ``keys`` (one per menu) or ``patience`` (seconds in line), a scripted one instead;
- ``GET  /emulator/calls/<CallSid>``: the caller's side, as text;
- ``POST /emulator/calls/<CallSid>/input`` (``keys``, ``say`` or ``hangup``).

Where it is: ``carrier.json`` in the data directory (its URL and key, mode 0600), written once
it listens and removed when it stops, so `ivr call` in another terminal finds it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from ivr.demo.carrierlink import marker_path, write_marker
from ivr.demo.trycall import number_of
from ivr.platform.config import Settings, load_settings
from ivr.sim import Caller, Emulator, HTTPTransport, NumberConfig, SimClock
from ivr.sim.call import Call
from ivr.sim.callers import Item, Party, answers, hangup, press, say, silence
from ivr.sim.patience import Patience
from ivr.sim.transport import Transport

log = logging.getLogger("ivr.carrier")

STEP = 0.05  # seconds of wall clock between runs of the simulation
DEFAULT_CALLER = "+14105550100"
MAX_INPUT = 500


def party_for(to: str) -> Party:
    """Who answers the legs the app places (see the module docstring)."""
    if to.startswith("client:"):
        return answers(after=1)  # the console's browser phone accepts for the call-taker
    return answers(after=4)


def caller_view(call: Call) -> dict[str, Any]:
    """The caller's side of `call` as text lines: what they heard, pressed and said, and what
    happened to the call (``who``: "heard", "pressed", "said", "call")."""
    lines: list[dict[str, Any]] = []

    def add(t: float, who: str, text: str) -> None:
        lines.append({"t": round(t - call.created_t, 1), "who": who, "text": text})

    for e in call.transcript:
        d = e.data
        if e.kind == "say":
            add(e.t, "heard", d["text"])
        elif e.kind == "play":
            add(e.t, "heard", f"(tones {d['digits']})" if d.get("digits") else "(music)")
        elif e.kind == "gather" and d.get("result") == "digits":
            add(e.t, "pressed", (d.get("digits") or "") + (d.get("finished_on") or ""))
        elif e.kind == "gather" and d.get("result") == "speech":
            add(e.t, "said", d.get("speech") or "")
        elif e.kind == "record" and d.get("duration"):
            add(e.t, "said", f"(a message of {d['duration']} s)")
        elif e.kind in _CALL_EVENTS:
            add(e.t, "call", _CALL_EVENTS[e.kind])
        elif e.kind == "ended":
            add(e.t, "call", f"call ended ({d['status']})")
        elif e.kind == "application_error":
            add(e.t, "call", "Twilio's application error: the app failed this call")
    person = call.person
    window = person.window if person is not None else None
    return {
        "call": call.sid, "from": call.from_, "to": call.to, "status": call.status,
        "ended": call.ended,
        "listening": None if window is None else {
            "kind": window.kind, "input": sorted(window.input), "timeout": window.timeout},
        "kept": len(person.kept) if person is not None else 0,
        "lines": lines,
    }


_CALL_EVENTS = {
    "answered": "answered", "enqueued": "waiting in line", "dequeued": "taken from the line",
    "conference_join": "in the call's conference room, waiting",
    "conference_start": "the conference started: the call-taker is on the line",
    "conference_leave": "left the call room", "hold": "put on hold", "unhold": "taken off hold",
}


def parse_input(form: dict[str, Any]) -> Item:
    """``keys`` (0-9, *, #), ``say`` (words) or ``hangup``; `ValueError` with a sentence."""
    if form.get("hangup"):
        return hangup()
    keys = str(form.get("keys") or "").strip()
    words = str(form.get("say") or "").strip()
    if keys and words:
        raise ValueError("press keys or say words, not both at once")
    if len(keys) > MAX_INPUT or len(words) > MAX_INPUT:
        raise ValueError(f"at most {MAX_INPUT} characters at once")
    if keys:
        if any(k not in "0123456789*#" for k in keys):
            raise ValueError("keys are 0-9, * and #")
        return press(keys, after=0.0)
    if words:
        return say(words, after=0.0)
    if form.get("silence"):
        return silence()
    raise ValueError("give keys, say or hangup")


class Carrier:
    """The emulator wired to a running server (see the module docstring)."""

    def __init__(self, settings: Settings, key: str, transport: Transport | None = None) -> None:
        self.settings = settings
        self.key = key
        base = settings.public_url
        self.lines = {name: number_of(settings, name) for name in settings.lines}
        numbers = [NumberConfig(number, f"{base}/voice/incoming",
                                fallback_url=f"{base}/voice/fallback",
                                status_callback=f"{base}/voice/status")
                   for number in dict.fromkeys(self.lines.values())]
        self.sim = Emulator(settings.account_sid, settings.auth_token, numbers,
                            transport or HTTPTransport(),
                            clock=SimClock(datetime.now(UTC)), seed=secrets.randbits(64))
        self.sim.party_resolver = party_for
        self.patience = Patience(self.sim)  # scripted callers give up in line
        self.control = Map([
            Rule("/emulator", endpoint="lines", methods=["GET"]),
            Rule("/emulator/calls", endpoint="place", methods=["POST"]),
            Rule("/emulator/calls/<sid>", endpoint="view", methods=["GET"]),
            Rule("/emulator/calls/<sid>/input", endpoint="input", methods=["POST"]),
        ])
        self._stop = threading.Event()

    # -- the HTTP side: Twilio's REST API and the control API on one port ---------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").startswith("/emulator"):
            return self.handle(Request(environ))(environ, start_response)
        return self.sim.rest_app(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return _json({"error": "the emulator's key is missing or wrong"}, 401)
        try:
            endpoint, args = self.control.bind_to_environ(request.environ).match()
            form = request.get_json(silent=True) or request.form.to_dict()
            return getattr(self, f"_{endpoint}")(form, **args)
        except (KeyError, NotFound):
            return _json({"error": "no such call"}, 404)
        except ValueError as exc:
            return _json({"error": str(exc)}, 400)
        except HTTPException as exc:
            return _json({"error": exc.name}, exc.code or 400)

    def _lines(self, _form: dict[str, Any]) -> Response:
        return _json({"lines": self.lines, "app": self.settings.public_url})

    def _place(self, form: dict[str, Any]) -> Response:
        line = str(form.get("line") or "")
        to = str(form.get("to") or "") or self.lines.get(line) or ""
        if to not in self.sim.numbers:
            raise ValueError(f"no line {line or to!r}; the lines are "
                             f"{', '.join(sorted(self.lines))}")
        from_ = str(form.get("from") or DEFAULT_CALLER)
        keys, patience = str(form.get("keys") or ""), form.get("patience")
        if keys or patience is not None:  # a scripted caller (`ivr demo --realtime`)
            if any(k not in "0123456789*#" for k in keys) or len(keys) > 20:
                raise ValueError("keys are up to 20 of 0-9, * and #, one per menu")
            wait = float(patience if patience is not None else 600)
            if not 0 < wait <= 4 * 3600:
                raise ValueError("patience is seconds in line, up to 4 hours")
            call = self.sim.place_call(Caller(from_, to, script=[press(k) for k in keys]))
            self.patience.watch(call, wait, self.sim.clock.elapsed + 1)
        else:
            call = self.sim.place_call(Caller(from_, to, live=True))
        log.info("test call %s placed to %s", call.sid, to)
        return _json({"call": call.sid, "to": to, "from": from_}, 201)

    def _view(self, _form: dict[str, Any], sid: str) -> Response:
        with self.sim.lock:
            return _json(caller_view(self.sim.calls[sid]))

    def _input(self, form: dict[str, Any], sid: str) -> Response:
        item = parse_input(form)
        result = self.sim.send_input(sid, item)
        return _json({"result": result})

    # -- running --------------------------------------------------------------------------------

    def run(self, host: str, port: int, data_dir: Path) -> None:
        """Serve and run on the wall clock until SIGTERM/SIGINT; the marker lives as long."""

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        server = make_server(host, port, self, threaded=True, request_handler=Quiet)
        thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True,
                                  name="carrier-http")
        thread.start()
        url = f"http://{host}:{server.server_port}"
        write_marker(data_dir, url, self.key)
        log.info("emulated carrier at %s for %s", url, self.settings.public_url)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stop.set())
        try:
            wall = time.monotonic()
            while not self._stop.is_set():
                self.sim.run(until=time.monotonic() - wall)
                self._stop.wait(STEP)
        finally:
            marker_path(data_dir).unlink(missing_ok=True)
            server.shutdown()
            server.server_close()


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The emulated carrier of ivr serve --emulate.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("twilio", "werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = load_settings()
    key = os.environ.get("IVR_EMULATOR_KEY") or secrets.token_hex(16)
    Carrier(settings, key).run(args.host, args.port, settings.data_dir)


if __name__ == "__main__":
    main()
