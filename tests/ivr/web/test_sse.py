"""The live stream (/api/v1/events): pushed over Redis pub/sub, filtered by who may see what."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from flask import Flask

from ivr.web.sse import sse, visible
from tests.ivr.console_support import Desk, add_account, queue_call


@pytest.fixture
def quick(services):  # type: ignore[no-untyped-def]
    """Streams of 3 s with a heartbeat every second."""
    raw = dict(services.settings.raw)
    raw["console"] = {**raw.get("console", {}), "events_heartbeat_seconds": 1,
                      "events_lifetime_seconds": 3}
    services.settings = dataclasses.replace(services.settings, raw=raw)
    return services


def open_stream(desk: Desk) -> Iterator[str]:
    response = desk.client.get("/api/v1/events", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    return (chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in response.response)


def next_event(chunks: Iterator[str]) -> tuple[str | None, dict]:
    """The next event (skipping comments and the retry hint): its name and data."""
    for chunk in chunks:
        if chunk.startswith(":") or chunk.startswith("retry:"):
            continue
        name = None
        for line in chunk.strip().splitlines():
            if line.startswith("event: "):
                name = line[len("event: "):]
            if line.startswith("data: "):
                return name, json.loads(line[len("data: "):])
    raise AssertionError("the stream ended")


def test_sse_formats_one_event_per_blank_line() -> None:
    expected = 'id: 7\nevent: snapshot\ndata: {"a":1}\n\n'
    assert sse({"a": 1}, event="snapshot", event_id=7) == expected
    assert sse([1]) == "data: [1]\n\n"
    assert visible({"agent": "a"}, "a", False) and not visible({"agent": "b"}, "a", False)
    assert visible({"agent": "b"}, None, True) and not visible({"agent": "b"}, None, False)


def test_offers_are_pushed_to_their_call_taker_only(app: Flask, quick) -> None:  # type: ignore[no-untyped-def]
    svc = quick
    mine = Desk(app.test_client(), add_account(svc))
    other = Desk(app.test_client(), add_account(svc, skills=("line:911",)))
    chunks = open_stream(mine)
    name, snapshot = next_event(chunks)
    assert name == "snapshot"
    assert snapshot == {"presence": snapshot["presence"], "offer": None}
    assert snapshot["presence"]["state"] == "offline"

    now = svc.clock().timestamp()
    svc.agents.login(other.login, ["line:911"], now)  # someone else's event: not shown
    svc.agents.login(mine.login, ["line:311"], now)
    name, login = next_event(chunks)
    assert name is None and login["agent"] == mine.login and login["event"] == "login"
    sid = queue_call(svc)
    svc.router.route(now)
    _name, offer_event = next_event(chunks)
    assert offer_event["event"] == "offered" and offer_event["state"] == "reserved"
    offer = offer_event["offer"]  # the whole offer, with no request from the browser
    assert offer["call"] == sid and offer["caller"].startswith("+1410")
    assert offer["menu_path"] and offer["seconds_left"] > 0
    assert offer_event["id"] > login["id"]


def test_supervisors_see_everyone_and_streams_end_on_their_own(app: Flask, quick) -> None:  # type: ignore[no-untyped-def]
    svc = quick
    supervisor = Desk(app.test_client(), add_account(svc, roles=("supervisor",)))
    chunks = open_stream(supervisor)
    name, snapshot = next_event(chunks)
    assert name == "snapshot" and snapshot == {"presence": None, "offer": None}
    now = svc.clock().timestamp()
    svc.agents.login("someone-a", ["line:311"], now)
    svc.agents.login("someone-b", ["line:911"], now)
    seen = [next_event(chunks)[1]["agent"] for _ in range(2)]
    assert seen == ["someone-a", "someone-b"]
    rest = list(chunks)  # ends by itself after its lifetime, with heartbeats meanwhile
    assert ": heartbeat\n\n" in rest


def test_the_stream_needs_a_session(app: Flask) -> None:
    response = app.test_client().get("/api/v1/events")
    assert response.status_code == 401


def test_ivr_serve_uses_threads_so_open_streams_do_not_block_requests() -> None:
    from ivr.serve import gunicorn_options

    options = gunicorn_options("127.0.0.1", 8000, workers=2, threads=32)
    assert options["worker_class"] == "gthread" and options["threads"] == 32
