"""customs-svc's migrations create exactly the tables its code declares, and go down again."""

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from customs_svc.adapters.tables import metadata
from xborder_platform.migrations import alembic_config

pytestmark = pytest.mark.integration


async def test_migrations_match_the_tables_and_go_down_and_up(new_database):
    url = await new_database()
    cfg = alembic_config("customs_svc:migrations", url)
    await asyncio.to_thread(command.upgrade, cfg, "head")
    await asyncio.to_thread(command.downgrade, cfg, "0002")
    await asyncio.to_thread(command.upgrade, cfg, "head")
    engine = create_async_engine(url)

    def differences(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            assert version == "0003"
    finally:
        await engine.dispose()
