"""Alembic helpers: the async `env.py` body every service shares, and programmatic upgrades."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def alembic_config(script_location: str, database_url: str) -> Config:
    """An Alembic config for `script_location` (e.g. `order_svc:migrations`) and a database URL."""
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    # ConfigParser interpolates `%`; URL-encoded passwords must survive it.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade_to_head(script_location: str, database_url: str) -> None:
    """Apply every migration of one service. Blocking: call it outside a running event loop."""
    command.upgrade(alembic_config(script_location, database_url), "head")


def run_env(target_metadata: MetaData, *, default_url: Callable[[], str]) -> None:
    """The body of a service's `env.py`: offline SQL or online async migrations.

    The URL set on the Alembic config wins; otherwise the service's settings give it.
    """
    url = context.config.get_main_option("sqlalchemy.url") or default_url()
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, target_metadata))


def _do_run(connection: Connection, target_metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str, target_metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_do_run, target_metadata)
    finally:
        await engine.dispose()
