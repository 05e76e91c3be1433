"""payment-svc's migrations go down to nothing and up again."""

import asyncio
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from xborder_platform.migrations import alembic_config

pytestmark = pytest.mark.integration


async def test_the_migrations_go_down_and_up_again(new_database: Any) -> None:
    url = await new_database()
    cfg = alembic_config("payment_svc:migrations", url)
    await asyncio.to_thread(command.upgrade, cfg, "head")
    await asyncio.to_thread(command.downgrade, cfg, "base")
    await asyncio.to_thread(command.upgrade, cfg, "head")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            guards = await conn.scalar(
                text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ledger_entries_%'")
            )
    finally:
        await engine.dispose()
    assert version == "0003"
    assert guards == 3
