"""Real Redis topologies for the tests: a 3-master Cluster, and a primary + replica + 3 Sentinels.

They come from Debian's `redis-server` (``redis-server --sentinel`` for the Sentinels; set
IVR_TEST_REDIS_SERVER to use another binary), on free loopback ports, in a folder of the run's
own. They start once per run, only when a test asks for them (`cluster_url`, `sentinel_url`),
and every process of them is stopped at the end:

- with xdist, the first worker that asks starts them under a file lock and writes their
  addresses beside them; the other workers read the addresses; the controller, which outlives
  every worker, stops every process listed there when the run ends;
- without xdist, the one process is both and does the same.

Set IVR_TEST_ENGINES=0 to skip the tests that need them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

START_TIMEOUT = 20.0
MASTER_NAME = "ivrmaster"


def server_binary() -> str | None:
    """Debian's redis-server first (a Python package may put its own older one on PATH)."""
    chosen = os.environ.get("IVR_TEST_REDIS_SERVER")
    if chosen:
        return chosen
    if Path("/usr/bin/redis-server").exists():
        return "/usr/bin/redis-server"
    return shutil.which("redis-server")


def cli_binary(server: str) -> str | None:
    beside = Path(server).with_name("redis-cli")
    return str(beside) if beside.exists() else shutil.which("redis-cli")


def free_ports(count: int) -> list[int]:
    """Ports the kernel says are free now (held open together, so they differ)."""
    held = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


@dataclass
class Engines:
    """Processes started in `folder`; their pids are kept in ``pids`` so another process can
    stop them."""

    folder: Path
    binary: str
    pids: list[int] = field(default_factory=list)

    def _record(self, pid: int) -> None:
        self.pids.append(pid)
        with (self.folder / "pids").open("a") as f:
            f.write(f"{pid}\n")

    def server(self, name: str, port: int, *extra: str, sentinel: bool = False) -> int:
        """Start one redis-server (or Sentinel) on `port`; its pid once it answers PING."""
        home = self.folder / name
        home.mkdir(parents=True, exist_ok=True)
        if sentinel:
            conf = home / "sentinel.conf"  # a Sentinel rewrites its config: a file of its own
            conf.write_text("\n".join(extra) + "\n")
            argv = [self.binary, str(conf), "--sentinel", "--port", str(port),
                    "--bind", "127.0.0.1", "--dir", str(home), "--logfile", str(home / "log"),
                    "--daemonize", "no"]
        else:
            argv = [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(home),
                    "--logfile", str(home / "log"), "--daemonize", "no", "--save", "",
                    *extra]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self._record(proc.pid)
        wait_ping(port, proc, home / "log")
        return proc.pid

    def stop(self) -> None:
        stop_listed(self.folder)


def wait_ping(port: int, proc: subprocess.Popen[bytes] | None, log: Path) -> None:
    client = redis.Redis(port=port, socket_connect_timeout=0.3, socket_timeout=1)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on {port} did not start; see {log}") \
                        from None
                time.sleep(0.05)
    finally:
        client.close()


