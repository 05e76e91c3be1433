"""Fixtures of the HTTP kit's tests: an in-process HTTP client, a database with the tables."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from xborder_platform.http.tables import api_keys_table, idempotency_table

ClientFor = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_for() -> ClientFor:
    """Factory: `async with client_for(app) as client` talks to `app` over ASGI, in process."""

    @asynccontextmanager
    async def make(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client

    return make


@pytest_asyncio.fixture(loop_scope="session")
async def http_engine(new_database) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh PostgreSQL database holding the HTTP kit's tables."""
    metadata = MetaData()
    idempotency_table(metadata)
    api_keys_table(metadata)
    engine = create_async_engine(await new_database())
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()
