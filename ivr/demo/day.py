"""`ivr demo`: a shift at the center, through the real application, on a virtual clock.

The emulator places the day's 911 and 311 calls (`ivr.demo.dayplan`) through the real webhooks of
an in-process app; scripted call-takers (`ivr.demo.floor`) take the offers, talk for a drawn
handle time, warm-transfer a few 311 calls to 911 dispatch (`ivr.demo.transfers`) and wrap up;
callers who wait longer than their patience hang up in the queue. The app's clock is the
emulator's: a 12-hour day passes in minutes, or, with `realtime`, at the pace of the wall
clock (open the wallboard of an `ivr serve` on the same data folder). At the end: the day's
figures from the SQL records (`ivr.floor.reports`), a chart, and the audit.
"""

from __future__ import annotations

import dataclasses
import random
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ivr.app import create_app
from ivr.bootstrap import bootstrap, prepare_database
from ivr.calls.models import Call as CallRow
from ivr.demo import dayprofile
from ivr.demo import figures as demo_figures
from ivr.demo import transfers as demo_transfers
from ivr.demo.dayplan import SKILLS_311, SKILLS_911, Arrival, DayOptions, keys_for, plan
from ivr.demo.floor import Console, Floor, HandleTimes
from ivr.demo.transfers import ScriptedTransfers
from ivr.demo.trycall import number_of
from ivr.floor import audit, reports
from ivr.platform.config import Settings
from ivr.platform.redisconn import stop_embedded
from ivr.quality import review
from ivr.quality.config import QualityConfig
from ivr.services import Services
from ivr.sim import Call, Caller, Emulator, NumberConfig, SimClock, WSGITransport, press
from ivr.sim.patience import Patience

DRAIN_LIMIT = 3 * 3600.0  # after the shift, at most this long for the last calls to end


@dataclass(frozen=True)
class DemoOptions:
    day: DayOptions = field(default_factory=DayOptions)
    agents: int = 8
    # The floor: a share on 911 only (at least one), a share on both lines (911 first, as the
    # router offers it), the rest on 311 only.
    emergency_only: float = 0.25
    both_lines: float = 0.5
    handle: HandleTimes = field(default_factory=HandleTimes)
    accept_after: float = 2.0
    transfer_share: float = 0.03  # of the 311 calls taken, warm-transferred to 911 dispatch
    date: date | None = None  # the local day; default: the last Monday
    realtime: bool = False
    seed: int = 7


@dataclass
class DayResult:
    """What a demo day left: the calls placed, the window of the day in UTC, the floor."""

    start: datetime
    end: datetime
    calls: list[Call]
    arrivals: list[Arrival]
    floor: Floor
    wall_seconds: float
    requests: int
    patience_hangups: int = 0
    transfers: dict[str, int] = field(default_factory=dict)  # by how each ended


def last_monday(today: date) -> date:
    return today - timedelta(days=today.weekday() or 7)


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, total: float, write: Callable[[str], None] | None = None,
                 width: int = 30) -> None:
        self.total = total
        self.width = width
        self.tty = sys.stderr.isatty()
        self.write = write or self._stderr
        self.last = -1

    def _stderr(self, text: str) -> None:
        sys.stderr.write(("\r" if self.tty else "") + text + ("" if self.tty else "\n"))
        sys.stderr.flush()

    def show(self, done: float, label: str) -> None:
        share = min(max(done / self.total, 0.0), 1.0) if self.total else 1.0
        step = int(share * 100)
        if not self.tty and step // 10 == self.last // 10 and step < 100:
            return  # a log gets a line per 10 %
        self.last = step
        filled = int(share * self.width)
        self.write(f"[{'#' * filled}{'.' * (self.width - filled)}] {step:3d}% {label}")

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def demo_settings(settings: Settings, data_dir: Path) -> Settings:
    """The center's settings on a data folder of the demo's own (the embedded Redis and the
    SQLite file move there; configured servers stay), with a local trial token if none."""
    database = settings.database_url
    if database == f"sqlite:///{settings.data_dir / 'ivr.db'}":
        database = f"sqlite:///{data_dir / 'ivr.db'}"
    return dataclasses.replace(settings, data_dir=data_dir, database_url=database,
                               raw={**settings.raw, "data_dir": str(data_dir)},
                               auth_token=settings.auth_token or secrets.token_hex(16))


