"""`ivr serve`: the whole service on one machine, or the web tier of a larger one.

On the embedded default the serving process starts the embedded Redis, upgrades the SQLite schema,
starts an RQ worker beside gunicorn, and stops them all together.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from ivr.app import create_app
from ivr.bootstrap import prepare_database
from ivr.platform.config import Settings, ensure_local_secrets
from ivr.platform.redisconn import start_embedded

log = logging.getLogger("ivr.serve")


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):  # type: ignore[no-untyped-def]
        return create_app()  # in each worker, after the fork


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # Threads, not sync workers: each open console holds a request for its live stream
        # (server-sent events, ended every few minutes), which would block a sync worker.
        "worker_class": "gthread",
        # Twilio gives up after 15 s; answer (or fail over) well before that. (A gthread
        # worker's timeout is its own heartbeat, so a long event stream is not killed by it.)
        "timeout": 12,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-",
        # Query strings hold no caller data; form bodies (which do) are never logged.
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    }


def prepare(settings: Settings) -> list[str]:
    """Everything a process tree needs before serving: secrets, embedded Redis, schema."""
    made = ensure_local_secrets(os.environ)
    if settings.redis_url == "embedded":
        os.environ["IVR_REDIS_URL"] = start_embedded(settings.data_dir)
    prepare_database(settings.database_url)
    if not os.environ.get("IVR_DATABASE_URL"):
        os.environ["IVR_DATABASE_URL"] = settings.database_url
    return made


def serve(settings: Settings, host: str, port: int, workers: int, threads: int,
          with_worker: bool) -> None:
    made = prepare(settings)
    if made:
        log.warning("%s not set: made random ones for this run. Real Twilio traffic needs the "
                    "account's TWILIO_AUTH_TOKEN in the environment.", ", ".join(made))
    worker = None
    if with_worker:
        worker = subprocess.Popen([sys.executable, "-m", "ivr.cli", "worker"],
                                  env=os.environ.copy())
    try:
        _Gunicorn(gunicorn_options(host, port, workers, threads)).run()
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
