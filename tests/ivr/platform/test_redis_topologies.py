"""The app's client on a real Redis Cluster and a real Sentinel group (tests/redis_engines.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster
from rq import SimpleWorker

from ivr.platform.config import ConfigError, load_settings
from ivr.platform.jobs import queue, rq_connection, rq_url
from ivr.platform.redisconn import client, connect
from tests.conftest import PUBLIC_URL, TEST_ACCOUNT, TEST_TOKEN


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


def _settings(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return load_settings(
        path=Path(__file__).parents[3] / "config.yaml",
        overrides={"center": "topo", "public_url": PUBLIC_URL, "data_dir": str(tmp_path),
                   "twilio": {"account_sid": TEST_ACCOUNT}},
        env={"TWILIO_AUTH_TOKEN": TEST_TOKEN, "IVR_SECRET_KEY": "s", **env})


def test_rq_runs_its_jobs_behind_the_sentinels(sentinel_url: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path, IVR_REDIS_URL=sentinel_url)
    conn = rq_connection(settings)
    q = queue(settings, "ivr-topology-" + uuid.uuid4().hex[:8], conn)
    job = q.enqueue("builtins.len", "abcd")
    SimpleWorker([q], connection=conn).work(burst=True)
    assert job.return_value() == 4
    q.delete(delete_jobs=True)
    conn.close()


def test_rq_is_refused_a_cluster_and_takes_its_own_redis(cluster_url: str,
                                                         tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="IVR_RQ_REDIS_URL"):
        _settings(tmp_path, IVR_REDIS_URL=cluster_url)
    with pytest.raises(ConfigError, match="RQ does not run on a Redis Cluster"):
        _settings(tmp_path, IVR_REDIS_URL="redis://127.0.0.1:1/0", IVR_RQ_REDIS_URL=cluster_url)
    settings = _settings(tmp_path, IVR_REDIS_URL=cluster_url,
                         IVR_RQ_REDIS_URL="redis://127.0.0.1:6379/9")
    assert rq_url(settings) == "redis://127.0.0.1:6379/9"
    assert isinstance(connect(settings.redis_url, settings.data_dir), RedisCluster)
