"""Chaos run: faults injected into a served center under live calls, and what they cost.

`ivr serve` runs as a real process tree (gunicorn web workers, the RQ worker and its ticker,
the embedded Redis or, with `--servers`, a Redis server of this run's own beside PostgreSQL).
The emulator (in this process) plays Twilio over real HTTP and serves its REST API to the app;
call-takers work through the console API over HTTP, as the browser console does, their phones
being the emulator's parties. Callers keep arriving (911 straight to the queue, 311 through the
menus) while the faults are injected one after another, each once the center has recovered
from the one before:

- ``web-worker``: kill -9 one gunicorn worker;
- ``rq-worker``: kill -9 the RQ worker (the ticker with it);
- ``redis``: kill -9 the redis-server (embedded: `ivr serve` restarts it; `--servers`: it is
  restarted here after `--redis-down` seconds, as the host's service manager would);
- ``restart``: the whole `ivr serve` stopped and started again on the same data;
- ``lost-callbacks``: for `--lose-for` seconds the emulator loses every final status callback
  (Twilio does not retry them).

Then every caller still waiting hangs up, the floor finishes its calls, and the run prints, per
fault, the calls in progress when it struck, the application errors callers heard after it and
the time the center took to recover (``/healthz`` sound, no call-taker held on an ended call,
no ended call waiting or offered); and for the run the calls lost, the longest time a
call-taker stayed on a call that had ended, the offers of ended calls, the reconciler's repairs
and the audit (with the emulator's records as Twilio's). It exits 1 if a call was lost, the
audit found a violation, a call-taker was stuck past 30 s, an ended call was offered, or a
caller heard the application error where one host can prevent it (a whole restart of the only
host cannot: only a fallback URL on a second host covers that gap; see the README).

    python bench/faults.py                       # every fault, embedded default
    python bench/faults.py --servers             # Redis server + PostgreSQL
    python bench/faults.py --faults redis,restart --calls 6 --agents 3
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.load import (  # noqa: E402
    ACCOUNT,
    LINE_311,
    LINE_911,
    caller_311,
    drop_schema,
    free_port,
    make_schema,
    open_around_the_clock,
    percentile,
)
from ivr.accounts import accounts  # noqa: E402
from ivr.bootstrap import bootstrap  # noqa: E402
from ivr.calls.models import Call as CallRow  # noqa: E402
from ivr.calls.repairs import Repair  # noqa: E402
from ivr.demo.dayplan import SKILLS_311, SKILLS_911  # noqa: E402
from ivr.floor.audit import audit_services, twilio_records  # noqa: E402
from ivr.platform.config import load_settings  # noqa: E402
from ivr.services import Services  # noqa: E402
from ivr.sim import Call, Caller, Emulator, HTTPTransport, NumberConfig, SimClock  # noqa: E402
from ivr.sim.callers import answers  # noqa: E402
from ivr.sim.patience import Patience  # noqa: E402

FAULTS = ("web-worker", "rq-worker", "redis", "restart", "lost-callbacks")
STUCK_LIMIT = 30.0  # seconds a call-taker may stay on a call that ended (issue 16)
PASSWORD = "chaos-run-password-1"  # noqa: S105 - accounts of a throwaway center


# -- the served center -------------------------------------------------------------------------


class Served:
    """`ivr serve` as a process tree of its own session, started and stopped here."""

    def __init__(self, folder: Path, port: int, env: dict[str, str],
                 worker: bool = True, name: str = "serve") -> None:
        self.folder, self.port, self.env = folder, port, env
        self.worker, self.name = worker, name
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.folder / f"{self.name}-{self.starts}.log", "wb")  # noqa: SIM115 - kept by the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ivr.cli", "serve", "--port", str(self.port), "--workers", "2",
             "--threads", "8", "--worker" if self.worker else "--no-worker"],
            cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()

    def stop(self) -> None:
        """SIGTERM to the serving process (which stops its children), SIGKILL to the group
        after 30 s. Returns when nothing of the tree is left."""
        if self.proc is None:
            return
        tree = self.tree()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        _gone(tree, 15.0)
        self.proc = None

    def tree(self) -> list[psutil.Process]:
        if self.proc is None:
            return []
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def parts(self) -> dict[str, list[psutil.Process]]:
        """The live tree by role: ``web`` (gunicorn's workers, forks of its arbiter), ``rq``
        (the RQ worker, its ticker and work horses), ``redis`` (the embedded redis-server)."""
        out: dict[str, list[psutil.Process]] = {"web": [], "rq": [], "redis": []}
        tree = self.tree()
        if not tree:
            return out
        root = tree[0]
        for p in tree[1:]:
            try:
                name, cmd, parent = p.name(), " ".join(p.cmdline()), p.ppid()
            except psutil.Error:
                continue
            if "redis-server" in name or "redis-server" in cmd:
                out["redis"].append(p)
            elif "ivr.serve" in cmd:
                if parent != root.pid:  # not the arbiter itself
                    out["web"].append(p)
            elif "worker" in cmd:
                out["rq"].append(p)
        return out

    def health(self) -> tuple[int, dict]:
        try:
            r = requests.get(f"{self.url}/healthz", timeout=3)
        except requests.RequestException:
            return 0, {}
        try:
            body = r.json()
        except ValueError:
            body = {}
        return r.status_code, body


def _gone(procs: list[psutil.Process], timeout: float) -> None:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        p.kill()
    psutil.wait_procs(alive, timeout=5)


def wait_for(condition, timeout: float, what: str, step: float = 0.2) -> float:  # type: ignore[no-untyped-def]
    """Wait until `condition()` is true; the seconds it took. Raises after `timeout`."""
    t0 = time.monotonic()
    while not condition():
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)
    return time.monotonic() - t0


class RedisServer:
    """A redis-server of this run's own (Debian's), with AOF, on a loopback port: the
    `--servers` run kills it and restarts it on the same data, as a service manager would."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self.answers, 20, "the Redis server")

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


