"""bench/load.py at a tiny scale: the same storm through `ivr serve` over HTTP, checked by its
own closing figures (calls answered, none lost, no audit violation)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_storm_loses_no_call_and_breaks_no_rule() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--calls", "12", "--agents", "3",
         "--minutes", "0.5", "--workers", "2", "--threads", "4", "--handle", "20",
         "--emergency-share", "1"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "calls lost: 0 " in out
    assert "audit: 0 violation(s)" in out
    answered = re.search(r"answered (\d+)", out)
    assert answered and int(answered.group(1)) >= 3, out  # every call-taker took a call
    latency = re.search(r"latency p50 ([\d.]+) ms, p99 ([\d.]+) ms", out)
    assert latency and 0 < float(latency.group(1)) <= float(latency.group(2)), out
