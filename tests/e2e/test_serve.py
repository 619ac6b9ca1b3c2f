"""`ivr serve` as a fresh install runs it: gunicorn over real HTTP, the embedded Redis and SQLite
under the data directory, an RQ worker beside it; a call placed by the emulator over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Worker

from ivr.sim import Caller, Emulator, HTTPTransport, NumberConfig, press, silence
from tests.conftest import TEST_ACCOUNT

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    token = "serve-test-token"
    env = {**os.environ, "TWILIO_AUTH_TOKEN": token, "IVR_DATA_DIR": str(tmp_path / "var"),
           "IVR_PUBLIC_URL": f"http://127.0.0.1:{port}", "TWILIO_ACCOUNT_SID": TEST_ACCOUNT,
           "PYTHONPATH": str(ROOT)}
    for name in ("IVR_REDIS_URL", "IVR_DATABASE_URL", "IVR_CONFIG"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "serve", "--port", str(port),
                             "--workers", "2"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.time() + 40
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode()) from None  # type: ignore[union-attr]
            time.sleep(0.2)
    yield port, token, tmp_path / "var"
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_serve_answers_a_call_over_http_with_its_worker(served) -> None:  # type: ignore[no-untyped-def]
    port, token, data_dir = served
    base = f"http://127.0.0.1:{port}"
    sim = Emulator(TEST_ACCOUNT, token,
                   [NumberConfig("+14435550311", f"{base}/voice/incoming",
                                 fallback_url=f"{base}/voice/fallback",
                                 status_callback=f"{base}/voice/status")],
                   HTTPTransport())
    call = sim.place_call(Caller("+14105550100", "+14435550311",
                                 script=[press("1"), silence(), silence(), silence()],
                                 hangup_after=100))
    sim.run_until_idle(max_seconds=400)
    assert not call.application_error
    assert "Thank you for calling City 3 1 1" in call.heard_text()
    assert (data_dir / "ivr.db").exists()
    # the embedded Redis is a real server for this data directory, and a worker is on it
    client = redis.Redis.from_url((data_dir / "redis.url").read_text().strip())
    assert (data_dir / "redis.db").exists() or client.config_get("dir")
    deadline = time.time() + 20
    workers: list = []
    while time.time() < deadline and not workers:
        workers = Worker.all(connection=client)
        time.sleep(0.3)
    assert workers, "no RQ worker registered on the embedded Redis"
