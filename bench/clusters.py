"""A Redis Cluster for the Redis benches, measured beside the single server in the same run.

``--cluster HOST:PORT,HOST:PORT`` names the nodes of a running cluster; ``--cluster start``
starts a 3-master one here, from Debian's redis-server on free loopback ports, as the tests
start theirs (`tests.redis_engines`), and stops it at the end.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from redis.cluster import RedisCluster

from ivr.platform.redisconn import client


@contextlib.contextmanager
def cluster(spec: str | None) -> Iterator[Any]:
    """A client of the cluster `spec` names (None: no cluster, yields None)."""
    if not spec:
        yield None
        return
    if spec != "start":
        c = client(f"redis+cluster://{spec}/0", decode_responses=True, socket_timeout=10)
        try:
            yield c
        finally:
            c.close()
        return
    from tests.redis_engines import Engines, server_binary, start_cluster

    binary = server_binary()
    if binary is None:
        raise SystemExit("--cluster start needs redis-server on PATH")
    with tempfile.TemporaryDirectory() as folder:
        engines = Engines(Path(folder), binary)
        try:
            c = client(start_cluster(engines), decode_responses=True, socket_timeout=10)
            try:
                yield c
            finally:
                c.close()
        finally:
            engines.stop()


def infos(c: Any, section: str) -> list[dict[str, Any]]:
    """INFO `section` of each primary (one for a single server)."""
    if isinstance(c, RedisCluster):
        return list(c.info(section, target_nodes=RedisCluster.PRIMARIES).values())
    return [c.info(section)]


def describe(c: Any) -> str:
    version = infos(c, "server")[0]["redis_version"]
    if isinstance(c, RedisCluster):
        nodes = ",".join(n.name for n in c.get_primaries())
        return f"cluster (Redis {version}, {len(c.get_primaries())} masters: {nodes})"
    return f"Redis {version}"


def ping(c: Any) -> bool:
    """One round trip to one node (a cluster's PING goes to every node by default)."""
    if isinstance(c, RedisCluster):
        return bool(c.ping(target_nodes=RedisCluster.RANDOM))
    return bool(c.ping())
