"""The app's client on a real Redis Cluster and a real Sentinel group (tests/redis_engines.py)."""

from __future__ import annotations

import pytest
import redis
from redis.cluster import RedisCluster

from ivr.platform.redisconn import client


def test_sentinel_url_reaches_the_primary(sentinel_url: str) -> None:
    c = client(sentinel_url, decode_responses=True)
    c.set("topology:probe", "1")
    assert c.get("topology:probe") == "1"
    assert c.info("replication")["role"] == "master"
    c.delete("topology:probe")
    c.close()


def test_cluster_url_reaches_every_master(cluster_url: str) -> None:
    c = client(cluster_url, decode_responses=True)
    assert isinstance(c, RedisCluster)
    assert len(c.get_primaries()) == 3
    c.close()


@pytest.mark.parametrize("url", ["redis+sentinel://h:1/", "redis+sentinel://h:1/m/x",
                                 "redis+sentinel://h/m", "redis+cluster://h:1/3"])
def test_malformed_addresses_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        client(url)


def test_plain_urls_are_unchanged() -> None:
    assert isinstance(client("redis://127.0.0.1:1/0"), redis.Redis)
