"""`ivr serve --emulate` from a fresh folder: its emulated carrier takes calls from its own API,
from `ivr call` in another terminal and from `ivr demo --realtime`, the app reaches it only
through its configuration, and Ctrl-C (SIGINT) or SIGTERM leaves no process and no carrier
marker behind."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.demo.carrierlink import running_carrier
from ivr.demo.day import DemoOptions
from ivr.demo.dayplan import DayOptions
from ivr.demo.livecalls import place_shift
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


def test_a_realtime_demo_places_its_callers_on_the_running_carrier(tmp_path: Path) -> None:
    """`ivr demo --realtime` on a running `ivr serve --emulate`: the shift's callers dial the
    running center (its wall-clock pacing compressed here: the clock is a parameter)."""
    with emulated_floor(tmp_path, []) as floor:
        client = running_carrier(tmp_path / "var")
        assert client is not None
        now = [0.0]
        said: list[str] = []
        options = DemoOptions(day=DayOptions(calls=4, start_hour=9, end_hour=10,
                                             emergency_share=0.5), realtime=True, seed=3)
        placed = place_shift(client, options, said.append, clock=lambda: now[0],
                             sleep=lambda s: now.__setitem__(0, now[0] + s))
        assert len(placed) >= 3 and said[-1] == f"{len(placed)} calls placed"
        for sid in placed:  # every caller reached the app (heard its first words)
            view = floor.wait_heard(sid, "", timeout=60)
            assert not view["listening"]  # scripted callers, not a person at a keyboard
        assert floor.stop() == []
