"""A dispatch center's hand-off receiver for tests: a real HTTP server on a local port.

It checks every request's signature (`ivr.platform.outbox.verify`, with its own clock), honours the
idempotency key (a key already processed is answered 200 and not processed again), and can be
told to fail its first requests (HTTP 503) or to stall its first request until released.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ivr.platform import outbox


@dataclass
class Received:
    key: str
    signed: bool
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    secret: str
    fail_first: int = 0
    stall_first: bool = False
    received: list[Received] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    first_arrived: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.handle(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/eido"

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k: v for k, v in request.headers.items()}
        signed = outbox.verify(self.secret, request.headers, body, time.time())
        key = request.headers.get(outbox.KEY, "")
        self.received.append(Received(key, signed, json.loads(body), headers))
        number = len(self.received)
        if number == 1:
            self.first_arrived.set()
            if self.stall_first:
                self.release.wait(60)
        if not signed:
            return self._answer(request, 401)
        if number <= self.fail_first:
            return self._answer(request, 503)
        self.processed.setdefault(key, json.loads(body))  # honours the key: once per key
        self._answer(request, 200)

    def _answer(self, request: BaseHTTPRequestHandler, status: int) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Length", "0")
            request.end_headers()
        except OSError:
            pass  # the sender is gone (killed mid-delivery)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
