"""Heartbeats: how a web process learns that the worker and the floor's ticker are alive.

Each part writes its key with a short TTL (`beat`) every second or so; `alive` reads them all in
one round trip. A part whose key has expired has not beaten for `TTL` seconds: it is down (or
Redis lost it, which is as bad for the floor). Keys carry the center's hash tag.
"""

from __future__ import annotations

import os
import time

import redis

PARTS = ("worker", "ticker")
TTL = 5  # seconds: a few missed beats, not one slow tick


def key(center: str, part: str) -> str:
    return f"ivr:{{{center}}}:heartbeat:{part}"


def beat(client: redis.Redis, center: str, part: str, ttl: int = TTL) -> None:
    """`part` of this process is alive now (its pid and time, for a reader)."""
    client.set(key(center, part), f"{os.getpid()} {time.time():.3f}", ex=ttl)


def alive(client: redis.Redis, center: str, parts: tuple[str, ...] = PARTS) -> dict[str, bool]:
    """Which parts have beaten within their TTL (one MGET); raises `redis.RedisError`."""
    values = client.mget([key(center, p) for p in parts])
    return {p: v is not None for p, v in zip(parts, values, strict=True)}
