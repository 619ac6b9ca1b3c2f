"""Load test: a storm through the real app served by gunicorn (`ivr serve`) with its RQ worker,
over HTTP, on this machine.

The emulator (in this process) plays Twilio over real HTTP: it places the calls, follows the
TwiML, keeps the queues and conferences, and serves Twilio's REST API on a localhost port that
the served app reaches through IVR_TWILIO_API_BASE. Scripted call-takers (`ivr.demo.floor`)
accept their offers through `ivr.connect.actions`, as the console does; the worker's ticker runs the
floor's clock. Everything runs at the pace of the wall clock (the served app keeps real time).

The storm keeps `--calls` callers in the system (in the menus, waiting, or talking) for
`--minutes`: it ramps up over the first minute, then places a new call whenever one ends. 911
callers go straight to the emergency queue; 311 callers choose a topic in the menus (when the
311 line is closed, as at night, they leave a message instead). At the end of the storm the
callers still waiting hang up, the calls on the floor finish, and the bench reports webhook
throughput and latency, the longest time a free call-taker and a waiting call spent apart, and
runs the audit: zero violations and zero calls lost expected.

    python bench/load.py [--calls 1000] [--agents 100] [--minutes 10] [--servers]
    python bench/load.py --calls 100 --agents 10 --minutes 1      # a quick check
    python bench/load.py --keep /tmp/run1   # keep var/ (SQLite, Redis AOF), serve.log and
                                            # emulator.jsonl (every leg's transcript) to read
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

from ivr.bootstrap import bootstrap  # noqa: E402
from ivr.calls.models import Call as CallRow  # noqa: E402
from ivr.demo.dayplan import SKILLS_311, SKILLS_911, TOPIC_KEYS  # noqa: E402
from ivr.demo.floor import Console, Floor, HandleTimes  # noqa: E402
from ivr.flows.versions import FlowVersions  # noqa: E402
from ivr.platform.config import load_settings  # noqa: E402
from ivr.platform.redisconn import start_embedded, stop_embedded  # noqa: E402
from ivr.services import Services  # noqa: E402
from ivr.sim import (  # noqa: E402
    Call,
    Caller,
    Emulator,
    HTTPTransport,
    NumberConfig,
    SimClock,
    Window,
    press,
    record,
    silence,
)
from ivr.sim.callers import Item  # noqa: E402
from ivr.sim.patience import Patience  # noqa: E402
from ivr.sim.transport import Params, Response  # noqa: E402

ACCOUNT = "AC" + "0" * 31 + "1"
LINE_311, LINE_911 = "+14435550311", "+14435550911"
SERVER_REDIS = "redis://127.0.0.1:6379/7"
SERVER_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class TimedTransport(HTTPTransport):
    """Real HTTP, with the latency of every webhook noted (seconds, by path)."""

    def __init__(self) -> None:
        super().__init__()
        self.latencies: list[float] = []
        self.failed: Counter[str] = Counter()  # "<status or exception> <path>": how many

    @property
    def failures(self) -> int:
        return sum(self.failed.values())

    def request(self, method: str, url: str, params: Params,
                headers: Mapping[str, str]) -> Response:
        t0 = time.perf_counter()
        path = urlsplit(url).path
        try:
            response = super().request(method, url, params, headers)
        except Exception as exc:
            self.failed[f"{type(exc).__name__} after {time.perf_counter() - t0:.1f} s {path}"] += 1
            raise
        self.latencies.append(time.perf_counter() - t0)
        if response.status >= 400:
            self.failed[f"HTTP {response.status} {path}"] += 1
        return response


def caller_311(topic: str):  # type: ignore[no-untyped-def]
    """A 311 caller who answers the menus by what they hear: a topic when the line is open,
    a message when it is closed."""
    keys = list(TOPIC_KEYS[topic])

    def respond(window: Window) -> Item:
        said = " ".join(window.prompts)
        if window.kind == "record":
            return record(15)
        if "call center is closed" in said:
            return press("1")
        return press(keys.pop(0)) if keys else silence()

    return respond


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ivr serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"ivr serve did not listen on {port}")


@dataclasses.dataclass
class Storm:
    """Keeps `size` callers in the system: ramps up over `ramp` seconds, then replaces every
    call that ends, until `until` (virtual seconds = real seconds here)."""

    sim: Emulator
    size: int
    until: float
    ramp: float = 60.0
    emergency_share: float = 0.5
    patience: float = 600.0
    placed: int = 0

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.live: list[Call] = []
        self.peak = 0
        self.rng = self.sim.rng
        self.patience_of = Patience(self.sim, until=self.until)  # all still waiting leave then
        self.sim.sched.call_later(0.0, self._top_up)

    def _top_up(self) -> None:
        now = self.sim.clock.elapsed
        if now >= self.until:
            return
        self.live = [c for c in self.live if not c.ended]
        allowed = self.size if now >= self.ramp else int(self.size * (now + 1) / self.ramp)
        for _ in range(max(0, allowed - len(self.live))):
            self._place()
        self.peak = max(self.peak, len(self.live))
        self.sim.sched.call_later(1.0, self._top_up)

    def _place(self) -> None:
        n = self.placed
        self.placed += 1
        number = f"+1410{5550000 + n % 10000:07d}"
        patience = self.rng.expovariate(1 / self.patience)
        if self.rng.random() < self.emergency_share:
            caller = Caller(number, LINE_911, script=[], hangup_after=None)
        else:
            topic = self.rng.choice(["pothole", "streetlight", "missed_trash", "water_leak",
                                     "other"])
            caller = Caller(number, LINE_311, responder=caller_311(topic))
        call = self.sim.place_call(caller)
        self.calls.append(call)
        self.live.append(call)
        self.patience_of.watch(call, patience, self.sim.clock.elapsed + 1.0)


def pace(sim: Emulator, until: float, wall0: float, lag: list[float],
         on_second=None) -> None:  # type: ignore[no-untyped-def]
    """Run the emulator no faster than the wall clock up to virtual `until`; note the lag."""
    while sim.clock.elapsed < until:
        real = time.perf_counter() - wall0
        target = min(until, real)
        sim.run(until=target)
        lag.append(max(0.0, time.perf_counter() - wall0 - sim.clock.elapsed))
        if on_second is not None:
            on_second()
        if sim.clock.elapsed >= real:
            time.sleep(0.05)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def make_schema() -> tuple[str, str]:
    """A PostgreSQL schema of this run's own; returns (schema, database URL using it)."""
    schema = "load_" + secrets.token_hex(5)
    engine = create_engine(SERVER_DATABASE)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return schema, f"{SERVER_DATABASE}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    engine = create_engine(SERVER_DATABASE)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def run(args: argparse.Namespace, folder: Path) -> int:
    port = free_port()
    token = secrets.token_hex(16)
    public = f"http://127.0.0.1:{port}"
    transport = TimedTransport()
    start = datetime.now(UTC)
    clock = SimClock(start)
    numbers = [NumberConfig(n, f"{public}/voice/incoming", fallback_url=f"{public}/voice/fallback",
                            status_callback=f"{public}/voice/status")
               for n in (LINE_311, LINE_911)]
    sim = Emulator(ACCOUNT, token, numbers, transport, clock=clock, seed=args.seed)
    rest = sim.serve_rest()
    env = {"TWILIO_AUTH_TOKEN": token, "IVR_SECRET_KEY": secrets.token_hex(16),
           "IVR_PUBLIC_URL": public, "IVR_DATA_DIR": str(folder / "var"),
           "IVR_CONFIG": str(ROOT / "config.yaml"), "IVR_TWILIO_API_BASE": rest,
           "TWILIO_ACCOUNT_SID": ACCOUNT, "IVR_CENTER": "load" + secrets.token_hex(3)}
    schema = None
    if args.servers:
        schema, database = make_schema()
        env.update(IVR_REDIS_URL=SERVER_REDIS, IVR_DATABASE_URL=database)
    else:
        # Started here (`ivr serve` joins it through var/redis.url) so that it is stopped here:
        # a served process killed at the end does not stop the Redis it started.
        env.update(IVR_REDIS_URL=start_embedded(folder / "var"))
    proc_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    for name in ("IVR_REDIS_URL", "IVR_DATABASE_URL"):
        if name not in env:
            proc_env.pop(name, None)
    log = open(folder / "serve.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli", "serve", "--port", str(port), "--workers",
         str(args.workers), "--threads", str(args.threads), "--worker"],
        cwd=folder, env=proc_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_up(port, proc)
        svc = bootstrap(load_settings(env=proc_env))
        open_around_the_clock(svc)
        return measure(args, sim, svc, transport, start)
    finally:
        if args.keep is not None:
            keep_transcripts(sim, start, folder / "emulator.jsonl")
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        sim.stop_rest()
        if schema and args.keep is None:
            drop_schema(schema)
        elif schema:
            print(f"kept: PostgreSQL schema {schema}, Redis {SERVER_REDIS}")
        else:
            stop_embedded(folder / "var")


