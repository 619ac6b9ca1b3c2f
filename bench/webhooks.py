"""Benchmark: signed IVR step requests through gunicorn, beside a bare Flask endpoint.

Both servers run the same gunicorn settings on this machine; the same asyncio client sends the same
signed requests to each (50 in flight by default) and reports requests per second and p50/p99
latency. The IVR side does the full work of a step: signature check, live state in Redis, the flow
engine, TwiML, and the SQL record. Each emulated call walks the shipped 311 flow (language, menu,
report a problem, a topic) so every request is a real step, never a replay.

    python bench/webhooks.py [--seconds 15] [--concurrency 50] [--workers 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
TOKEN = secrets.token_hex(16)
PUBLIC = "http://127.0.0.1"  # rebuilt per server with its port
# Digits pressed after the incoming webhook: English, report a problem, streetlight.
SCRIPT = ("1", "1", "2")

BARE_APP = '''
from flask import Flask, Response
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse
import os
app = Flask(__name__)
r = VoiceResponse()
g = r.gather(action="/voice/step", num_digits=1)
g.say("For English, press 1. Para espanol, oprima 2.")
DOC = str(r)

@app.post("/voice/<path:rest>")
def hook(rest):
    return Response(DOC, mimetype="text/xml")
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


# The baseline is served by `ivr serve`'s own gunicorn application class and options (worker
# class, threads, keep-alive, timeouts, the access log), with the bare app loaded instead.
BARE_SERVE = '''
import sys
from ivr.serve import _Gunicorn, gunicorn_options

class Bare(_Gunicorn):
    def load(self):
        from bare_app import app
        return app

port, workers, threads = (int(x) for x in sys.argv[1:4])
Bare(gunicorn_options("127.0.0.1", port, workers, threads)).run()
'''


def start_bare(port: int, workers: int, threads: int, folder: Path) -> subprocess.Popen:
    """The baseline runs under the same gunicorn settings as `ivr serve` (ivr/serve.py)."""
    (folder / "bare_app.py").write_text(BARE_APP)
    (folder / "bare_serve.py").write_text(BARE_SERVE)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{folder}"}
    return subprocess.Popen(
        [sys.executable, "bare_serve.py", str(port), str(workers), str(threads)],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_ivr(port: int, workers: int, threads: int, folder: Path,
              env_extra: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN, "IVR_PUBLIC_URL": f"{PUBLIC}:{port}",
           "IVR_DATA_DIR": str(folder / "var"), "IVR_CONFIG": str(ROOT / "config.yaml"),
           "IVR_CENTER": "bench" + secrets.token_hex(3), "PYTHONPATH": str(ROOT), **env_extra}
    return subprocess.Popen(
        [sys.executable, "-m", "ivr.cli", "serve", "--port", str(port), "--workers", str(workers),
         "--threads", str(threads), "--no-worker"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Client:
    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base
        self.session = session
        self.validator = RequestValidator(TOKEN)
        self.latencies: list[float] = []
        self.errors = 0

    async def post(self, path: str, params: dict[str, str]) -> str:
        url = self.base + path
        sig = self.validator.compute_signature(url, params)
        t0 = time.perf_counter()
        async with self.session.post(url, data=params,
                                     headers={"X-Twilio-Signature": sig}) as resp:
            body = await resp.text()
            if resp.status != 200:
                self.errors += 1
        self.latencies.append(time.perf_counter() - t0)
        return body

    async def one_call(self, n: int) -> None:
        sid = "CA" + secrets.token_hex(16)
        base = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": f"+1410555{n % 10000:04d}",
                "To": "+14435550311", "CallStatus": "in-progress", "ApiVersion": "2010-04-01",
                "Direction": "inbound"}
        await self.post("/voice/incoming", base)
        for seq, digits in enumerate(SCRIPT, start=1):
            await self.post(f"/voice/step?event=gather&seq={seq}", {**base, "Digits": digits})


async def drive(base: str, seconds: float, concurrency: int) -> Client:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = Client(base, session)
        # warm up every worker
        await asyncio.gather(*(client.one_call(i) for i in range(concurrency)))
        client.latencies.clear()
        deadline = time.perf_counter() + seconds
        counter = iter(range(10**9))

        async def loop() -> None:
            while time.perf_counter() < deadline:
                await client.one_call(next(counter))

        t0 = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        client.elapsed = time.perf_counter() - t0  # type: ignore[attr-defined]
        return client


def report(name: str, client: Client) -> float:
    lat = sorted(client.latencies)
    rps = len(lat) / client.elapsed  # type: ignore[attr-defined]
    p50 = statistics.median(lat) * 1000
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000
    print(f"{name:<28} {rps:9.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
          f"requests {len(lat)}  errors {client.errors}")
    return rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--threads", type=int, default=32, help="as `ivr serve`")
    parser.add_argument("--servers", action="store_true",
                        help="IVR on the Redis and PostgreSQL servers, not the embedded default")
    args = parser.parse_args()
    env_extra = {}
    if args.servers:
        env_extra = {"IVR_REDIS_URL": "redis://127.0.0.1:6379/8",
                     "IVR_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bare_port, ivr_port = free_port(), free_port()
        procs = [start_bare(bare_port, args.workers, args.threads, folder),
                 start_ivr(ivr_port, args.workers, args.threads, folder, env_extra)]
        try:
            wait_up(bare_port)
            wait_up(ivr_port)
            time.sleep(1.0)
            print(f"{args.concurrency} concurrent requests, {args.workers} gunicorn workers x "
                  f"{args.threads} threads, {args.seconds:.0f} s each, {os.cpu_count()} cores "
                  f"shared with the client")
            bare = report("bare Flask constant TwiML",
                          asyncio.run(drive(f"{PUBLIC}:{bare_port}", args.seconds,
                                            args.concurrency)))
            backend = "servers" if args.servers else "embedded"
            ivr = report(f"IVR step ({backend})",
                         asyncio.run(drive(f"{PUBLIC}:{ivr_port}", args.seconds,
                                           args.concurrency)))
            print(f"IVR / bare throughput ratio: {ivr / bare:.2f} (target >= 0.50)")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=15)


if __name__ == "__main__":
    main()