class DemoCenter:
    """The app in-process, the emulator playing Twilio (its REST API on a localhost port),
    the app's clock the emulator's, and the county's 911 dispatch center configured."""

    def __init__(self, settings: Settings, start: datetime, seed: int) -> None:
        settings = dataclasses.replace(settings, raw=demo_transfers.configure(settings.raw))
        prepare_database(settings.database_url)
        self.clock = SimClock(start)
        base = settings.public_url
        self.numbers = {name: number_of(settings, name) for name in settings.lines}
        numbers = [NumberConfig(n, f"{base}/voice/incoming", fallback_url=f"{base}/voice/fallback",
                                status_callback=f"{base}/voice/status")
                   for n in self.numbers.values()]
        self.sim = Emulator(settings.account_sid, settings.auth_token, numbers,
                            WSGITransport(lambda environ, start_: self.app(environ, start_)),
                            clock=self.clock, seed=seed)
        self.settings = dataclasses.replace(settings, api_base=self.sim.serve_rest())
        self.services: Services = bootstrap(self.settings, clock=self.clock.now)
        self.app = create_app(services=self.services)

    def close(self) -> None:
        self.sim.stop_rest()
        self.services.engine.dispose()

    def __enter__(self) -> DemoCenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def day_start(settings: Settings, options: DemoOptions) -> datetime:
    """When the shift starts: now with `realtime`, else its hour on the chosen local day."""
    if options.realtime:
        return datetime.now(UTC)
    tz = ZoneInfo(settings.timezone)
    day = options.date or last_monday(datetime.now(tz).date())
    return datetime(day.year, day.month, day.day, options.day.start_hour,
                    tzinfo=tz).astimezone(UTC)


def run_day(center: DemoCenter, options: DemoOptions, progress: Progress | None = None,
            on_call_started: Callable[[str, str, float], None] | None = None) -> DayResult:
    """Run one shift on `center`; returns when every call of the day has ended (or after the
    drain limit). `on_call_started(agent, call_id, now)`: see `Floor.on_call_started`."""
    rng = random.Random(options.seed)
    arrivals = plan(dayprofile.load(), options.day, rng)
    return _run(center, options, arrivals, center.clock.now(), rng, progress, on_call_started)


def _run(center: DemoCenter, options: DemoOptions, arrivals: list[Arrival], start: datetime,
         rng: random.Random, progress: Progress | None,
         on_call_started: Callable[[str, str, float], None] | None) -> DayResult:
    sim, svc = center.sim, center.services
    floor = Floor(svc, sim, ticks=True, handle=options.handle, seed=rng.getrandbits(32))
    if on_call_started is not None:
        floor.on_call_started.append(on_call_started)
    scripted = ScriptedTransfers(svc, sim, options.transfer_share, seed=rng.getrandbits(32))
    if options.transfer_share > 0:
        floor.on_call_started.append(scripted)
    console = Console("accept", options.accept_after)
    only_911 = max(1, round(options.agents * options.emergency_only))
    both = only_911 + round(options.agents * options.both_lines)
    for i in range(options.agents):
        skills = SKILLS_911 if i < only_911 else \
            (*SKILLS_911, *SKILLS_311) if i < both else SKILLS_311
        floor.login(f"taker{i + 1:02d}", skills, console=console)
    patience = Patience(sim)
    calls: list[Call] = []
    for i, a in enumerate(arrivals):
        caller = Caller(f"+1410{5550000 + i % 10000 + (i // 10000) * 10000:07d}",
                        center.numbers[a.line], script=[press(k) for k in keys_for(a)])
        call = sim.place_call(caller, at=a.at)
        calls.append(call)
        patience.watch(call, a.patience, a.at + 1.0)
    shift = options.day.seconds
    wall = time.perf_counter()

    def label() -> str:
        now = center.clock.now().astimezone(ZoneInfo(center.settings.timezone))
        ended = sum(1 for c in calls if c.ended)
        waiting = sum(s.size for s in svc.queues.stats(now.timestamp()).values())
        return (f"{now:%H:%M}  calls {ended}/{len(calls)} ended, {waiting} waiting, "
                f"{patience.hangups} gave up")

    step = 15.0 if options.realtime else 300.0
    t = 0.0
    while t < shift:
        t = min(t + step, shift)
        if options.realtime:
            _run_realtime(sim, t, wall)
        else:
            sim.run(until=t)
        if progress is not None:
            progress.show(t, label())
    drain_until = shift + DRAIN_LIMIT
    while not all(c.ended for c in calls) and t < drain_until:
        t += 60.0
        if options.realtime:
            _run_realtime(sim, t, wall)
        else:
            sim.run(until=t)
    if progress is not None:
        progress.show(shift, label())
        progress.done()
    # The shift is over: the last wrap-ups end, then everyone logs out.
    t += svc.agents.rules.wrap_up_seconds + 2 * floor.interval
    if options.realtime:
        _run_realtime(sim, t, wall)
    else:
        sim.run(until=t)
    for agent in floor.consoles:
        presence = svc.agents.get(agent)
        if presence is not None and presence.state.value in ("available", "on_break"):
            svc.agents.logout(agent, floor.now())
    return DayResult(start, center.clock.now(), calls, arrivals, floor,
                     time.perf_counter() - wall, sim.webhooks.sent, patience.hangups,
                     dict(scripted.outcomes))


def _run_realtime(sim: Emulator, until: float, wall_start: float) -> None:
    """Run the simulation no faster than the wall clock, up to `until`."""
    while sim.clock.elapsed < until:
        target = min(until, time.perf_counter() - wall_start)
        sim.run(until=target)
        if target < until:
            time.sleep(0.2)


