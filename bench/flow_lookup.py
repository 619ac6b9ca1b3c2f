"""Benchmark: what a new call pays to find its line's live flow (and storm message) in SQL.

Every new call asks SQL for its line's live version number (`SqlFlowStore.live`, one indexed
row) and for the line's announcement (`announcements.call_vars`, one row by primary key); the
parsed flow itself comes from the process's cache of published versions. This prints, per
database (the embedded SQLite file, and PostgreSQL at FLOW_BENCH_DATABASE_URL when it answers),
the median and p99 of each lookup over many calls, beside a baseline from the same run: the
in-memory `FlowStore.live` (no SQL at all) and a bare ``SELECT 1`` on a pooled connection (what
any SQL round trip costs there).

    python bench/flow_lookup.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ivr.announcements import Announcements  # noqa: E402
from ivr.db import make_engine, prepare, session_factory  # noqa: E402
from ivr.flowlive import sql_flows  # noqa: E402
from ivr.flowstore import load_shipped  # noqa: E402
from ivr.flowversions import FlowVersions  # noqa: E402

POSTGRES = os.environ.get("FLOW_BENCH_DATABASE_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def clock() -> datetime:
    return datetime.now(UTC)


def timed(step: Callable[[], object], calls: int) -> tuple[float, float]:
    """(median, p99) in microseconds."""
    for _ in range(50):
        step()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def bench(label: str, url: str, calls: int) -> None:
    center = "bench" + uuid.uuid4().hex[:8]
    engine = make_engine(url)
    sessions = session_factory(engine)
    store = sql_flows(engine, sessions, center, clock)
    versions = FlowVersions(sessions, center, clock)
    versions.ensure_shipped()
    # Two more published versions, as after a few publishes in real life.
    for n in (2, 3):
        draft = versions.draft("311")
        versions.save_draft("311", draft.text + f"\n# edit {n}\n", draft.revision, "bench")
        versions.publish("311", "bench")
    board = Announcements(engine, sessions, center, clock)
    flow, version = store.live("311")
    board.switch_on("311", flow, {"en": "Storm.", "es": "Tormenta."}, "bench")
    memory = load_shipped()

    def select_one() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()

    rows = [
        ("baseline: in-memory FlowStore.live (no SQL)", lambda: memory.live("311")),
        ("baseline: SELECT 1 on a pooled connection", select_one),
        ("SqlFlowStore.live('311') (live pointer from SQL)", lambda: store.live("311")),
        ("announcements.call_vars('311')", lambda: board.call_vars("311")),
    ]
    print(f"\n{label}: {url.split('@')[-1]}  (live version {version}, {calls} calls)")
    for name, step in rows:
        median, p99 = timed(step, calls)
        print(f"  {name:<52} median {median:8.1f} us   p99 {p99:8.1f} us")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        prepare(url)
        bench("SQLite (embedded default)", url, args.calls)
    try:
        schema = "bench_" + uuid.uuid4().hex[:8]
        admin = make_engine(POSTGRES)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # noqa: BLE001 - the server is optional
        print(f"\nPostgreSQL skipped: {type(exc).__name__}")
        return
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    try:
        prepare(url)
        bench("PostgreSQL", url, args.calls)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
