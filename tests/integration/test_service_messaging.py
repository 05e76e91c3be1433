"""Each service runs its relay (in the API process or as a worker) and exports messaging metrics."""

import asyncio
import json
import os
import signal
import sys
import uuid
from datetime import UTC, datetime
from importlib import import_module

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from asgi_lifespan import LifespanManager
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from xborder_devstack.backends import free_port
from xborder_events import envelope_for
from xborder_events.orders import OrderConfirmed
from xborder_events.topics import ORDERS
from xborder_platform.messaging.outbox import OutboxRow, write_outbox
from xborder_platform.messaging.tables import outbox_table
from xborder_platform.settings import BaseServiceSettings
from xborder_platform.uow import UnitOfWorkFactory

pytestmark = pytest.mark.integration

SERVICES = ["order_svc", "payment_svc", "shipping_svc", "customs_svc"]


def confirmed(order_id: uuid.UUID) -> OrderConfirmed:
    return OrderConfirmed(
        order_id=order_id,
        confirmed_at=datetime.now(UTC),
        payment_id=uuid.uuid4(),
        shipping_quote_id=uuid.uuid4(),
    )


async def read_topic(bootstrap: str, topic: str, *, expected: int, timeout: float = 30) -> list:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list = []  # type: ignore[type-arg]
        async with asyncio.timeout(timeout):
            while len(records) < expected:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
        return records
    finally:
        await consumer.stop()


@pytest.mark.parametrize("module", SERVICES)
@pytest.mark.parametrize("worker", [False, True], ids=["api", "worker"])
async def test_the_service_relays_its_outbox_and_reports_it(
    module: str, worker: bool, service_database, kafka_bootstrap: str, kafka_namespace
) -> None:
    url = await service_database(module)
    prefix = await kafka_namespace()
    settings_cls: type[BaseServiceSettings] = import_module(f"{module}.config").Settings
    settings = settings_cls(
        database_url=url,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
        relay_poll_interval_s=0.1,
        embedded_worker=True,
    )
    app = import_module(f"{module}.bootstrap").create_app(settings, worker=worker)
    order_id = uuid.uuid4()
    async with LifespanManager(app) as manager:
        make_uow: UnitOfWorkFactory = app.state.unit_of_work
        async with make_uow(correlation_id="corr-1") as uow:
            envelope = uow.emit(confirmed(order_id))
            await uow.commit()
        records = await read_topic(kafka_bootstrap, f"{prefix}{ORDERS}", expected=1)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            metrics = (await client.get("/metrics")).text
            assert (await client.get("/healthz")).status_code == 200
            paths = (await client.get("/openapi.json")).json()["paths"]
    assert len(records) == 1
    body = json.loads(records[0].value)
    assert body["id"] == str(envelope.id)
    assert body["correlationid"] == "corr-1"
    assert body["source"] == f"xborder/{module.replace('_', '-')}"
    assert records[0].key == str(order_id).encode()
    service = module.replace("_", "-")
    assert f'xborder_outbox_published_total{{service="{service}"}} 1.0' in metrics
    for name in ("xborder_outbox_backlog", "xborder_outbox_oldest_unpublished_age_seconds"):
        assert name in metrics
    assert "/healthz" in paths


async def test_the_api_process_can_leave_relaying_to_a_worker(
    service_database, kafka_bootstrap: str, kafka_namespace
) -> None:
    url = await service_database("order_svc")
    prefix = await kafka_namespace()
    settings = import_module("order_svc.config").Settings(
        database_url=url,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
        embedded_worker=False,
    )
    app = import_module("order_svc.bootstrap").create_app(settings)
    async with LifespanManager(app):
        async with app.state.unit_of_work() as uow:
            uow.emit(confirmed(uuid.uuid4()))
            await uow.commit()
        await asyncio.sleep(1.5)
        async with app.state.engine.connect() as conn:
            from sqlalchemy import text

            pending = await conn.scalar(
                text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            )
    assert pending == 1

    # The worker command publishes it.
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "order_svc", "worker",
        env={**os.environ, "ORDER_DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
             "KAFKA_TOPIC_PREFIX": prefix, "ORDER_WORKER_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        records = await read_topic(kafka_bootstrap, f"{prefix}{ORDERS}", expected=1, timeout=60)
        assert len(records) == 1
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            scrape = (await client.get("/metrics")).text
            assert 'xborder_outbox_published_total{service="order-svc"} 1.0' in scrape
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    # uvicorn re-raises the signal it stopped on once shutdown is complete.
    assert proc.returncode in (0, -signal.SIGTERM), err.decode()[-2000:]
    assert "Application shutdown complete" in err.decode()
    assert '"published": 1, "event": "outbox relay stopped"' in err.decode()


def gauge(metrics: str, name: str, service: str) -> float:
    """The value of `name{service=...}` in a Prometheus scrape."""
    prefix = f'{name}{{service="{service}"}} '
    lines = metrics.splitlines()
    values = [float(line[len(prefix) :]) for line in lines if line.startswith(prefix)]
    assert len(values) == 1, (name, metrics)
    return values[0]


@pytest.mark.parametrize("module", SERVICES)
async def test_the_backlog_and_its_age_are_reported_while_the_broker_is_away(
    module: str, service_database
) -> None:
    """What the outage alert reads: rows waiting and the age of the oldest, not a frozen 0."""
    url = await service_database(module)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            envelope = envelope_for(confirmed(uuid.uuid4()), source="xborder/test")
            await write_outbox(conn, outbox_table(MetaData()), [
                OutboxRow.from_envelope(envelope, topic=ORDERS)
            ])  # fmt: skip
            await conn.execute(text("UPDATE outbox SET created_at = now() - interval '2 minutes'"))
    finally:
        await engine.dispose()
    settings_cls: type[BaseServiceSettings] = import_module(f"{module}.config").Settings
    settings = settings_cls(
        database_url=url,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",  # nobody there
        relay_poll_interval_s=0.1,
        relay_backoff_max_s=0.5,
        readiness_timeout_s=0.5,
        embedded_worker=True,
    )
    app = import_module(f"{module}.bootstrap").create_app(settings)
    service = module.replace("_", "-")
    async with LifespanManager(app) as manager:
        async with app.state.unit_of_work() as uow:
            uow.emit(confirmed(uuid.uuid4()))
            await uow.commit()
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            async with asyncio.timeout(30):  # the gauges refresh every 5 s
                while True:
                    metrics = (await client.get("/metrics")).text
                    if gauge(metrics, "xborder_outbox_backlog", service) == 2:
                        break
                    await asyncio.sleep(0.5)
    age = gauge(metrics, "xborder_outbox_oldest_unpublished_age_seconds", service)
    assert 120 <= age < 300
    assert gauge(metrics, "xborder_outbox_published_total", service) == 0
