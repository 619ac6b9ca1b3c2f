"""Alembic environment: the URL comes from the caller (``ivr db upgrade``, tests), never a file."""

from alembic import context
from sqlalchemy import create_engine, pool

# Every room's tables join Base.metadata when their module is imported.
import ivr.accounts.accounts  # noqa: F401
import ivr.accounts.sessions  # noqa: F401
import ivr.calls.models  # noqa: F401
import ivr.calls.repairs  # noqa: F401
import ivr.floor.models  # noqa: F401
import ivr.flows.records  # noqa: F401
import ivr.platform.outbox  # noqa: F401
import ivr.quality.models  # noqa: F401
import ivr.service_requests.models  # noqa: F401
import ivr.transfers.records  # noqa: F401
from ivr.platform.sql import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
