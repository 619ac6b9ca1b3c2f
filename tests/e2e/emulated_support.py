"""`ivr serve --emulate` as a new user runs it, in a fresh folder, as a subprocess: accounts made
with `ivr agents add`, then the server with its emulated carrier; helpers to reach the carrier's
own API and to stop the whole tree and see what it left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ivr.serve import descendants
from tests.e2e.test_serve import ROOT, free_port

PASSWORD = "floor-Password-42"


@dataclass
class Floor:
    url: str
    folder: Path
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def carrier(self) -> dict[str, str]:
        return json.loads((self.folder / "var" / "carrier.json").read_text())

    def carrier_api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        c = self.carrier
        answer = requests.request(method, f"{c['url']}/emulator{path}", json=body, timeout=10,
                                  headers={"Authorization": f"Bearer {c['key']}"})
        answer.raise_for_status()
        return answer.json()

    def wait_heard(self, sid: str, text: str, after: str | None = None,
                   timeout: float = 90) -> dict[str, Any]:
        """The caller's side once the caller has heard `text` (after pressing `after`, if
        given): a real-time wait."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.carrier_api("GET", f"/calls/{sid}")
            lines = view["lines"]
            if after is not None:
                pressed = [i for i, line in enumerate(lines)
                           if line["who"] == "pressed" and line["text"] == after]
                lines = lines[pressed[0] + 1:] if pressed else []
            if any(line["who"] == "heard" and text in line["text"] for line in lines):
                return view
            if view["ended"] or time.monotonic() > deadline:
                raise AssertionError(f"the caller never heard {text!r}: {view}")
            time.sleep(0.5)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> list[int]:
        """Send `sig` to `ivr serve` alone (as a terminal's Ctrl-C or a service manager does);
        returns the pids of its tree still alive afterwards (none, if it stopped cleanly)."""
        tree = descendants(self.proc.pid)
        self.proc.send_signal(sig)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=timeout)
        # A child told to die with its parent may take a moment after the parent is gone.
        deadline = time.monotonic() + 5
        while (alive := [pid for pid in [self.proc.pid, *tree] if _alive(pid)]) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        return alive


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def environment(folder: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in list(env):  # a fresh install: nothing of the test run's own configuration
        if (name.startswith("IVR_") or name.startswith("TWILIO_")) and name != "IVR_LOG_KEY":
            env.pop(name)
    return env


def ivr(folder: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "ivr.cli", *args], cwd=folder, input=stdin,
                          env=environment(folder), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@contextmanager
def emulated_floor(folder: Path, accounts: list[tuple[str, str, list[str]]]) -> Iterator[Floor]:
    """`ivr serve --emulate` in `folder` with `accounts` (login, name, extra `ivr agents add`
    options), each with `PASSWORD`. Stopped (SIGKILL to what is left) on the way out."""
    for login, name, options in accounts:
        ivr(folder, "agents", "add", login, "--name", name, *options, "--password-stdin",
            stdin=PASSWORD + "\n")
    port = free_port()
    log = folder / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ivr.cli", "serve", "--emulate",
                                 "--port", str(port), "--workers", "1", "--threads", "16"],
                                cwd=folder, env=environment(folder), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    floor = Floor(f"http://127.0.0.1:{port}", folder, proc, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                ok = requests.get(f"{floor.url}/healthz", timeout=2).ok
            except requests.RequestException:
                ok = False
            if ok and (folder / "var" / "carrier.json").exists():
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()[-3000:])
            time.sleep(0.3)
        yield floor
    finally:
        # What the server said, kept for a look after the run (pytest's folders rotate).
        (ROOT / "artifacts").mkdir(exist_ok=True)
        shutil.copy(log, ROOT / "artifacts" / f"serve-emulate-{folder.name}.log")
        if proc.poll() is None:
            for pid in [*descendants(proc.pid), proc.pid]:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.wait()
