"""End-to-end fixtures: the emulator places calls through the real Flask app.

The app's clock is the emulator's virtual clock, its REST base URL is the emulator's REST server
on a real localhost port, and every webhook is signed for the public URL: the app cannot tell it
from Twilio.
"""

from __future__ import annotations

import dataclasses
import random
import threading
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import event
from sqlalchemy.engine import Engine
from twilio.http.http_client import TwilioHttpClient

from ivr.app import create_app
from ivr.bootstrap import bootstrap
from ivr.sim import Caller, Emulator, NumberConfig, SimClock, WSGITransport
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN

LINE_311 = "+14435550311"
LINE_911 = "+14435550911"
# Monday 23 November 2026, 10:00 in New York: the 311 line is open.
OPEN_HOURS = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Center:
    """The app and the emulator wired together, with helpers to place calls."""

    def __init__(self, settings, start: datetime = OPEN_HOURS,  # type: ignore[no-untyped-def]
                 queues: dict | None = None) -> None:
        if queues:
            raw = {**settings.raw, "queues": {**settings.raw["queues"], **queues}}
            settings = dataclasses.replace(settings, raw=raw)
        self.clock = SimClock(start)
        numbers = [
            NumberConfig(n, f"{PUBLIC_URL}/voice/incoming",
                         fallback_url=f"{PUBLIC_URL}/voice/fallback",
                         status_callback=f"{PUBLIC_URL}/voice/status")
            for n in (LINE_311, LINE_911)
        ]
        # The app is made after the emulator (it needs the REST server's URL), so the transport
        # reaches it through a late-bound WSGI callable.
        self.sim = Emulator(TEST_ACCOUNT, TEST_TOKEN, numbers,
                            WSGITransport(lambda environ, start: self.app(environ, start)),
                            clock=self.clock, seed=random.randrange(2**32))
        rest = self.sim.serve_rest()
        self.settings = dataclasses.replace(settings, api_base=rest)
        self.services = bootstrap(self.settings, clock=self.clock.now)
        self.app = create_app(services=self.services)

    def call(self, script=(), line: str = LINE_311, caller: str = "+14105550100",  # type: ignore[no-untyped-def]
             hangup_after: float | None = None, at: float | None = None):
        return self.sim.place_call(Caller(caller, line, script=list(script),
                                          hangup_after=hangup_after), at=at)

    def run(self, max_seconds: float | None = 3600) -> None:
        self.sim.run_until_idle(max_seconds=max_seconds)

    def close(self) -> None:
        self.sim.stop_rest()
        self.services.engine.dispose()


@pytest.fixture
def center_factory(settings) -> Iterator:  # type: ignore[no-untyped-def]
    made: list[Center] = []

    def make(start: datetime = OPEN_HOURS, queues: dict | None = None) -> Center:
        c = Center(settings, start, queues)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def center(center_factory) -> Center:  # type: ignore[no-untyped-def]
    return center_factory()


# -- short write transactions ----------------------------------------------------------------


class RoundTripInsideSqlWrite(AssertionError):
    """A Redis command or a Twilio REST request was sent while this thread held an SQL write
    transaction open."""


@pytest.fixture(autouse=True)
def short_sql_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail any Redis command or Twilio REST request sent while the same thread holds an open
    SQL write transaction: SQLite's one write lock (and a PostgreSQL row lock) must never wait
    on a network round trip (the mass hang-up of bench/load.py timed out behind such a
    transaction)."""
    local = threading.local()
    seen: list[str] = []

    def writing() -> set[int]:
        if not hasattr(local, "writing"):
            local.writing = set()
        return local.writing

    def before(conn, cursor, statement, *_):  # type: ignore[no-untyped-def]
        if statement.lstrip()[:6].lower() in ("insert", "update", "delete"):
            writing().add(id(conn))

    def ended(conn, *_):  # type: ignore[no-untyped-def]
        writing().discard(id(conn))

    listeners = (("before_cursor_execute", before), ("commit", ended), ("rollback", ended))
    for name, fn in listeners:
        event.listen(Engine, name, fn)
    def guarded(real, what):  # type: ignore[no-untyped-def]
        def call(self, *args, **options):  # type: ignore[no-untyped-def]
            if writing():
                seen.append(f"{what} {args[0]} inside an SQL write:\n"
                            + "".join(traceback.format_stack()))
                raise RoundTripInsideSqlWrite(seen[-1])
            return real(self, *args, **options)
        return call

    monkeypatch.setattr(redis.Redis, "execute_command",
                        guarded(redis.Redis.execute_command, "Redis"))
    monkeypatch.setattr(TwilioHttpClient, "request",
                        guarded(TwilioHttpClient.request, "Twilio REST"))
    yield seen
    for name, fn in listeners:
        event.remove(Engine, name, fn)
    assert not seen, seen[0]
