"""The clock of the floor: `connect.tick` once a second, in a thread beside the RQ worker.

Offers time out, wrap-ups end, reject delays pass and callback retries come due at a time, not
on a request; something must look. RQ's scheduler works in whole seconds at best and would put a
job per second through Redis for nothing, so a plain loop does it (`ivr worker` starts one; any
number of workers may run one: every step of a tick is safe to run from several processes at
once). RQ stays for real jobs. Tests do not run this: they call `connect.tick(svc, now)` on
their own virtual clock. Each tick also sweeps the outbox (`ivr.outbox_jobs.sweep`): hand-offs
whose job was lost or whose retry is due are enqueued again.
"""

from __future__ import annotations

import logging
import threading
import time

from ivr.platform.config import Settings

log = logging.getLogger("ivr.ticker")

INTERVAL = 1.0


def run(settings: Settings, stop: threading.Event, interval: float = INTERVAL) -> None:
    """Tick every `interval` seconds until `stop` is set. A failed tick is logged and the next
    one runs on time (a Redis restart must not stop the floor's clock for good)."""
    from ivr.bootstrap import bootstrap
    from ivr.connect import actions as connect
    from ivr.platform import outbox_jobs
    from ivr.platform.jobs import rq_connection

    svc = bootstrap(settings)
    rq = rq_connection(settings)  # RQ's own connection: pickled payloads, not decoded
    next_at = time.monotonic()
    while not stop.is_set():
        try:
            connect.tick(svc)
        except Exception:
            log.exception("tick failed")
        try:
            outbox_jobs.sweep(settings, svc.engine, svc.clock(), rq)
        except Exception:
            log.exception("outbox sweep failed")
        next_at += interval
        delay = next_at - time.monotonic()
        if delay < 0:  # fell behind (a long tick, a paused process): no burst of catch-ups
            next_at, delay = time.monotonic(), 0.0
        stop.wait(delay)
    svc.engine.dispose()


def start(
    settings: Settings, interval: float = INTERVAL,
) -> tuple[threading.Thread, threading.Event]:
    """Run the ticker in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(settings, stop, interval), name="ivr-ticker",
                              daemon=True)
    thread.start()
    return thread, stop
