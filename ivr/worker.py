"""`ivr worker`: an RQ worker for the background jobs, and beside it the clock of the floor.

The clock (`run_ticker`) runs `connect.actions.tick` once a second in a thread: offers time out,
wrap-ups end, reject delays pass and callback retries come due at a time, not on a request;
something must look. RQ's scheduler works in whole seconds at best and would put a job per
second through Redis for nothing, so a plain loop does it. Every worker runs one, but only the
holder of the ticker lease in Redis (`ivr.platform.lease`) ticks; the others stand by and take
over within `LEASE_TURNS` intervals of the holder's death (at once when it stops). Every step
of a tick is safe from several processes at once anyway, so a holder paused past its lease
costs nothing but a doubled tick. RQ stays for real jobs.
Tests do not run the loop: they call `tick(svc, now)` on their own virtual clock. Each tick
also sweeps the outbox (`ivr.platform.outbox_jobs.sweep`): messages whose job was lost or whose
retry is due are enqueued again, and the journal of events kept during an outage is applied
(`ivr.voice.outage.replay`) once the stores answer again.

Both beat (`ivr.platform.heartbeat`): the ticker after each tick, the worker process from a
thread of its own, so `/healthz` in any web process can say whether they are alive.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from rq import Queue, Worker

from ivr.app import create_app
from ivr.bootstrap import bootstrap
from ivr.connect import actions as connect
from ivr.platform import heartbeat, logsafe, outbox_jobs
from ivr.platform.config import Settings, load_settings
from ivr.platform.jobs import QUEUE_NAMES, rq_connection
from ivr.platform.jobs import queue as rq_queue
from ivr.platform.lease import Lease, ticker_key
from ivr.platform.redisconn import connect as redis_connect
from ivr.quality import recordings
from ivr.quality.config import RecordingConfig
from ivr.voice import outage, reconcile

log = logging.getLogger("ivr.ticker")

INTERVAL = 1.0
LEASE_TURNS = 3  # intervals a ticker lease lasts without renewal


class _Worker(Worker):
    """RQ's worker, whose command-channel listener wakes every second. RQ's own waits up to
    60 s for a message, and its stop waits for that thread: every stop of `ivr serve` took
    30 s and ended in a kill, and a whole restart kept callers from the center that long."""

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler)


def run_worker(settings: Settings, burst: bool = False) -> None:
    """An RQ worker and, unless it is a burst run, the floor's one-second ticker beside it."""
    logsafe.install()  # jobs replay webhooks and log what they carried
    conn = rq_connection(settings)
    worker = _Worker([Queue(n, connection=conn) for n in QUEUE_NAMES], connection=conn)
    stop = None
    if not burst:
        _thread, stop = start_ticker(settings)
        threading.Thread(target=run_heartbeat, args=(settings, "worker", stop),
                         name="ivr-worker-heartbeat", daemon=True).start()
    try:
        worker.work(with_scheduler=True, burst=burst)
    finally:
        if stop is not None:
            stop.set()


def run_heartbeat(settings: Settings, part: str, stop: threading.Event,
                  interval: float = INTERVAL) -> None:
    """Beat for `part` every `interval` seconds until `stop`; a Redis away is not fatal."""
    client = redis_connect(settings.redis_url, settings.data_dir)  # where /healthz reads
    while not stop.is_set():
        try:
            heartbeat.beat(client, settings.center, part)
        except Exception:  # noqa: BLE001 - Redis restarting: the next beat tries again
            log.debug("heartbeat of %s not written", part, exc_info=True)
        stop.wait(interval)
    client.close()


def run_ticker(settings: Settings, stop: threading.Event, interval: float = INTERVAL) -> None:
    """Tick every `interval` seconds until `stop` is set. A failed tick is logged and the next
    one runs on time (a Redis restart must not stop the floor's clock for good)."""
    svc = bootstrap(settings)
    app = create_app(services=svc)  # the journal is replayed through the webhooks' own views
    rq = rq_connection(settings)  # RQ's own connection: pickled payloads, not decoded
    held = Lease(svc.redis, ticker_key(settings.center), LEASE_TURNS * interval)
    next_at = time.monotonic()
    first = True
    while not stop.is_set():
        try:
            holder = held.hold()
        except Exception:  # noqa: BLE001 - Redis away: no tick can run either; try next turn
            log.debug("ticker lease not renewed", exc_info=True)
            holder = False
        if not holder:
            next_at = time.monotonic() + interval
            stop.wait(interval)
            continue
        try:
            connect.tick(svc)
        except Exception:
            log.exception("tick failed")
        try:
            outbox_jobs.sweep(settings, svc.engine, svc.clock(), rq)
        except Exception:
            log.exception("outbox sweep failed")
        try:
            outage.replay(app)
        except Exception:
            log.exception("journal replay failed")
        try:
            if first or reconcile.lease(svc):  # at start-up whatever the lease says
                first = False
                rq_queue(settings, "ivr-default", rq).enqueue(
                    reconcile_job, job_timeout=120, result_ttl=60, failure_ttl=3600)
        except Exception:
            log.exception("could not schedule the reconciler")
        try:
            if recordings.purge_lease(svc.redis, settings.center):
                rq_queue(settings, "ivr-default", rq).enqueue(
                    purge_recordings_job, job_timeout=600, result_ttl=60, failure_ttl=3600)
        except Exception:
            log.exception("could not schedule the purge of recordings")
        try:
            heartbeat.beat(svc.redis, settings.center, "ticker")
        except Exception:  # noqa: BLE001 - Redis away: the tick above said so already
            log.debug("ticker heartbeat not written", exc_info=True)
        next_at += interval
        delay = next_at - time.monotonic()
        if delay < 0:  # fell behind (a long tick, a paused process): no burst of catch-ups
            next_at, delay = time.monotonic(), 0.0
        stop.wait(delay)
    with contextlib.suppress(Exception):  # another ticker takes over at once, not after the TTL
        held.release()
    svc.engine.dispose()


def reconcile_job() -> dict[str, int]:
    """The reconciler's RQ job (`ivr.voice.reconcile`): one pass against Twilio's REST
    resources, with this worker's settings. The ticker enqueues it every
    `reconcile.INTERVAL` seconds (one ticker at a time, by a lease), the first at start-up."""
    svc = bootstrap(load_settings())
    try:
        done = reconcile.reconcile(svc)
    finally:
        svc.engine.dispose()
    return {"twilio_live": done.twilio_live, "ended": len(done.ended),
            "requeued": len(done.requeued), "freed": len(done.freed)}


def purge_recordings_job() -> dict[str, int]:
    """Delete the recordings past their retention at Twilio and here
    (`ivr.quality.recordings.purge`); the ticker enqueues it once an hour."""
    svc = bootstrap(load_settings())
    try:
        done = recordings.purge(
            svc.engine, svc.telephony.client, svc.settings.center, svc.clock(),
            RecordingConfig.from_raw(svc.settings.raw).retention_days)
    finally:
        svc.engine.dispose()
    return {"deleted": len(done.deleted), "failed": len(done.failed)}


def start_ticker(
    settings: Settings, interval: float = INTERVAL,
) -> tuple[threading.Thread, threading.Event]:
    """Run the ticker in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_ticker, args=(settings, stop, interval),
                              name="ivr-ticker", daemon=True)
    thread.start()
    return thread, stop