# -- call-takers over the console API ----------------------------------------------------------


class ConsoleAgent:
    """One call-taker's browser: signs in, goes available, accepts offers and records a
    disposition after each call, over HTTP. A request that fails (the center is mending) is
    tried again at the next look, as the console's own retry does."""

    def __init__(self, base: str, login: str) -> None:
        self.base, self.login = base, login
        self.http = requests.Session()
        self.csrf = ""
        self.signed_in = False
        self.accepted = 0
        self.errors: Counter[str] = Counter()

    def _sign_in(self) -> None:
        self.http.cookies.clear()
        page = self.http.get(f"{self.base}/console/login", timeout=5)
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        self.http.post(f"{self.base}/console/login", timeout=5, allow_redirects=False,
                       data={"login": self.login, "password": PASSWORD, "csrf_token": token})
        me = self.http.get(f"{self.base}/api/v1/me", timeout=5)
        me.raise_for_status()
        self.csrf = me.json()["csrf_token"]
        self.signed_in = True

    def _post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.http.post(f"{self.base}/api/v1{path}", json=body or {}, timeout=10,
                              headers={"X-CSRF-Token": self.csrf})

    def look(self) -> None:
        try:
            if not self.signed_in:
                self._sign_in()
            me = self.http.get(f"{self.base}/api/v1/me", timeout=5)
            if me.status_code == 401:
                self.signed_in = False
                return
            if me.status_code != 200:
                self.errors[f"me {me.status_code}"] += 1
                return
            state = (me.json().get("presence") or {}).get("state")
            offer = me.json().get("offer")
            if state == "offline":
                self._post("/presence/available")
            elif state == "reserved" and offer:
                r = self._post(f"/offers/{offer['reservation']}/accept")
                if r.status_code == 200:
                    self.accepted += 1
                else:
                    self.errors[f"accept {r.status_code}"] += 1
            elif state == "wrap_up":
                self._post("/call/wrap-up", {"disposition": "resolved"})
        except (requests.RequestException, ValueError, KeyError, IndexError) as exc:
            self.errors[type(exc).__name__] += 1


