"""bench/faults.py at a small scale: faults injected into `ivr serve` (real processes, real
HTTP, call-takers over the console API) while calls are live, checked by the run's own figures:
no call lost, no call-taker held on an ended call past 30 s, no ended call offered, no
application error one host can prevent, every fault recovered from, the audit clean."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import servers_available

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--calls", "6", "--agents", "3", "--handle", "12", "--warmup", "12", "--settle", "60",
         "--lose-for", "10"]


def chaos(*args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "faults.py"), *SMALL, *args],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-5000:]
    return out


def figures(out: str) -> dict[str, float]:
    found = {
        "lost": r"calls lost: (\d+)",
        "stuck": r"held on an ended call: ([\d.]+) s",
        "offers": r"offers of ended calls: (\d+)",
        "avoidable": r"application errors: \d+ \(\d+ in a whole restart.*?; (\d+) otherwise;",
        "violations": r"audit: (\d+) violation",
        "faults": r"faults injected: (\d+)",
    }
    out_figures = {}
    for name, pattern in found.items():
        match = re.search(pattern, out)
        assert match, f"no {name} figure in:\n{out}"
        out_figures[name] = float(match.group(1))
    return out_figures


def test_every_fault_on_the_embedded_default_loses_no_caller() -> None:
    out = chaos()
    f = figures(out)
    assert f["faults"] == 5, out
    assert f["lost"] == 0 and f["offers"] == 0 and f["violations"] == 0, out
    assert f["avoidable"] == 0 and f["stuck"] <= 30, out
    # The lost final callbacks were mended by the reconciler, and it said so.
    assert re.search(r"repairs: .*call-ended \d+", out), out


@pytest.mark.skipif(not servers_available(), reason="Redis and PostgreSQL servers do not answer")
def test_a_redis_server_restart_under_postgresql_loses_no_caller() -> None:
    out = chaos("--servers", "--faults", "web-worker,redis,rq-worker")
    f = figures(out)
    assert f["faults"] == 3, out
    assert f["lost"] == 0 and f["offers"] == 0 and f["violations"] == 0, out
    assert f["avoidable"] == 0 and f["stuck"] <= 30, out
