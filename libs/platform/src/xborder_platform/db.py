"""Database kit: the engine and session factories and a readiness probe."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(
    url: str, *, pool_size: int = 10, application_name: str = "xborder"
) -> AsyncEngine:
    """Create the service's async engine (asyncpg) with a bounded pool and a connect timeout."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"timeout": 5, "server_settings": {"application_name": application_name}},
    )


async def check_database(engine: AsyncEngine, *, timeout: float) -> None:
    """Run `SELECT 1`; raise with the driver's own reason when the database is not usable."""
    async with asyncio.timeout(timeout), engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """ORM sessions for the paths where the ORM is fine (not intake, consumers or the relay)."""
    return async_sessionmaker(engine, expire_on_commit=False)
