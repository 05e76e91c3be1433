"""Fixtures of customs-svc's tests: a clock to move, events to build, a running service."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from customs_svc.bootstrap import create_app
from customs_svc.config import Settings
from xborder_devstack.backends import PostgresBackend
from xborder_devstack.broker import create_topics
from xborder_devstack.pytest_plugin import admin_connect
from xborder_events import Event, decode, encode, envelope_for, kafka_headers, kafka_key
from xborder_events.orders import OrderPlaced
from xborder_events.testing import sample
from xborder_events.topics import ALL_TOPICS, CUSTOMS
from xborder_platform.http.auth import issue_api_key
from xborder_platform.migrations import upgrade_to_head

MERCHANT = "m-1"
#: Forced sandbox behaviour of the shared service: GB and BR always hold (and never reject
#: documents), US decisions take ~365 s (they come from the webhook), the rest clear.
SANDBOX_RATES = {
    "*": {"hold_rate": 0, "confiscation_rate": 0},
    "GB": {"hold_rate": 1, "return_rate": 0, "respond_days": 10_000},
    "BR": {"hold_rate": 1, "return_rate": 0, "respond_days": 10_000},
    "US": {"decision_days": 36_500},
}
SECONDS_PER_DAY = 0.01


class ShiftedClock:
    """The wall clock plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def placed(
    destination: str,
    currency: str,
    *,
    items: list[tuple[str, str, int, int]],
    shipping: str = "5.00",
    incoterm: str = "DAP",
    duties: str | None = None,
    quote_id: uuid.UUID | None = None,
    buyer_tax_id: str | None = None,
    placed_at: datetime | None = None,
) -> OrderPlaced:
    """An OrderPlaced to `destination`; items are (hs code, unit price, quantity, grams)."""
    lines = [
        {"sku": f"SKU-{n}", "description": "goods", "hs_code": hs, "origin_country": "CN",
         "quantity": qty, "unit_price": {"amount": price, "currency": currency},
         "weight_grams": grams}
        for n, (hs, price, qty, grams) in enumerate(items)
    ]  # fmt: skip
    goods = sum((Decimal(p) * q for _, p, q, _ in items), Decimal(0))
    total = goods + Decimal(shipping) + Decimal(duties or 0)

    def money(amount: Decimal | str) -> dict[str, Any]:
        return {"amount": str(amount), "currency": currency}

    return sample(
        OrderPlaced,
        order_id=uuid.uuid4(), merchant_id=MERCHANT, placed_at=placed_at or datetime.now(UTC),
        buyer_country=destination, ship_to_country=destination,
        ship_to={"name": "A Buyer", "line1": "1 Street", "city": "City", "country": destination},
        currency=currency, incoterm=incoterm, items=lines,
        totals={"items": money(goods), "shipping": money(shipping),
                "duties_and_taxes": money(duties) if duties is not None else None,
                "grand_total": money(total)},
        landed_cost_quote_id=quote_id, buyer_tax_id=buyer_tax_id,
    )  # fmt: skip


class Running:
    """The running service: HTTP client, topics, and every customs event seen so far."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, key: str, prefix: str,
                 bootstrap: str, settings: Settings) -> None:  # fmt: skip
        self.app, self.client, self.prefix, self.bootstrap = app, client, prefix, bootstrap
        self.settings = settings
        self.headers = {"X-API-Key": key}
        self.seen: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self._changed = asyncio.Condition()

    async def produce(self, topic: str, *events: Event) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            for event in events:
                envelope = envelope_for(event, source="xborder/test")
                await producer.send_and_wait(
                    self.prefix + topic, value=encode(envelope), key=kafka_key(envelope),
                    headers=kafka_headers(envelope),
                )  # fmt: skip
        finally:
            await producer.stop()

    async def collect(self) -> None:
        """Read the customs topic for the whole module."""
        topic = self.prefix + CUSTOMS
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                    fetch_max_wait_ms=10)  # fmt: skip
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while True:
                for batch in (await consumer.getmany(timeout_ms=100)).values():
                    for record in batch:
                        decoded = decode(record.value)
                        name = decoded.envelope.type.split(".")[1]
                        data = decoded.event.model_dump(mode="json")
                        self.seen[decoded.envelope.subject].append((name, data))
                async with self._changed:
                    self._changed.notify_all()
        finally:
            await asyncio.wait_for(consumer.stop(), timeout=10)

    def names(self, order_id: uuid.UUID) -> list[str]:
        return [name for name, _ in self.seen.get(str(order_id), [])]

    async def wait_for(self, order_id: uuid.UUID, name: str, *, timeout: float = 30.0
                       ) -> dict[str, Any]:  # fmt: skip
        """The first `name` event about the order, waiting for it."""
        async with asyncio.timeout(timeout):
            while True:
                for seen, data in self.seen.get(str(order_id), []):
                    if seen == name:
                        return data
                async with self._changed:
                    await self._changed.wait()

    async def declaration(self, order_id: uuid.UUID, checkpoint: str) -> dict[str, Any]:
        listed = await self.client.get("/v1/declarations", params={"order_id": str(order_id)},
                                       headers=self.headers)  # fmt: skip
        assert listed.status_code == 200, listed.text
        found = [d for d in listed.json()["items"] if d["checkpoint"] == checkpoint]
        assert len(found) == 1, listed.json()
        answer = await self.client.get(f"/v1/declarations/{found[0]['declaration_id']}",
                                       headers=self.headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture(scope="module")
def make_settings() -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "consumer_fetch_max_wait_ms": 10, "consumer_session_timeout_ms": 6000,
            "consumer_heartbeat_interval_ms": 1000, "relay_poll_interval_s": 0.05,
            "timer_interval_s": 0.05, "sandbox_seconds_per_day": SECONDS_PER_DAY,
            "sandbox_rates": SANDBOX_RATES, **overrides,
        }  # fmt: skip
        return Settings(**values)

    return make


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def module_database(pg_server: PostgresBackend) -> AsyncIterator[str]:
    """A migrated database for the whole module (the plugin's are per test)."""
    name = f"t_customs_{uuid.uuid4().hex[:12]}"
    conn = await admin_connect(pg_server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" OWNER "{pg_server.user}"')
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade_to_head, "customs_svc:migrations", pg_server.url(name))
    yield pg_server.url(name)
    conn = await admin_connect(pg_server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def module_namespace(kafka_bootstrap: str) -> str:
    """Every xborder topic under a prefix of the module's own."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_topics(kafka_bootstrap, [f"{prefix}{t}" for t in ALL_TOPICS], partitions=3)
    return prefix


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def running(
    module_database: str, kafka_bootstrap: str, module_namespace: str,
    make_settings: Callable[..., Settings],
) -> AsyncIterator[Running]:  # fmt: skip
    """One running service per module: a consumer group join costs seconds."""
    prefix = module_namespace
    settings = make_settings(
        database_url=module_database,
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        async with app.state.engine.begin() as conn:
            key, _ = await issue_api_key(conn, role="storefront", merchant_id=MERCHANT)
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            run = Running(app, client, key, prefix, kafka_bootstrap, settings)
            collector = asyncio.create_task(run.collect())
            try:
                yield run
            finally:
                collector.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await collector


@pytest.fixture
def make_order() -> Callable[..., OrderPlaced]:
    """`make_order(destination, currency, items=[...], ...)`: see `placed`."""
    return placed


@pytest.fixture
def shifted_clock() -> ShiftedClock:
    """A clock the test moves ahead of the wall clock."""
    return ShiftedClock()
