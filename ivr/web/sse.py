"""The consoles' live stream: server-sent events fed by the agents' Redis pub/sub channel.

Pushed, not polled: each presence change the agents' Lua scripts publish reaches the browsers
whose user may see it (their own events; supervisors and admins see everyone's) within one
Redis round trip.

Resume. The agents' events are published, not stored, so replaying what a browser missed from
``Last-Event-ID`` would need a log kept for that alone. Instead every stream opens with a
``snapshot`` event (the user's presence and open offer, read after subscribing, so nothing
published in between is lost) and the browser rebuilds its screen from it: a reconnect loses
nothing that matters, whatever it missed. Event ids (the agents' per-center counter) are still
sent, so a browser can drop an event it already applied.

Lifetime. A stream holds a server thread (gunicorn's gthread worker: see `ivr serve`) and a
Redis connection. Each one ends after `lifetime` seconds and the browser reconnects at once
(``retry``), so threads come back to the pool, a disabled account's stream ends within minutes,
and a deploy drains. A comment every `heartbeat` seconds keeps proxies from closing an idle
stream and lets the server notice a browser that left.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from redis import Redis

log = logging.getLogger("ivr.console_events")

RETRY_MS = 2000


def sse(data: Any, event: str | None = None, event_id: Any = None) -> str:
    """One server-sent event (the JSON of `data` on one ``data:`` line)."""
    head = ""
    if event_id is not None:
        head += f"id: {event_id}\n"
    if event:
        head += f"event: {event}\n"
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n"


def visible(event: dict[str, Any], agent_id: str | None, sees_all: bool) -> bool:
    return sees_all or (agent_id is not None and event.get("agent") == agent_id)


def stream(
    redis: Redis,
    channel: str,
    *,
    agent_id: str | None,
    sees_all: bool,
    snapshot: Callable[[], dict[str, Any]],
    enrich: Callable[[dict[str, Any]], dict[str, Any]],
    heartbeat: float,
    lifetime: float,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """The text of one stream. `snapshot()` is sent first; each visible event is passed through
    `enrich` (which adds the details of an offer to its ``offered`` event)."""
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel)
        yield f"retry: {RETRY_MS}\n\n"
        yield sse(snapshot(), event="snapshot")
        started = last_sent = clock()
        while True:
            now = clock()
            if now - started >= lifetime:
                return
            wait = max(0.05, min(1.0, heartbeat - (now - last_sent), lifetime - (now - started)))
            message = pubsub.get_message(timeout=wait)
            if message is not None and message.get("type") == "message":
                try:
                    event = json.loads(message["data"])
                except (TypeError, ValueError):
                    log.warning("unreadable event on %s", channel)
                    continue
                if isinstance(event, dict) and visible(event, agent_id, sees_all):
                    yield sse(enrich(event), event_id=event.get("id"))
                    last_sent = clock()
            if clock() - last_sent >= heartbeat:
                yield ": heartbeat\n\n"
                last_sent = clock()
    finally:
        pubsub.close()