def measure(args: argparse.Namespace, sim: Emulator, svc, transport: TimedTransport,  # type: ignore[no-untyped-def]
            start: datetime) -> int:
    from ivr.floor.audit import audit_services

    floor = Floor(svc, sim, ticks=False, handle=HandleTimes(median=args.handle, high=300.0),
                  seed=args.seed)
    console = Console("accept", 2.0)
    for i in range(args.agents):
        floor.login(f"load{i + 1:03d}", (*SKILLS_911, *SKILLS_311), console=console)
    window = args.minutes * 60.0
    storm = Storm(sim, args.calls, window, ramp=min(60.0, window / 2),
                  emergency_share=args.emergency_share, patience=args.patience)
    wall0 = time.perf_counter()
    lag: list[float] = []
    waiting_peak = [0]
    last = [0.0]

    def look() -> None:
        now = time.perf_counter()
        if now - last[0] >= 5.0:
            last[0] = now
            live = sum(1 for c in storm.live if not c.ended)
            waiting = sum(s.size for s in svc.queues.stats(time.time()).values())
            waiting_peak[0] = max(waiting_peak[0], waiting)
            print(f"  t={sim.clock.elapsed:5.0f} s  in system {live:5d}  waiting {waiting:5d}  "
                  f"webhooks {len(transport.latencies):7d}  lag {lag[-1] if lag else 0:4.1f} s",
                  flush=True)

    pace(sim, window, wall0, lag, look)
    storm_requests = len(transport.latencies)
    storm_wall = time.perf_counter() - wall0
    in_storm = list(transport.latencies)
    # The storm is over: the last callers waiting hang up, the floor finishes its calls.
    drain_until = window + 600.0
    while not all(c.ended for c in storm.calls) and sim.clock.elapsed < drain_until:
        pace(sim, min(sim.clock.elapsed + 5.0, drain_until), wall0, lag, look)
    pace(sim, sim.clock.elapsed + 5.0, wall0, lag)  # the last status callbacks and ticks
    end = datetime.now(UTC) + timedelta(seconds=1)
    calls = storm.calls
    unended = [c.sid for c in calls if not c.ended]
    errors = [c.sid for c in calls if c.application_error]
    with svc.engine.connect() as conn:
        rows = dict(conn.execute(select(CallRow.sid, CallRow.outcome)
                                 .where(CallRow.sid.in_([c.sid for c in calls]))).all())
    missing = [c.sid for c in calls if c.sid not in rows]
    live = [sid for sid, outcome in rows.items() if outcome == "live"]
    outcomes: dict[str, int] = {}
    for outcome in rows.values():
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    violations = audit_services(svc, start - timedelta(seconds=5), end)
    lost = len(unended) + len(errors) + len(missing) + len(live)
    print()
    print(f"storm: {args.calls} calls kept in the system for {args.minutes:g} min, "
          f"{args.agents} call-takers, {args.workers} gunicorn workers x {args.threads} threads "
          f"+ RQ worker, {'Redis/PostgreSQL servers' if args.servers else 'embedded default'}, "
          f"{os.cpu_count()} cores shared with the emulator (and other users of this machine)")
    print(f"calls placed {len(calls)}, peak in the system {storm.peak}, peak waiting in "
          f"the queues {waiting_peak[0]}")
    print(f"webhooks during the storm: {storm_requests} in {storm_wall:.0f} s = "
          f"{storm_requests / storm_wall:.0f}/s; latency p50 {1000 * percentile(in_storm, .5):.1f}"
          f" ms, p99 {1000 * percentile(in_storm, .99):.1f} ms, max "
          f"{1000 * max(in_storm, default=0):.0f} ms; failed {transport.failures}")
    for what, count in transport.failed.most_common():
        print(f"  failed: {count} x {what}")
    print(f"emulator behind the wall clock: max {max(lag, default=0):.1f} s")
    ftoo = floor.free_to_offer
    print(f"free call-taker to offer ({len(ftoo)} offers): p50 {percentile(ftoo, .5):.2f} s, "
          f"p99 {percentile(ftoo, .99):.2f} s, max {max(ftoo, default=0):.2f} s")
    print(f"offers accepted {floor.accepted}, refused {len(floor.refused)}; outcomes "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print(f"calls lost: {lost} (never ended {len(unended)}, application errors {len(errors)}, "
          f"no SQL record {len(missing)}, still live in SQL {len(live)})")
    print(f"audit: {len(violations)} violation(s)")
    for v in violations[:20]:
        print(f"  {v}")
    return 1 if (violations or lost) else 0


def keep_transcripts(sim: Emulator, start: datetime, path: Path) -> None:
    """The emulator's record of every leg, one JSON line each (times in seconds after `start`,
    which is the first line): what Twilio saw, to read against the app's records."""
    with sim.lock, path.open("w") as out:
        out.write(json.dumps({"start": start.isoformat()}) + "\n")
        for c in sim.calls.values():
            out.write(json.dumps({
                "sid": c.sid, "from": c.from_, "to": c.to, "direction": c.direction,
                "parent": c.parent_sid, "status": c.status, "created": c.created_t,
                "answered": c.answered_t, "ended": c.ended_t, "hung_up_by": c.hung_up_by,
                "transcript": [{"t": e.t, "kind": e.kind, **e.data} for e in c.transcript],
            }, default=str) + "\n")


def open_around_the_clock(svc: Services) -> None:
    """Publish a version of the 311 flow whose line is open every hour of every day: the bench
    runs whenever it is started, and the shipped hours would send a night's or a Sunday's
    storm to voicemail, leaving the 311-behind-911 queues unexercised. Done as a supervisor
    would (a new version through the flow store), so the served app picks it up at once."""
    versions = FlowVersions(svc.sessions, svc.settings.center, svc.clock)
    versions.ensure_shipped()
    draft = versions.draft("311")
    text = re.sub(r"(?ms)^    schedule:\n.*?^    open: ",
                  '    schedule:\n      mon-sun: "00:00-24:00"\n    open: ', draft.text, count=1)
    if text == draft.text:
        raise RuntimeError("the 311 flow has no schedule block to open")
    saved = versions.save_draft("311", text, draft.revision, "bench-load")
    versions.publish("311", "bench-load", saved.revision, note="open around the clock")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="calls kept in the system")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--handle", type=float, default=60.0, help="median talk seconds")
    parser.add_argument("--patience", type=float, default=600.0,
                        help="mean seconds a caller waits in line")
    parser.add_argument("--emergency-share", type=float, default=0.5)
    parser.add_argument("--servers", action="store_true",
                        help="Redis and PostgreSQL servers on 127.0.0.1 (a schema of its own)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the run's data (SQLite db, Redis AOF, serve.log) in DIR")
    args = parser.parse_args()
    for noisy in ("twilio", "ivr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        sys.exit(run(args, args.keep))
    with tempfile.TemporaryDirectory(prefix="ivr-load-") as tmp:
        code = run(args, Path(tmp))
    sys.exit(code)


if __name__ == "__main__":
    main()
