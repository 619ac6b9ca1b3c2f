"""Benchmark: what a new call pays to find its line's live flow (and storm message) in SQL.

Every new call asks SQL for its line's live version number (`SqlFlowStore.live`, one indexed
row) and for the line's announcement (`announcements.call_vars`, one row by primary key); the
parsed flow itself comes from the process's cache of published versions. This prints, per
database (the embedded SQLite file, and PostgreSQL at FLOW_BENCH_DATABASE_URL when it answers),
the median and p99 of each lookup over many calls, beside a baseline from the same run: the
in-memory `FlowStore.live` (no SQL at all) and a bare ``SELECT 1`` on a pooled connection (what
any SQL round trip costs there). For scale, on SQLite it also times a whole signed
``/voice/incoming`` webhook through the app (embedded Redis, SQL call record) with the flows in
SQL, and with the shipped flows in memory as they were before flow versions existed.

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

from ivr.bootstrap import prepare_database  # noqa: E402
from ivr.flows.announcements import Announcements  # noqa: E402
from ivr.flows.live import sql_flows  # noqa: E402
from ivr.flows.store import load_shipped  # noqa: E402
from ivr.flows.versions import FlowVersions  # noqa: E402
from ivr.platform.db import make_engine, session_factory  # noqa: E402

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


def incoming_webhook(folder: str, url: str, calls: int) -> None:
    """A new call's whole webhook, flows from SQL versus flows in memory (same app otherwise)."""
    from twilio.request_validator import RequestValidator

    from ivr.app import create_app
    from ivr.bootstrap import bootstrap
    from ivr.platform.config import load_settings
    from ivr.platform.redisconn import start_embedded, stop_embedded

    token = "bench-token-0123456789abcdef0123"
    base = "https://bench.example.org"
    redis_url = start_embedded(Path(folder) / "redis")
    settings = load_settings(overrides={"center": "bench" + uuid.uuid4().hex[:6],
                                        "public_url": base, "data_dir": folder},
                             env={"TWILIO_AUTH_TOKEN": token, "IVR_REDIS_URL": redis_url,
                                  "IVR_DATABASE_URL": url, "IVR_SECRET_KEY": "bench"})
    validator = RequestValidator(token)
    print(f"\nfor scale, a whole signed /voice/incoming webhook on SQLite ({calls // 4} calls "
          "each, interleaved):")
    apps = []
    for label, flows in (("flows in memory (as before flow versions)", load_shipped()),
                         ("flows from SQL (this branch)", None)):
        svc = bootstrap(settings, flows=flows)
        apps.append((label, svc, create_app(services=svc).test_client()))

    def call(client) -> None:  # type: ignore[no-untyped-def]
        params = {"CallSid": f"CA{uuid.uuid4().hex}", "From": "+14105550100",
                  "To": "+14435550311", "AccountSid": "AC" + "0" * 32}
        signature = validator.compute_signature(f"{base}/voice/incoming", params)
        reply = client.post("/voice/incoming", data=params,
                            headers={"X-Twilio-Signature": signature})
        assert reply.status_code == 200 and b"<Gather" in reply.data, reply.data

    samples: dict[str, list[float]] = {label: [] for label, _, _ in apps}
    for round_ in range(calls // 4 + 20):
        for label, _, client in apps:  # alternate, so both see the same machine and table sizes
            start = time.perf_counter()
            call(client)
            if round_ >= 20:
                samples[label].append((time.perf_counter() - start) * 1e6)
    for label, svc, _ in apps:
        found = sorted(samples[label])
        print(f"  {label:<52} median {statistics.median(found):8.1f} us   "
              f"p99 {found[int(len(found) * 0.99) - 1]:8.1f} us")
        svc.engine.dispose()
    stop_embedded(Path(folder) / "redis")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        prepare_database(url)
        bench("SQLite (embedded default)", url, args.calls)
        incoming_webhook(folder, url, args.calls)
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
        prepare_database(url)
        bench("PostgreSQL", url, args.calls)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
