"""pytest fixtures: session-wide PostgreSQL and broker, a fresh database or topic per test."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from importlib import import_module
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from xborder_devstack.backends import (
    TEST_PASSWORD,
    TEST_ROLE,
    BrokerBackend,
    PostgresBackend,
    TestBackendSettings,
    choose,
    start_broker,
    start_postgres,
)
from xborder_devstack.broker import create_topics
from xborder_events.topics import ALL_TOPICS
from xborder_platform.migrations import upgrade_to_head

_used: dict[str, str] = {}


def pytest_report_header(config: pytest.Config) -> str:
    """Say up front which servers the integration tests will use."""
    return f"xborder test servers: {choose(TestBackendSettings())}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say at the end which real servers the integration tests ran against."""
    for what, where in _used.items():
        terminalreporter.write_line(f"xborder integration tests used {what}: {where}")


async def admin_connect(pg: PostgresBackend, database: str | None = None) -> asyncpg.Connection:
    """A superuser connection to the test server."""
    kwargs = dict(pg.admin_kwargs)
    if database is not None:
        kwargs["database"] = database
    return await asyncpg.connect(**kwargs)


@pytest.fixture(scope="session")
def servers_dir() -> Iterator[Path]:
    """Where the session's servers keep their data and sockets.

    Not under pytest's own temporary directory: pytest deletes the oldest of those when a new
    session starts, which would pull the data directory from under a server that another
    session on the same machine is still using.
    """
    path = Path(tempfile.mkdtemp(prefix="xborder-test-servers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(servers_dir: Path) -> Iterator[PostgresBackend]:
    """The session's PostgreSQL server (see `xborder_devstack.backends`)."""
    settings = TestBackendSettings()
    pg = start_postgres(choose(settings), settings, servers_dir / "postgres-server")
    if pg.kind == "embedded":
        asyncio.run(_create_test_role(pg))
    _used["PostgreSQL"] = f"{pg.kind} at {pg.host}:{pg.port}"
    yield pg
    pg.stop()


async def _create_test_role(pg: PostgresBackend) -> None:
    conn = await admin_connect(pg)
    try:
        await conn.execute(f"CREATE ROLE {TEST_ROLE} LOGIN CREATEDB PASSWORD '{TEST_PASSWORD}'")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def kafka_server(servers_dir: Path) -> Iterator[BrokerBackend]:
    """The session's Kafka-protocol broker."""
    settings = TestBackendSettings()
    broker = start_broker(choose(settings), settings, servers_dir / "broker-server")
    _used["Kafka-protocol broker"] = f"{broker.kind} at {broker.bootstrap_servers}"
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_server: BrokerBackend) -> str:
    """Bootstrap servers of the session's broker."""
    return kafka_server.bootstrap_servers


NewDatabase = Callable[..., Awaitable[str]]


@pytest_asyncio.fixture(loop_scope="session")
async def new_database(pg_server: PostgresBackend) -> AsyncIterator[NewDatabase]:
    """Factory: `await new_database(template=None)` gives the URL of a fresh database.

    Every database it made is dropped when the test ends.
    """
    made: list[str] = []

    async def make(template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        conn = await admin_connect(pg_server)
        try:
            tmpl = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(f'CREATE DATABASE "{name}" OWNER "{pg_server.user}"{tmpl}')
        finally:
            await conn.close()
        made.append(name)
        return pg_server.url(name)

    yield make
    await _drop_databases(pg_server, made)


async def _drop_databases(pg: PostgresBackend, names: list[str]) -> None:
    """Drop the test's databases; a connection lost on the way is retried on a new one."""
    for name in names:
        for attempt in range(3):
            try:
                conn = await admin_connect(pg)
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                finally:
                    await conn.close()
                break
            except (asyncpg.ConnectionDoesNotExistError, ConnectionError, OSError) as exc:
                if attempt == 2:
                    warnings.warn(f"could not drop test database {name}: {exc}", stacklevel=1)
                await asyncio.sleep(0.5)


_templates: dict[str, str] = {}
_template_lock = asyncio.Lock()


@pytest_asyncio.fixture(loop_scope="session")
async def service_database(pg_server: PostgresBackend, new_database: NewDatabase) -> NewDatabase:
    """Factory: `await service_database("order_svc")` gives a fresh, fully migrated database.

    Migrations run once per service and session into a template; each test gets a copy.
    """

    async def make(service_module: str) -> str:
        async with _template_lock:
            if service_module not in _templates:
                _templates[service_module] = await _build_template(pg_server, service_module)
        return await new_database(template=_templates[service_module])

    return make


async def _build_template(pg: PostgresBackend, service_module: str) -> str:
    name = f"tmpl_{service_module}_{uuid.uuid4().hex[:8]}"
    conn = await admin_connect(pg)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" OWNER "{pg.user}"')
    finally:
        await conn.close()
    migrations = f"{import_module(service_module).__name__}:migrations"
    await asyncio.to_thread(upgrade_to_head, migrations, pg.url(name))
    return name


@pytest_asyncio.fixture(loop_scope="session")
async def kafka_topics(kafka_bootstrap: str) -> Callable[..., Awaitable[list[str]]]:
    """Factory: `await kafka_topics(n, partitions=3)` creates `n` uniquely named topics."""

    async def make(count: int = 1, *, partitions: int = 3) -> list[str]:
        names = [f"test.{uuid.uuid4().hex[:12]}" for _ in range(count)]
        await create_topics(kafka_bootstrap, names, partitions=partitions)
        return names

    return make


@pytest_asyncio.fixture(loop_scope="session")
async def kafka_namespace(kafka_bootstrap: str) -> Callable[..., Awaitable[str]]:
    """Factory: `prefix = await kafka_namespace()` creates every xborder topic under a new prefix.

    Give the prefix to services as `kafka_topic_prefix` (KAFKA_TOPIC_PREFIX): their events and
    consumer groups then stay apart from every other test's on the shared broker.
    """

    async def make(*, partitions: int = 3) -> str:
        prefix = f"t{uuid.uuid4().hex[:10]}."
        await create_topics(
            kafka_bootstrap, [f"{prefix}{t}" for t in ALL_TOPICS], partitions=partitions
        )
        return prefix

    return make
