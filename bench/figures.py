"""Benchmark: the floor's figures on a day of SQL records (embedded SQLite): the day report
behind the wallboard, ``/metrics`` and the reports (`ivr.floor.reports.day_report`), the Prometheus
text of it, and the audit (`ivr.floor.audit.audit`).

A day is made as the application records it (calls, their events, the call-takers' state
history) by a small priority-queue simulation: 911 calls first, longest-idle call-taker first,
so the audit must find nothing. Two sizes: 2,000 calls and 8 call-takers (the baseline) and
20,000 calls and 80 call-takers. The floor under every figure is one SQL aggregate over the
same calls (count and mean wait per class), timed in the same run: the report's cost is given
as a ratio to it, and the large size as a ratio to the baseline.

    python bench/figures.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from ivr.bootstrap import prepare_database  # noqa: E402
from ivr.calls.models import Call, CallEvent  # noqa: E402
from ivr.floor import audit, reports, wallboard  # noqa: E402
from ivr.floor.models import AgentState  # noqa: E402
from ivr.platform.db import make_engine  # noqa: E402

DAY = date(2026, 11, 23)
TZ = "America/New_York"
CENTER = "bench"
SIZES = ((2_000, 8), (20_000, 80))  # about 93% occupancy: callers wait, some give up
CONFIG = reports.ReportConfig.from_raw(
    {"reports": {"interval_minutes": 15, "service_levels": {
        "emergency": [{"within": 15, "goal": 90}, {"within": 20, "goal": 95}],
        "general": [{"within": 30, "goal": 80}]}}}, TZ)


def make_day(engine, calls: int, agents: int, seed: int = 7) -> None:  # type: ignore[no-untyped-def]
    """Write a day of records: arrivals over 16 hours, 10% 911, handle ~ 3 min, 30 s wrap-up,
    callers who give up after a patience of 1-4 minutes."""
    rng = random.Random(seed)
    start, _end = reports.day_span(DAY, TZ)
    start += timedelta(hours=7)
    arrivals = sorted(rng.uniform(0, 16 * 3600) for _ in range(calls))
    free = [(0.0, i) for i in range(agents)]  # (free since, agent): longest idle first
    heapq.heapify(free)
    waiting: list[tuple[int, float, int]] = []  # (rank, arrival, call)
    rows_c, rows_e, rows_s = [], [], []

    def at(s: float) -> datetime:
        return start + timedelta(seconds=s)

    def state(agent: int, s: float, event: str, st: str, call: str | None) -> None:
        rows_s.append({"center": CENTER, "seq": 0, "agent": f"a{agent}", "at": at(s),
                       "event": event, "state": st, "call_sid": call, "reservation": None,
                       "skills": ["line:311", "line:911"]})

    for i in range(agents):
        state(i, 0.0, "login", "available", None)
    info = {}
    for n, t in enumerate(arrivals):
        emergency = rng.random() < 0.1
        info[n] = (t, emergency, rng.uniform(60, 240), rng.expovariate(1 / 180))
    # Events in time order: an arrival joins the line; whenever a call-taker is free and a
    # call waits, the best call (911 first, then the oldest) goes to the longest idle.
    pending = list(range(calls))
    pending.reverse()
    clock = 0.0
    while pending or waiting:
        next_arrival = info[pending[-1]][0] if pending else float("inf")
        when = max(free[0][0], clock) if waiting else float("inf")
        if when <= next_arrival:
            clock = when
            _r, arrived, n = heapq.heappop(waiting)
            t, emergency, patience, talk = info[n]
            if clock - arrived > patience:  # gave up before anyone was free
                _finish(rows_c, rows_e, n, t, emergency, at, patience, None)
                continue
            _idle, agent = heapq.heappop(free)
            sid = f"CA{n:08d}"
            wait = clock - arrived
            state(agent, clock, "offered", "reserved", sid)
            state(agent, clock + 2, "accepted", "on_call", sid)
            state(agent, clock + 5 + talk, "end_call", "wrap_up", sid)
            state(agent, clock + 35 + talk, "ready", "available", None)
            _finish(rows_c, rows_e, n, t, emergency, at, wait + 2, (agent, clock, talk))
            heapq.heappush(free, (clock + 35 + talk, agent))
        else:
            n = pending.pop()
            clock = info[n][0]
            heapq.heappush(waiting, (0 if info[n][1] else 1, clock, n))
    # agents numbers its changes as it makes them: in time order (the plan above is not)
    rows_s.sort(key=lambda r: r["at"])
    for n, row in enumerate(rows_s, 1):
        row["seq"] = n
    with engine.begin() as conn:
        for table, rows in ((Call, rows_c), (CallEvent, rows_e), (AgentState, rows_s)):
            for k in range(0, len(rows), 5000):
                conn.execute(insert(table.__table__), rows[k:k + 5000])


def _finish(rows_c, rows_e, n, t, emergency, at, wait, served) -> None:  # type: ignore[no-untyped-def]
    sid = f"CA{n:08d}"
    cls = "emergency" if emergency else "general"
    end = t + wait + (served[2] + 5 if served else 0)
    rows_c.append({"sid": sid, "line": "911" if emergency else "311", "caller": "",
                   "dialed": "", "direction": "inbound", "started_at": at(t - 10),
                   "ended_at": at(end), "twilio_status": "completed", "status_sequence": 3,
                   "outcome": "answered" if served else "abandoned", "queue_class": cls,
                   "queued_at": at(t), "wait_seconds": round(wait, 1)})
    rows_e.append({"call_sid": sid, "at": at(t), "kind": "enqueue", "detail": cls,
                   "data": {"skills": ["line:911" if emergency else "line:311"]}})
    if served:
        agent, now, talk = served
        a = f"a{agent}"
        rows_e += [
            {"call_sid": sid, "at": at(now), "kind": "offered", "detail": a, "data": {"agent": a}},
            {"call_sid": sid, "at": at(now + 5), "kind": "bridged", "detail": a,
             "data": {"agent": a}},
            {"call_sid": sid, "at": at(now + 5 + talk), "kind": "ended", "detail": a,
             "data": {"agent": a, "talk": round(talk, 1)}},
        ]
    else:
        rows_e.append({"call_sid": sid, "at": at(t + wait), "kind": "abandoned", "detail": "",
                       "data": {"wait": round(wait, 1)}})


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    start, end = reports.day_span(DAY, TZ)
    results = {}
    for calls, agents in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            prepare_database(url)
            engine = make_engine(url)
            t0 = time.perf_counter()
            make_day(engine, calls, agents)
            made = time.perf_counter() - t0

            def floor(engine=engine) -> object:  # type: ignore[no-untyped-def]
                with engine.connect() as conn:
                    return conn.execute(
                        select(Call.queue_class, func.count(), func.avg(Call.wait_seconds))
                        .where(Call.queued_at >= start, Call.queued_at < end)
                        .group_by(Call.queue_class)).all()

            def report(engine=engine) -> reports.DayReport:  # type: ignore[no-untyped-def]
                with engine.connect() as conn:
                    r = reports.day_report(conn, DAY, CONFIG, CENTER)
                r.as_dict()
                return r

            def board_text() -> str:
                r = report()
                classes = [{"queue_class": n, "waiting": 0, "longest_wait_seconds": 0.0,
                            "agents": {}, **f.as_dict(CONFIG.targets_of(n))}
                           for n, f in r.classes.items()]
                return wallboard.prometheus({"classes": classes})

            t_floor, _ = timed(floor, args.repeat)
            t_report, rep = timed(report, args.repeat)
            t_text, _ = timed(board_text, args.repeat)
            def check(engine=engine) -> list[audit.Violation]:  # type: ignore[no-untyped-def]
                return audit.audit(engine, start, end, {"emergency": 0, "general": 10}, CENTER)

            t_audit, found = timed(check, max(1, args.repeat // 2))
            engine.dispose()
        figures = rep.classes  # type: ignore[union-attr]
        results[calls] = (t_floor, t_report, t_text, t_audit)
        print(f"{calls} calls, {agents} call-takers (records written in {made:.1f} s)")
        for name, f in sorted(figures.items()):
            sl = f.service_level(CONFIG.targets_of(name)[0].within)
            print(f"  {name:9s} offered {f.offered:6d} answered {f.answered:6d} "
                  f"abandoned {f.abandoned:5d} ASA {f.asa or 0:6.1f} s SL {100 * (sl or 0):5.1f}%")
        print(f"  floor: one SQL aggregate        {1000 * t_floor:8.1f} ms (median)")
        print(f"  day report (wallboard, reports) {1000 * t_report:8.1f} ms "
              f"= {t_report / t_floor:6.1f} x floor")
        print(f"  /metrics text                   {1000 * t_text:8.1f} ms")
        print(f"  audit                           {1000 * t_audit:8.1f} ms, "
              f"{len(found)} violation(s)")  # type: ignore[arg-type]
    (small, large) = (results[SIZES[0][0]], results[SIZES[1][0]])
    print(f"large / baseline: floor {large[0] / small[0]:.1f} x, report "
          f"{large[1] / small[1]:.1f} x, audit {large[3] / small[3]:.1f} x "
          f"(calls x {SIZES[1][0] / SIZES[0][0]:.0f})")


if __name__ == "__main__":
    main()