def stop_listed(folder: Path) -> None:
    """SIGTERM every process listed in ``folder/pids``, SIGKILL those still there after 5 s."""
    listed = folder / "pids"
    if not listed.exists():
        return
    pids = [int(line) for line in listed.read_text().split() if line.strip()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for pid in pids:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _reap(pid)
    listed.unlink()


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie that is not our child still answers kill(0): look at its state.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def start_cluster(engines: Engines, masters: int = 3) -> str:
    """`masters` cluster nodes, joined with ``redis-cli --cluster create``; the
    ``redis+cluster://`` URL of them all."""
    ports = free_ports(masters * 2)  # a client port and a cluster bus port for each
    ports, buses = ports[:masters], ports[masters:]
    for port, bus in zip(ports, buses, strict=True):
        engines.server(f"cluster-{port}", port, "--cluster-enabled", "yes",
                       "--cluster-port", str(bus),
                       "--cluster-config-file", f"nodes-{port}.conf",
                       "--cluster-node-timeout", "2000", "--appendonly", "yes")
    cli = cli_binary(engines.binary)
    assert cli, "redis-cli is needed to create the cluster"
    subprocess.run([cli, "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                    "--cluster-replicas", "0", "--cluster-yes"],
                   check=True, capture_output=True, timeout=START_TIMEOUT)
    client = redis.Redis(port=ports[0])
    deadline = time.monotonic() + START_TIMEOUT
    while client.cluster("info").get("cluster_state") != "ok":
        assert time.monotonic() < deadline, "the cluster never reached state ok"
        time.sleep(0.05)
    client.close()
    return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports) + "/0"


@dataclass(frozen=True)
class SentinelGroup:
    url: str
    primary_port: int
    replica_port: int
    sentinel_ports: list[int]
    primary_pid: int


def start_sentinels(engines: Engines, name: str = "sentinel") -> SentinelGroup:
    """A primary (AOF, fsync every second), its replica, and three Sentinels watching them
    (quorum 2, down after 1 s); the ``redis+sentinel://`` URL of the Sentinels."""
    primary, replica, *sentinels = free_ports(5)
    primary_pid = engines.server(f"{name}-primary-{primary}", primary,
                                 "--appendonly", "yes", "--appendfsync", "everysec")
    engines.server(f"{name}-replica-{replica}", replica, "--appendonly", "yes",
                   "--replicaof", "127.0.0.1", str(primary))
    for port in sentinels:
        engines.server(f"{name}-sentinel-{port}", port,
                       f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary} 2",
                       f"sentinel down-after-milliseconds {MASTER_NAME} 1000",
                       f"sentinel failover-timeout {MASTER_NAME} 10000",
                       f"sentinel parallel-syncs {MASTER_NAME} 1",
                       sentinel=True)
    # Ready when the replica has synced and every Sentinel knows the replica.
    deadline = time.monotonic() + START_TIMEOUT
    rep = redis.Redis(port=replica, decode_responses=True)
    while rep.info("replication").get("master_link_status") != "up":
        assert time.monotonic() < deadline, "the replica never synced"
        time.sleep(0.05)
    rep.close()
    for port in sentinels:
        s = redis.Redis(port=port, decode_responses=True)
        while not s.sentinel_slaves(MASTER_NAME):
            assert time.monotonic() < deadline, f"Sentinel {port} never saw the replica"
            time.sleep(0.05)
        s.close()
    url = ("redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in sentinels)
           + f"/{MASTER_NAME}/0")
    return SentinelGroup(url, primary, replica, sentinels, primary_pid)


# --- the plugin: once per run, shared by the xdist workers -----------------------------------


def _shared_dir(config: pytest.Config) -> Path:
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    root = base.parent if hasattr(config, "workerinput") else base
    return root / "redis-engines"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _shared(config: pytest.Config, kind: str) -> dict[str, object]:
    """The addresses of `kind` ("cluster" or "sentinel"), started by the first process that
    asks."""
    if os.environ.get("IVR_TEST_ENGINES", "1") == "0":
        pytest.skip("IVR_TEST_ENGINES=0")
    binary = server_binary()
    if binary is None:
        pytest.skip("no redis-server on PATH")
    folder = _shared_dir(config)
    with _locked(folder):
        known = folder / f"{kind}.json"
        if known.exists():
            found = json.loads(known.read_text())
            if "error" in found:
                pytest.fail(found["error"])
            return found
        engines = Engines(folder, binary)
        try:
            if kind == "cluster":
                found = {"url": start_cluster(engines)}
            else:
                group = start_sentinels(engines)
                found = {"url": group.url, "primary_port": group.primary_port}
        except (RuntimeError, AssertionError, subprocess.SubprocessError) as exc:
            known.write_text(json.dumps({"error": f"{kind} did not start: {exc}"}))
            raise
        known.write_text(json.dumps(found))
        return found


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controller (or the only process) stops every engine of the run."""
    if hasattr(config, "workerinput"):
        return
    with contextlib.suppress(AttributeError):
        stop_listed(_shared_dir(config))


@pytest.fixture(scope="session")
def cluster_url(pytestconfig: pytest.Config) -> str:
    """The ``redis+cluster://`` URL of the run's 3-master Redis Cluster."""
    return str(_shared(pytestconfig, "cluster")["url"])


@pytest.fixture(scope="session")
def sentinel_url(pytestconfig: pytest.Config) -> str:
    """The ``redis+sentinel://`` URL of the run's primary + replica behind 3 Sentinels."""
    return str(_shared(pytestconfig, "sentinel")["url"])
