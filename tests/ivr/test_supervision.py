"""`ivr serve` watches what it starts, as real processes: a killed RQ worker or embedded
redis-server comes back (Redis with its data, from the AOF), `/healthz` says which part is down
meanwhile, SIGHUP replaces the web workers without failing a request, and SIGTERM leaves no
process behind. One `ivr serve` for the module; the SIGTERM test ends it and runs last."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
import yaml

from ivr.platform import heartbeat
from ivr.platform.config import load_settings
from ivr.sim import Emulator, HTTPTransport
from tests.conftest import TEST_ACCOUNT
from tests.e2e.helpers import wait_for
from tests.e2e.test_serve import free_port

ROOT = Path(__file__).resolve().parents[2]
RESTART_FIRST = 1.5  # seconds before a first restart: long enough to see /healthz fail




def processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every live process (from /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if fields[0] != "Z":
            found[int(stat.parent.name)] = (int(fields[1]), cmdline)
    return found


def tree(root: int) -> dict[int, str]:
    """Every live process below `root`: pid -> command line."""
    procs = processes()
    below, todo = {}, [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, cmd) in procs.items():
            if ppid == parent:
                below[pid] = cmd
                todo.append(pid)
    return below


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    base: str
    data_dir: Path
    center: str

    def health(self) -> tuple[int, dict]:  # type: ignore[type-arg]
        try:
            r = requests.get(self.base + "/healthz", timeout=3)
        except requests.RequestException:
            return 0, {}
        return r.status_code, r.json()

    def ok(self) -> bool:
        return self.health()[0] == 200

    def part(self, needle: str) -> int | None:
        """The pid of the one child of `ivr serve` whose command line holds `needle`."""
        pids = [p for p, (ppid, cmd) in processes().items()
                if ppid == self.proc.pid and needle in cmd]
        return pids[0] if len(pids) == 1 else None

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url((self.data_dir / "redis.url").read_text().strip(),
                                    decode_responses=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("serve")
    port, token = free_port(), "supervision-token"
    twilio = Emulator(TEST_ACCOUNT, token, [], HTTPTransport())  # the reconciler's Twilio
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({"serve": {"restart_first_seconds": RESTART_FIRST}}))
    env = {**os.environ, "TWILIO_AUTH_TOKEN": token, "IVR_DATA_DIR": str(folder / "var"),
           "IVR_PUBLIC_URL": f"http://127.0.0.1:{port}", "TWILIO_ACCOUNT_SID": TEST_ACCOUNT,
           "IVR_TWILIO_API_BASE": twilio.serve_rest(), "IVR_CONFIG": str(config),
           "PYTHONPATH": str(ROOT)}
    for name in ("IVR_REDIS_URL", "IVR_DATABASE_URL"):
        env.pop(name, None)
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "serve", "--port", str(port),
                             "--workers", "2", "--threads", "4"], cwd=folder, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    served = Served(proc, f"http://127.0.0.1:{port}", folder / "var",
                    load_settings(env=env).center)
    try:
        wait_for(lambda: served.ok() or proc.poll() is not None, 60, "/healthz ok")
        assert proc.poll() is None, (folder / "serve.log").read_text()
        yield served
    finally:
        left = tree(proc.pid)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for pid in left:  # whatever a failed test left
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        twilio.stop_rest()
        log.close()


def test_healthz_reports_every_part(served: Served) -> None:
    status, body = served.health()
    assert status == 200
    assert body == {"ok": True, "parts": {"redis": True, "database": True, "worker": True,
                                          "ticker": True}}


def test_a_killed_rq_worker_is_started_again(served: Served) -> None:
    old = served.part("ivr.cli worker")
    assert old is not None
    os.kill(old, signal.SIGKILL)
    new = wait_for(lambda: (p := served.part("ivr.cli worker")) not in (None, old) and p, 30,
                   "a new worker process")
    assert new != old
    client = served.redis()
    beat = heartbeat.key(served.center, "worker")
    wait_for(lambda: (client.get(beat) or "").split(" ")[0] == str(new), 30,
             "the new worker's heartbeat")
    wait_for(served.ok, 30, "/healthz ok again")
    client.close()


def test_a_killed_redis_is_restarted_on_its_aof_and_healthz_fails_meanwhile(
        served: Served) -> None:
    client = served.redis()
    key, value = f"survivor-{uuid.uuid4().hex}", "kept by the AOF"
    client.set(key, value)
    old = served.part("redis-server")
    assert old is not None
    os.kill(old, signal.SIGKILL)
    status, body = wait_for(lambda: (h := served.health())[0] == 503 and h, RESTART_FIRST,
                            "/healthz 503 while Redis is down")  # type: ignore[misc]
    assert body["ok"] is False and body["parts"]["redis"] is False
    assert body["parts"]["database"] is True
    wait_for(lambda: served.part("redis-server") not in (None, old), 30, "a new redis-server")
    wait_for(served.ok, 30, "/healthz ok again")
    assert client.get(key) == value  # same socket, same data
    client.close()


def test_sighup_replaces_the_web_workers_without_failing_a_request(served: Served) -> None:
    arbiter = served.part("ivr.serve")
    assert arbiter is not None
    before = set(tree(arbiter))
    assert len(before) == 2
    outcomes: list[int | str] = []
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:  # a new connection each time: the listening socket must never refuse one
                outcomes.append(requests.get(served.base + "/static/shared/api.js",
                                             timeout=10).status_code)
            except requests.RequestException as exc:
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(outcomes) >= 20, 30, "requests before the reload")
        os.kill(served.proc.pid, signal.SIGHUP)
        wait_for(lambda: len(now := set(tree(arbiter))) == 2 and not now & before, 60,
                 "two new web workers, the old ones gone")
        count = len(outcomes)
        wait_for(lambda: len(outcomes) >= count + 20, 30, "requests after the reload")
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert served.part("ivr.serve") == arbiter  # the arbiter kept its socket
    failed = [o for o in outcomes if o != 200]
    assert not failed and len(outcomes) >= 40, failed
    wait_for(served.ok, 30, "/healthz ok after the reload (worker restarted)")


def test_sigterm_stops_every_part_and_leaves_nothing_running(served: Served) -> None:
    def every_part() -> dict[int, str]:
        below = tree(served.proc.pid)
        names = " ".join(below.values())
        whole = "redis-server" in names and "ivr.cli worker" in names and "ivr.serve" in names
        return below if whole else {}

    # On a loaded machine a part may be between a start and its first breath: wait for all.
    below = wait_for(every_part, 60, "redis-server, the worker and the web arbiter running")
    assert isinstance(below, dict)
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(60) == 0
    alive = processes()
    assert [cmd for pid, cmd in below.items() if pid in alive] == []
    assert not [cmd for _ppid, cmd in alive.values() if str(served.data_dir) in cmd]
    assert not (served.data_dir / "redis.url").exists()