def _rows(svc: Services, sids: Sequence[str], *columns: Any) -> list[Any]:
    """`columns` of the SQL records of these calls (in chunks: SQL limits bound parameters)."""
    out: list[Any] = []
    with svc.engine.connect() as conn:
        for i in range(0, len(sids), 500):
            out += conn.execute(select(*columns).where(CallRow.sid.in_(sids[i:i + 500]))).all()
    return out


def unfinished_calls(svc: Services, sids: Sequence[str]) -> list[str]:
    """The calls among `sids` without a SQL record or still without a final state."""
    final = {r.sid for r in _rows(svc, sids, CallRow.sid, CallRow.outcome) if r.outcome != "live"}
    return [sid for sid in sids if sid not in final]


def outcome_counts(svc: Services, sids: Sequence[str]) -> dict[tuple[str, str], int]:
    """(line, outcome) -> how many of these calls."""
    return dict(Counter((r.line, r.outcome) for r in _rows(svc, sids, CallRow.line,
                                                            CallRow.outcome)))


def quality_line(svc: Services, day: date) -> str:
    """The day's quality-review sample (`ivr.quality`), in one line: its size per call-taker
    against the share asked, the calls chosen by kind, and how many calls were recorded."""
    config = QualityConfig.from_raw(svc.settings.raw)
    found = review.period(svc.engine, config, day, svc.settings.timezone)
    shares = [s for s in found.shares.values() if s.agent]
    by_kind = Counter(r for p in found.picks for r in p.reasons if r != "sample")
    return (f"quality review: {len(found.picks)} calls to review; random sample "
            f"{sum(len(s.sampled) for s in shares)} of {sum(s.calls for s in shares)} calls "
            f"({config.sample_percent:g} % of each call-taker's, rounded up: "
            + ", ".join(f"{s.agent} {len(s.sampled)}/{s.calls}" for s in shares) + ")"
            + "".join(f"; every {k}: {n}" for k, n in sorted(by_kind.items()))
            + f"; recorded calls {len(found.recorded)}")


def run_demo(settings: Settings, data_dir: Path, options: DemoOptions, chart_path: Path | None,
             write: Callable[[str], None]) -> list[str]:
    """The whole `ivr demo`: the shift, its figures, the chart, the audit. Returns the
    problems found (audit violations, calls left without a final state): none expected.
    An embedded Redis the demo started is stopped at the end (its data stays on disk); one
    that an `ivr serve` on the same folder runs is left to it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(settings, data_dir)
    tz = ZoneInfo(settings.timezone)
    try:
        with DemoCenter(settings, day_start(settings, options), options.seed) as center:
            svc = center.services
            local = center.clock.now().astimezone(tz)
            write(f"A shift of {options.day.end_hour - options.day.start_hour} h on "
                  f"{local:%A %d %B %Y} from {local:%H:%M} ({settings.timezone}): "
                  f"{options.agents} call-takers, about {options.day.calls} calls"
                  f"{' and a storm' if options.day.storm else ''}; data in {data_dir}")
            result = run_day(center, options, Progress(options.day.seconds))
            config = demo_figures.targets(settings.raw, settings.timezone)
            with svc.engine.connect() as conn:
                calls = reports.load_calls(conn, result.start, result.end)
            write("")
            for line in demo_figures.class_lines(calls, config):
                write(line)
            sids = [c.sid for c in result.calls]
            counts = outcome_counts(svc, sids)
            write("calls by line and outcome: " + ", ".join(
                f"{line} {outcome} {n}" for (line, outcome), n in sorted(counts.items())))
            floor = result.floor
            write(f"talk time: {demo_figures.spread(floor.talk_times)}; offers accepted "
                  f"{floor.accepted}; free call-taker to offer: "
                  f"{demo_figures.spread(floor.free_to_offer)}")
            if result.transfers:
                write("warm transfers to 911 dispatch: " + ", ".join(
                    f"{state} {n}" for state, n in sorted(result.transfers.items())))
            write(quality_line(svc, local.date()))
            write(f"{len(result.calls)} calls, {result.requests} webhooks in "
                  f"{result.wall_seconds:.0f} s of real time "
                  f"({result.requests / max(result.wall_seconds, 1e-9):.0f} webhooks/s)")
            if chart_path is not None:
                title = f"CITY 311/911 - {local:%a %d %b %Y} - CALLS PER " \
                        f"{config.interval_minutes} MINUTES"
                chart_path.write_bytes(demo_figures.chart(calls, config, result.start,
                                                          result.end, title))
                write(f"chart: {chart_path}")
            problems = [f"call {sid} has no final state" for sid in unfinished_calls(svc, sids)]
            violations = audit.audit_services(svc, result.start, result.end)
            problems += [str(v) for v in violations]
            write(f"audit: {len(violations)} violation(s)")
            for p in problems:
                write(f"  {p}")
            return problems
    finally:
        if settings.redis_url == "embedded":
            stop_embedded(data_dir)  # only if this process started it
