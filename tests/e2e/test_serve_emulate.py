"""`ivr serve --emulate` from a fresh folder: its emulated carrier takes calls from its own API
and from `ivr call` in another terminal, the app reaches it only through its configuration, and
Ctrl-C (SIGINT) or SIGTERM leaves no process and no carrier marker behind."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.emulated_support import emulated_floor, environment

WELCOME = "Thank you for calling City 3 1 1"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_test_call_reaches_the_running_center_and_the_stop_leaves_nothing(
        tmp_path: Path, sig: int) -> None:
    with emulated_floor(tmp_path, []) as floor:
        placed = floor.carrier_api("POST", "/calls", {"line": "311"})
        sid = placed["call"]
        view = floor.wait_heard(sid, WELCOME)  # the app answered over real HTTP
        assert not any("application error" in line["text"] for line in view["lines"])
        floor.carrier_api("POST", f"/calls/{sid}/input", {"keys": "1"})  # kept or heard
        floor.wait_heard(sid, "", after="1")  # the next prompt, after the key
        # The app's REST client went to the emulator: the call is in the app's own records.
        log = floor.log.read_text()
        assert f"{floor.carrier['url']}/2010-04-01/Accounts" in log
        assert "Request: https://api.twilio.com" not in log
        floor.carrier_api("POST", f"/calls/{sid}/input", {"hangup": True})
        left = floor.stop(sig)
        assert left == [], f"left running after {signal.Signals(sig).name}: {left}"
        assert not (tmp_path / "var" / "carrier.json").exists()
        assert not (tmp_path / "var" / "redis.url").exists()


def test_ivr_call_in_another_terminal_reaches_the_running_carrier(tmp_path: Path) -> None:
    with emulated_floor(tmp_path, []) as floor:
        # The terminal: press 1 at the first menu, then hang up at the next one.
        done = subprocess.run([sys.executable, "-m", "ivr.cli", "call", "311"], cwd=tmp_path,
                              env=environment(tmp_path), input="1\nh\n", text=True,
                              capture_output=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "emulated carrier" in done.stdout and WELCOME in done.stdout
        assert "-- call completed" in done.stdout
        assert "Traceback" not in done.stdout + done.stderr
        assert floor.stop() == []
