"""How close is the estimated wait a caller hears to the wait they then have?

An emulated run through the real app: callers arrive at random (Poisson) on the 311 line, choose
"talk to a call-taker" and wait; a floor of K call-takers takes the best waiting call whenever one
is free (`Queues.pop`), talks for an exponential handle time, and the handle times feed the
estimate (`record_handle_time`, `set_staffing`). For every call the estimate it was given when it
entered the queue is compared with the wait it actually had.

    python bench/wait_estimate.py [--agents 8] [--hours 2] [--aht 180] [--load 0.9] [--seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import random
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.twiml.voice_response import VoiceResponse  # noqa: E402

from ivr.app import create_app  # noqa: E402
from ivr.bootstrap import bootstrap, prepare_database  # noqa: E402
from ivr.platform.config import load_settings  # noqa: E402
from ivr.platform.redisconn import stop_embedded  # noqa: E402
from ivr.sim import Caller, Emulator, NumberConfig, SimClock, WSGITransport, press  # noqa: E402
from ivr.telephony.rest import client_for  # noqa: E402

PUBLIC = "https://ivr.example.org"
TOKEN = "bench-token"
ACCOUNT = "AC" + "0" * 31 + "1"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--agents", type=int, default=8)
    p.add_argument("--hours", type=float, default=2.0)
    p.add_argument("--aht", type=float, default=180.0, help="mean handle time, seconds")
    p.add_argument("--load", type=float, default=0.9, help="offered load per call-taker")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    for noisy in ("twilio", "ivr"):  # a line per REST request and per call: thousands
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ivr-estimate-") as tmp:
        try:
            run(args, Path(tmp))
        finally:
            stop_embedded(Path(tmp))  # the embedded Redis the app started there


def run(args: argparse.Namespace, folder: Path) -> None:
    rng = random.Random(args.seed)
    settings = load_settings(ROOT / "config.yaml", overrides={
        "public_url": PUBLIC, "data_dir": str(folder), "center": "estimate"},
        env={"TWILIO_AUTH_TOKEN": TOKEN})
    prepare_database(settings.database_url)
    clock = SimClock(datetime(2026, 11, 23, 13, 0, tzinfo=UTC))  # a Monday, 8:00 in New York
    holder: dict = {}
    sim = Emulator(ACCOUNT, TOKEN, [NumberConfig("+14435550311", f"{PUBLIC}/voice/incoming",
                                                 status_callback=f"{PUBLIC}/voice/status")],
                   WSGITransport(lambda e, s: holder["app"](e, s)), clock=clock, seed=args.seed)
    settings = dataclasses.replace(settings, api_base=sim.serve_rest())
    services = bootstrap(settings, clock=clock.now)
    holder["app"] = create_app(services=services)
    rest = client_for(settings.api_base, ACCOUNT, TOKEN)
    queues = services.queues
    queues.set_staffing("general", args.agents)

    rate = args.load * args.agents / args.aht  # calls per second
    horizon = args.hours * 3600
    t, arrivals = 0.0, []
    while True:
        t += rng.expovariate(rate)
        if t >= horizon:
            break
        arrivals.append(t)
    calls = [sim.place_call(Caller(f"+1410555{i % 10000:04d}", "+14435550311",
                                   script=[press("1"), press("0")]), at=at)
             for i, at in enumerate(arrivals)]
    free_at = [0.0] * args.agents
    estimate: dict[str, float] = {}
    actual: dict[str, float] = {}
    now = 0.0
    while now < horizon + 4 * 3600 and len(actual) < len(calls):
        now += 1.0
        sim.run(until=now)
        ts = clock.now().timestamp()
        for c in calls:
            if c.sid not in estimate and c.sid not in actual:
                est = queues.estimate_wait(c.sid, ts)
                if est is not None:
                    estimate[c.sid] = est.seconds
        for k in range(args.agents):
            if free_at[k] > now:
                continue
            entry = queues.pop({"line:311"}, ts)
            if entry is None:
                break
            queues.complete(entry.call_id)
            actual[entry.call_id] = entry.wait(ts)
            handle = rng.expovariate(1 / args.aht)
            free_at[k] = now + handle
            queues.record_handle_time("general", handle, ts)
            talk = VoiceResponse()
            talk.say("Hello, this is the city call center.")
            talk.pause(length=max(1, int(handle)))
            talk.hangup()
            rest.calls(entry.call_id).update(twiml=str(talk))
    sim.run_until_idle(max_seconds=24 * 3600)
    sim.stop_rest()
    pairs = [(estimate[s], actual[s]) for s in actual if s in estimate]
    errors = [a - e for e, a in pairs]
    abs_err = sorted(abs(x) for x in errors)
    waited = [a for _e, a in pairs if a >= 30]
    rel = sorted(abs(a - e) / a for e, a in pairs if a >= 30)
    print(f"{len(calls)} calls, {args.agents} call-takers, mean handle {args.aht:.0f} s, "
          f"load {args.load:.2f}, {args.hours:g} h of arrivals")
    mean_actual = statistics.mean(a for _e, a in pairs)
    mean_estimate = statistics.mean(e for e, _a in pairs)
    print(f"calls compared: {len(pairs)}; mean actual wait {mean_actual:.0f} s, "
          f"mean estimate {mean_estimate:.0f} s")
    print(f"error (actual - estimate): median {statistics.median(errors):+.0f} s, "
          f"median |error| {statistics.median(abs_err):.0f} s, "
          f"p90 |error| {abs_err[int(len(abs_err) * 0.9)]:.0f} s")
    if rel:
        within = sum(1 for r in rel if r <= 0.5) / len(rel)
        print(f"calls that waited >= 30 s ({len(waited)}): median relative error "
              f"{statistics.median(rel):.0%}, within 50% of the actual wait: {within:.0%}")
    if len(pairs) > 2:
        estimates, actuals = zip(*pairs, strict=True)
        print(f"correlation estimate~actual: {statistics.correlation(estimates, actuals):.2f}")


if __name__ == "__main__":
    main()