# -- the run -----------------------------------------------------------------------------------


@dataclasses.dataclass
class FaultRecord:
    name: str
    at: float  # wall seconds since the start of the run
    in_progress: int
    recover: float | None = None  # seconds until sound again
    errors: int = 0  # application errors heard by calls placed since this fault
    note: str = ""


@dataclasses.dataclass
class Watch:
    """What the once-a-second look at the floor saw."""

    stuck: dict[str, float] = dataclasses.field(default_factory=dict)  # agent -> since
    longest_stuck: float = 0.0
    offers_of_ended: set[str] = dataclasses.field(default_factory=set)
    health: list[tuple[float, int]] = dataclasses.field(default_factory=list)


class Chaos:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args, self.folder = args, folder
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.public = f"http://127.0.0.1:{self.port}"
        # With --fallback-host, a second `ivr serve` (web only, on the same stores) answers the
        # numbers' fallback URL: the deployment that covers a whole restart of the first.
        self.second_port = free_port()
        self.fallback = (f"http://127.0.0.1:{self.second_port}" if args.fallback_host
                         else self.public)
        self.transport = HTTPTransport(connect_timeout=5.0, timeout=15.0)
        self.start = datetime.now(UTC)
        self.sim = Emulator(
            ACCOUNT, self.token,
            [NumberConfig(n, f"{self.public}/voice/incoming",
                          fallback_url=f"{self.fallback}/voice/fallback",
                          status_callback=f"{self.public}/voice/status")
             for n in (LINE_311, LINE_911)],
            self.transport, clock=SimClock(self.start), seed=args.seed)
        self.rest = self.sim.serve_rest()
        self.redis_server: RedisServer | None = None
        self.schema: str | None = None
        env = {"TWILIO_AUTH_TOKEN": self.token, "IVR_SECRET_KEY": secrets.token_hex(16),
               "IVR_PUBLIC_URL": self.public, "IVR_DATA_DIR": str(folder / "var"),
               "IVR_CONFIG": str(ROOT / "config.yaml"), "IVR_TWILIO_API_BASE": self.rest,
               "TWILIO_ACCOUNT_SID": ACCOUNT, "IVR_CENTER": "chaos" + secrets.token_hex(3)}
        if args.servers:
            self.redis_server = RedisServer(folder / "redis")
            self.redis_server.start()
            self.schema, database = make_schema()
            env.update(IVR_REDIS_URL=self.redis_server.url, IVR_DATABASE_URL=database)
        proc_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        if not args.servers:  # the embedded default: `ivr serve` starts and watches Redis
            proc_env.pop("IVR_REDIS_URL", None)
            proc_env.pop("IVR_DATABASE_URL", None)
        self.env = proc_env
        self.served = Served(folder, self.port, proc_env)
        self.second: Served | None = None
        self.calls: list[Call] = []
        self.placed = 0
        self.watch = Watch()
        self.faults: list[FaultRecord] = []
        self.agents: list[ConsoleAgent] = []
        self.svc: Services | None = None
        self.draining = False
        self.back = lambda: True
        self.stopping = threading.Event()
        self.t0 = time.monotonic()

    # -- the pieces --

    def services(self) -> Services:
        """The center's services, as an operator's shell has them (for records and audit)."""
        if self.svc is None:
            env = dict(self.env)
            env["IVR_REDIS_URL"] = self.redis_url()
            self.svc = bootstrap(load_settings(env=env))
        return self.svc

    def now(self) -> float:
        return time.monotonic() - self.t0

    def setup(self) -> None:
        self.served.start()
        wait_for(lambda: self.served.health()[0] == 200, 90, "ivr serve to be healthy")
        if self.args.fallback_host:
            self.start_second_host()
        svc = self.services()
        open_around_the_clock(svc)
        skills = (*SKILLS_911, *SKILLS_311)
        with svc.sessions() as session:
            for i in range(self.args.agents):
                accounts.create(session, login=f"chaos{i + 1:02d}", name=f"Chaos {i + 1}",
                                password=PASSWORD, roles=("call-taker",), skills=skills,
                                now=datetime.now(UTC))
            session.commit()
        self.sim.party_resolver = self._phone
        self.agents = [ConsoleAgent(self.public, f"chaos{i + 1:02d}")
                       for i in range(self.args.agents)]
        self.patience = Patience(self.sim)

    def start_second_host(self) -> None:
        """The second host: its own data folder (journal, keys), the first's Redis and SQL."""
        database = self.env.get("IVR_DATABASE_URL") or self.services().settings.database_url
        env = {**self.env, "IVR_PUBLIC_URL": self.fallback, "IVR_REDIS_URL": self.redis_url(),
               "IVR_DATA_DIR": str(self.folder / "second"), "IVR_DATABASE_URL": database}
        self.second = Served(self.folder, self.second_port, env, worker=False, name="second")
        self.second.start()
        wait_for(lambda: self.second is not None and self.second.health()[0] in (200, 503), 90,
                 "the second host to answer")

    def redis_url(self) -> str:
        if self.args.servers:
            return self.env["IVR_REDIS_URL"]
        return (self.folder / "var" / "redis.url").read_text().strip()

    def _phone(self, to: str):  # type: ignore[no-untyped-def]
        if not to.startswith("client:"):
            return None
        talk = self.sim.rng.uniform(0.5, 1.5) * self.args.handle
        return answers(after=2.0, hangup_after=talk)

    def place(self) -> None:
        n = self.placed
        self.placed += 1
        number = f"+1410{5550000 + n:07d}"
        if n % 2 == 0:
            caller = Caller(number, LINE_911, script=[], hangup_after=None)
        else:
            caller = Caller(number, LINE_311, responder=caller_311("streetlight"))
        with self.sim.lock:
            call = self.sim.place_call(caller)
            self.calls.append(call)
            self.patience.watch(call, self.args.patience, self.sim.clock.elapsed + 1.0)

    def in_progress(self) -> int:
        return sum(1 for c in self.calls if not c.ended)

    # -- the clock of the run --

    def _pace(self) -> None:
        """The emulator's thread: Twilio keeps its own time whatever the center is doing (a
        restart here must not pause the callers), and callers keep arriving."""
        while not self.stopping.is_set():
            self.sim.run(until=self.now())
            if not self.draining and self.in_progress() < self.args.calls:
                self.place()
            time.sleep(0.05)

    def _consoles(self) -> None:
        """The call-takers' browsers: each looks at its console once a second."""
        while not self.stopping.is_set():
            t = self.now()
            for agent in self.agents:
                agent.look()
            self.stopping.wait(max(0.0, 1.0 - (self.now() - t)))

    def run_for(self, seconds: float, until=None) -> float | None:  # type: ignore[no-untyped-def]
        """Watch the floor once a second for `seconds`, or until `until()` holds (its time)."""
        end = self.now() + seconds
        while self.now() < end:
            t = self.now()
            self.observe()
            if until is not None and until():
                return self.now()
            time.sleep(max(0.0, 1.0 - (self.now() - t)))
        return None

    def observe(self) -> None:
        """Note call-takers held on an ended call, offers of ended calls, and health."""
        now = self.now()
        code, _ = self.served.health()
        self.watch.health.append((now, code))
        try:
            svc = self.services()
            presences = svc.agents.all()
            reservations = svc.router.reservations.all()
        except Exception:  # noqa: BLE001 - the store is down: nothing to read this second
            return
        held: set[str] = set()
        for p in presences:
            call = self.sim.calls.get(p.call_id or "")
            if p.state.value == "on_call" and call is not None and call.ended:
                since = call.ended_t or 0.0  # the emulator's clock keeps the wall's pace
                self.watch.stuck.setdefault(p.agent_id, since)
                held.add(p.agent_id)
                self.watch.longest_stuck = max(self.watch.longest_stuck,
                                               self.sim.clock.elapsed - since)
        for agent in list(self.watch.stuck):
            if agent not in held:
                del self.watch.stuck[agent]
        start = self.start.timestamp()
        for r in reservations:
            call = self.sim.calls.get(r.call_id)
            # Offered after the caller had hung up (an offer ringing when the caller leaves
            # is no such offer: its Accept closes the call). A second of slack for the clocks.
            if call is not None and call.ended and r.offered_at > start + (call.ended_t or 0) + 1:
                self.watch.offers_of_ended.add(r.reservation_id)

    def sound(self) -> bool:
        """Recovered: healthy, no call-taker held on an ended call, no ended call in line."""
        if self.served.health()[0] != 200 or self.watch.stuck:
            return False
        now = self.sim.clock.elapsed
        ended = [c.sid for c in self.calls if c.ended and now - (c.ended_t or 0.0) > 5]
        try:
            queues = self.services().queues
            return all(queues.position(sid, time.time()) is None for sid in ended)
        except Exception:  # noqa: BLE001 - the store is still down
            return False

    # -- faults --

    def replaced(self, role: str, killed: set[int], count: int) -> bool:
        """The supervisor (or gunicorn's arbiter) has put `count` new processes in their
        place: none of the killed pids among the live ones of `role`."""
        live = {p.pid for p in self.served.parts()[role]}
        return len(live) >= count and not live & killed

    def kill(self, parts: dict[str, list[psutil.Process]], role: str,
             only_one: bool = False) -> None:
        """kill -9 the processes of `role` (the first one only, for a web worker); the fault
        is mended once as many new ones run in their place."""
        victims = parts[role][:1] if only_one else parts[role]
        if not victims:
            raise RuntimeError(f"no {role} process found in the served tree")
        for p in victims:
            p.kill()
        # gunicorn keeps its number of workers; the RQ worker comes back alone (the work
        # horse it may have forked for a job is not restarted).
        killed, count = {p.pid for p in victims}, len(parts[role]) if role == "web" else 1
        self.back = lambda: self.replaced(role, killed, count)

    def inject(self, name: str) -> FaultRecord:
        record = FaultRecord(name, self.now(), self.in_progress())
        parts = self.served.parts()
        self.back = lambda: True  # what must be seen, besides sound(), to call it recovered
        if name == "web-worker":
            self.kill(parts, "web", only_one=True)
        elif name == "rq-worker":
            self.kill(parts, "rq")
        elif name == "redis":
            if self.redis_server is not None:
                self.redis_server.kill()
                self.run_for(self.args.redis_down)
                self.redis_server.start()
                record.note = f"down {self.args.redis_down:g} s"
            else:
                self.kill(parts, "redis")
        elif name == "restart":
            t = self.now()
            self.served.stop()
            self.served.start()
            self.run_for(90, lambda: self.served.health()[0] == 200)
            record.note = f"down {self.now() - t:.1f} s"
        elif name == "lost-callbacks":
            policy = self.sim.status.policy
            before = len(self.sim.status.lost)
            with self.sim.lock:
                policy.lose_events, policy.lose = frozenset({"completed"}), 1.0
                # Two callers hang up meanwhile (waiting ones first, else talking ones): their
                # final callbacks are lost.
                live = [c for c in self.calls if not c.ended]
                live.sort(key=lambda c: not (c.queue_member and c.queue_member.active))
                for call in live[:2]:
                    self.sim.hangup(call, "caller")
            self.run_for(self.args.lose_for)
            with self.sim.lock:
                policy.lose = 0.0
            record.note = f"{len(self.sim.status.lost) - before} final callbacks lost"
            record.at = self.now()  # recovery is counted from the end of the window
        self.faults.append(record)
        return record

    def run(self) -> int:
        self.setup()
        threads = [threading.Thread(target=fn, daemon=True) for fn in (self._pace, self._consoles)]
        for thread in threads:
            thread.start()
        try:
            return self._run()
        finally:
            self.stopping.set()
            for thread in threads:
                thread.join(timeout=30)

    def _run(self) -> int:
        self.run_for(self.args.warmup)
        for name in self.args.faults:
            print(f"  t={self.now():5.0f} s  {name}: {self.in_progress()} calls in progress",
                  flush=True)
            record = self.inject(name)
            done = self.run_for(self.args.settle, lambda: self.back() and self.sound())
            record.recover = None if done is None else done - record.at
            self.run_for(3)  # a few quiet seconds before the next fault
        self.draining = True
        with self.sim.lock:
            self.patience.until = self.sim.clock.elapsed  # everyone still waiting gives up now
            for call in list(self.calls):
                if not call.ended:
                    self.patience.watch(call, 0.0, self.sim.clock.elapsed)
        self.run_for(self.args.handle * 2 + 150, lambda: all(c.ended for c in self.calls))
        # The last callbacks and reconciler passes: every call Twilio ended is ended here.
        self.run_for(self.args.settle + 30, lambda: self.sound() and not self.live_in_sql())
        return self.report()

    def live_in_sql(self) -> list[str]:
        """Calls the emulator has ended that are still live in SQL."""
        ended = [c.sid for c in self.calls if c.ended]
        try:
            with self.services().engine.connect() as conn:
                return list(conn.execute(select(CallRow.sid).where(
                    CallRow.sid.in_(ended), CallRow.outcome == "live")).scalars())
        except Exception:  # noqa: BLE001 - the database is down: not yet
            return ended

    # -- the figures --

    def report(self) -> int:
        svc = self.services()
        end = datetime.now(UTC) + timedelta(seconds=1)
        start = self.start - timedelta(seconds=5)
        sids = [c.sid for c in self.calls]
        with svc.engine.connect() as conn:
            rows = dict(conn.execute(select(CallRow.sid, CallRow.outcome)
                                     .where(CallRow.sid.in_(sids))).all())
            repairs = dict(conn.execute(select(Repair.kind, func.count())
                                        .where(Repair.at >= start)
                                        .group_by(Repair.kind)).all())
        unended = [c.sid for c in self.calls if not c.ended]
        missing = [s for s in sids if s not in rows]
        live = [s for s, outcome in rows.items() if outcome == "live"]
        self.attribute_errors()
        gap_errors = sum(f.errors for f in self.faults if f.name == "restart")
        errors = sum(1 for c in self.calls if c.application_error)
        avoidable = errors - gap_errors
        violations = audit_services(svc, start, end,
                                    twilio=twilio_records(svc.telephony.client, start, end))
        outcomes = Counter(rows.values())
        lost = len(unended) + len(missing) + len(live)
        mode = "Redis server + PostgreSQL" if self.args.servers else "embedded default"
        print()
        print(f"chaos run: {mode}, {self.args.agents} call-takers over the console API, "
              f"{self.args.calls} calls kept in the system, {len(self.calls)} placed")
        print(f"{'fault':16s} {'in progress':>11s} {'recovered in':>13s} "
              f"{'app errors':>10s}  note")
        for f in self.faults:
            rec = f"{f.recover:.1f} s" if f.recover is not None else "NOT"
            print(f"{f.name:16s} {f.in_progress:11d} {rec:>13s} {f.errors:10d}  {f.note}")
        print(f"faults injected: {len(self.faults)}; recover time median "
              f"{percentile([f.recover for f in self.faults if f.recover is not None], .5):.1f} s")
        print(f"calls lost: {lost} (never ended {len(unended)}, no SQL record {len(missing)}, "
              f"still live in SQL {len(live)})")
        hosts = ("a second host answering the fallback URL" if self.args.fallback_host
                 else "one host")
        print(f"application errors: {errors} ({gap_errors} in a whole restart of the only "
              f"host, which only a fallback URL on a second host covers; {avoidable} otherwise; "
              f"{hosts})")
        print(f"longest a call-taker was held on an ended call: {self.watch.longest_stuck:.1f} s")
        print(f"offers of ended calls: {len(self.watch.offers_of_ended)}")
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
        print("repairs: " + (", ".join(f"{k} {v}" for k, v in sorted(repairs.items()))
                             or "none"))
        accepted = sum(a.accepted for a in self.agents)
        refused = sum(sum(a.errors.values()) for a in self.agents)
        failures = sum((a.errors for a in self.agents), Counter())
        print(f"console: {accepted} offers accepted, {refused} requests refused or failed "
              f"while mending" + "".join(f"; {n} x {what}" for what, n in failures.most_common(4)))
        print(f"audit: {len(violations)} violation(s)")
        for v in violations[:20]:
            print(f"  {v}")
        if self.args.verbose:
            for c in self.calls:
                if c.application_error or c.sid in live or c.sid in unended:
                    print(f"  {c.sid} {c.to} ended={c.ended_t} "
                          + " | ".join(f"{e.t:.1f} {e.kind} {e.data}"[:120]
                                       for e in c.transcript[:6] + c.transcript[-10:]))
        unrecovered = [f.name for f in self.faults if f.recover is None]
        bad = (lost or violations or avoidable or unrecovered
               or self.watch.longest_stuck > STUCK_LIMIT or self.watch.offers_of_ended)
        return 1 if bad else 0

    def attribute_errors(self) -> None:
        """Each application error a caller heard, to the fault it followed (a whole restart's
        only while the host was down)."""
        for call in self.calls:
            first = call.events("application_error")[:1]  # a call hears it once, then ends
            for e in first:
                before = [f for f in self.faults if f.at <= e.t]
                if before:
                    before[-1].errors += 1

    def close(self) -> None:
        self.served.stop()
        if self.second is not None:
            self.second.stop()
        self.sim.stop_rest()
        self.transport.close()
        if self.svc is not None:
            self.svc.engine.dispose()
        if self.redis_server is not None:
            self.redis_server.stop()
        if self.schema:
            drop_schema(self.schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS),
                        help=f"comma-separated, in order, from {', '.join(FAULTS)}")
    parser.add_argument("--calls", type=int, default=12, help="calls kept in the system")
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--handle", type=float, default=20.0, help="mean talk seconds")
    parser.add_argument("--patience", type=float, default=240.0,
                        help="seconds a caller waits in line before hanging up")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=60.0,
                        help="longest wait for the center to recover after a fault")
    parser.add_argument("--redis-down", type=float, default=3.0)
    parser.add_argument("--lose-for", type=float, default=20.0)
    parser.add_argument("--servers", action="store_true",
                        help="a Redis server of this run's own and PostgreSQL on 127.0.0.1")
    parser.add_argument("--fallback-host", action="store_true",
                        help="a second ivr serve (web only, same stores) answers the fallback URL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true",
                        help="print the last events of every call lost or errored")
    args = parser.parse_args()
    args.faults = [f for f in args.faults.split(",") if f]
    unknown = [f for f in args.faults if f not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    for noisy in ("twilio", "ivr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ivr-faults-") as tmp:
        chaos = Chaos(args, Path(tmp))
        try:
            code = chaos.run()
        finally:
            chaos.close()
    sys.exit(code)


if __name__ == "__main__":
    main()
