"""`ivr.db`: what the webhooks' SQL helpers promise."""

from __future__ import annotations

from sqlalchemy import text

from ivr.platform.db import reading


def test_reading_is_autocommit_on_postgresql_and_leaves_the_pool_as_it_was(services) -> None:  # type: ignore[no-untyped-def]
    engine = services.engine
    postgres = engine.dialect.name == "postgresql"
    with reading(engine) as conn:
        assert conn.scalar(text("SELECT 1")) == 1
        if postgres:
            assert conn.connection.dbapi_connection.autocommit is True
    with engine.connect() as conn:  # the next user of the pooled connection gets a transaction
        conn.scalar(text("SELECT 1"))
        if postgres:
            assert conn.connection.dbapi_connection.autocommit is False
