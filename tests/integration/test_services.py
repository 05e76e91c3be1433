"""Each service skeleton against real PostgreSQL and the broker: health, readiness, migrations."""

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from importlib import import_module

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from xborder_devstack.backends import free_port
from xborder_platform.http.auth import issue_api_key
from xborder_platform.migrations import alembic_config
from xborder_platform.settings import BaseServiceSettings

pytestmark = pytest.mark.integration

SERVICES = {"order_svc": 8001, "payment_svc": 8002, "shipping_svc": 8003, "customs_svc": 8004}


def settings_for(module: str, **values: object) -> BaseServiceSettings:
    settings_cls: type[BaseServiceSettings] = import_module(f"{module}.config").Settings
    return settings_cls(**values)


async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client


def create_app(module: str, settings: BaseServiceSettings) -> FastAPI:
    app: FastAPI = import_module(f"{module}.bootstrap").create_app(settings)
    return app


@pytest.mark.parametrize("module", SERVICES)
def test_default_ports(module: str) -> None:
    assert settings_for(module).port == SERVICES[module]


@pytest.mark.parametrize("module", SERVICES)
async def test_ready_with_its_database_and_the_broker(
    module: str, service_database, kafka_bootstrap: str
) -> None:
    url = await service_database(module)
    settings = settings_for(module, database_url=url, kafka_bootstrap_servers=kafka_bootstrap)
    async for client in client_for(create_app(module, settings)):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "database": {"ok": True, "reason": None},
            "broker": {"ok": True, "reason": None},
        }
        openapi = (await client.get("/openapi.json")).json()
        assert "/readyz" in openapi["paths"]


@pytest.mark.parametrize("module", SERVICES)
async def test_wrong_database_password_is_not_ready_with_the_reason(
    module: str, service_database, pg_server, kafka_bootstrap: str
) -> None:
    url = await service_database(module)
    wrong = url.replace(f":{pg_server.password}@", ":not-the-password@")
    assert wrong != url
    settings = settings_for(module, database_url=wrong, kafka_bootstrap_servers=kafka_bootstrap)
    async for client in client_for(create_app(module, settings)):
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "not ready"
        assert body["checks"]["broker"]["ok"] is True
        assert body["checks"]["database"]["ok"] is False
        assert "password authentication failed" in body["checks"]["database"]["reason"]


@pytest.mark.parametrize("module", SERVICES)
async def test_unreachable_broker_is_not_ready_with_the_reason(
    module: str, service_database
) -> None:
    url = await service_database(module)
    nobody = f"127.0.0.1:{free_port()}"
    settings = settings_for(
        module, database_url=url, kafka_bootstrap_servers=nobody, readiness_timeout_s=1.0
    )
    async for client in client_for(create_app(module, settings)):
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["database"] == {"ok": True, "reason": None}
        assert checks["broker"]["ok"] is False
        assert checks["broker"]["reason"].startswith(f"BrokerUnavailable: broker {nobody} ")
        assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize("module", SERVICES)
async def test_migrations_go_down_and_up_again(module: str, new_database) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    url = await new_database()
    cfg = alembic_config(f"{module}:migrations", url)
    await asyncio.to_thread(command.upgrade, cfg, "head")
    await asyncio.to_thread(command.downgrade, cfg, "base")
    await asyncio.to_thread(command.upgrade, cfg, "head")
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.execute(
                text(
                    "SELECT to_regclass('outbox')::text, to_regclass('inbox')::text, "
                    "to_regclass('idempotency_keys')::text, to_regclass('api_keys')::text"
                )
            )
            assert tables.one() == ("outbox", "inbox", "idempotency_keys", "api_keys")
            version = await conn.execute(text("SELECT version_num FROM alembic_version"))
            head = ScriptDirectory.from_config(cfg).get_current_head()
            assert version.scalar_one() == head
    finally:
        await engine.dispose()


@pytest.mark.parametrize("module", SERVICES)
async def test_the_http_kit_is_wired_in(
    module: str, service_database, kafka_bootstrap: str
) -> None:
    url = await service_database(module)
    settings = settings_for(
        module, database_url=url, kafka_bootstrap_servers=kafka_bootstrap, max_body_bytes=32
    )
    app = create_app(module, settings)
    async for client in client_for(app):
        missing = await client.get("/no-such-route")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        too_large = await client.post("/no-such-route", content=b"x" * 33)
        assert too_large.status_code == 413
        assert too_large.json()["max_body_bytes"] == 32
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        service = import_module(f"{module}.config").SERVICE_NAME
        assert (
            f'http_requests_total{{method="GET",route="unmatched",service="{service}",'
            f'status="404"}} 1.0' in metrics.text
        )
        async with app.state.engine.begin() as conn:
            key, record = await issue_api_key(conn, role="storefront", merchant_id="m-1")
        principal = await app.state.api_keys.authenticate(key)
        assert principal is not None
        assert principal.key_id == record.id


@pytest.mark.parametrize("module", SERVICES)
async def test_migrations_match_the_http_tables_declared(module: str, service_database) -> None:
    metadata = import_module(f"{module}.adapters.tables").metadata
    engine = create_async_engine(await service_database(module))

    def differences(conn: Connection) -> list[object]:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        return [d for d in diffs if re.search(r"[<'](idempotency_keys|api_keys)[>']", repr(d))]

    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_a_service_started_with_a_wrong_database_password_stays_up_and_says_why(
    service_database, pg_server, kafka_bootstrap: str
) -> None:
    """The real entrypoint, as an operator runs it: alive, not ready with the reason, logged."""
    url = await service_database("order_svc")
    wrong = url.replace(f":{pg_server.password}@", ":not-the-password@")
    assert wrong != url
    port = free_port()
    env = {
        **os.environ,
        "ORDER_DATABASE_URL": wrong,
        "ORDER_PORT": str(port),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "order_svc", "api",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    lines: list[str] = []

    async def collect() -> None:
        assert proc.stderr is not None
        async for line in proc.stderr:
            lines.append(line.decode(errors="replace"))

    reader = asyncio.create_task(collect())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            async with asyncio.timeout(60):
                while True:
                    assert proc.returncode is None, "".join(lines)[-3000:]
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)
            await asyncio.sleep(3)  # long enough for a crash-loop to show
            assert proc.returncode is None, "".join(lines)[-3000:]
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            database = ready.json()["checks"]["database"]
            assert database["ok"] is False
            assert "password authentication failed" in database["reason"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=30)
        await asyncio.wait_for(reader, timeout=10)
    started = [json.loads(line) for line in lines if "service started" in line]
    assert len(started) == 1, "".join(lines)[-3000:]  # started once: no restart behind our back
    assert started[0]["event"] == "service started but is not ready"
    assert "password authentication failed" in started[0]["failed_checks"]["database"]
