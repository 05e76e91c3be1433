"""Fixtures of the webhook tests: a fresh database with the tables, a receiver, cleanup."""

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from .support import Receiver, webhook_engine


@pytest_asyncio.fixture(loop_scope="session")
async def engine(new_database) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database holding the api_keys and webhook tables."""
    engine = await webhook_engine(new_database)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver on loopback answering 200."""
    receiver = await Receiver.started()
    yield receiver
    await receiver.close()
