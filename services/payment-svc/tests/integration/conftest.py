"""One running payment-svc per test module, on a fresh database and topic namespace, with a
recorder of what it publishes and helpers to feed it events."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from payment_svc.bootstrap import create_app
from payment_svc.config import Settings
from xborder_devstack.broker import create_topics
from xborder_devstack.pytest_plugin import admin_connect
from xborder_events import (
    Event,
    decode,
    encode,
    envelope_for,
    kafka_headers,
    kafka_key,
    topic_for,
)
from xborder_events.envelope import Envelope
from xborder_events.orders import OrderPlaced
from xborder_events.testing import sample
from xborder_events.topics import ALL_TOPICS, PAYMENTS
from xborder_platform.http.auth import issue_api_key
from xborder_platform.migrations import upgrade_to_head

MIGRATIONS = "payment_svc:migrations"

MERCHANT = "merchant-shenzhen-001"  # settled in CNY (see data/merchants.toml)


@dataclass
class Recorder:
    """Reads payment-svc's topic from the beginning and indexes the events by order."""

    bootstrap: str
    topic: str
    by_order: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))
    _task: asyncio.Task[None] | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
        )
        await consumer.start()
        partitions: set[int] = set()
        while not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(self.topic) or set()
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._run(consumer))

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=100)
                if not batch:
                    continue
                async with self._changed:
                    for records in batch.values():
                        for record in records:
                            decoded = decode(record.value)
                            self.by_order[decoded.envelope.subject].append(decoded.event)
                    self._changed.notify_all()
        finally:
            await asyncio.wait_for(consumer.stop(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def names(self, order_id: uuid.UUID) -> list[str]:
        return [type(e).__name__ for e in self.by_order.get(str(order_id), [])]

    def of(self, order_id: uuid.UUID, cls: type[Any]) -> list[Any]:
        return [e for e in self.by_order.get(str(order_id), []) if isinstance(e, cls)]

    async def wait_for(
        self, order_id: uuid.UUID, *names: str, count: int = 1, timeout: float = 20.0
    ) -> list[str]:
        """Wait until `count` events named in `names` were seen for the order."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                seen = self.names(order_id)
                if sum(n in names for n in seen) >= count:
                    return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"order {order_id}: no {names} in {timeout}s; saw {seen}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.5))

    async def settle(self, seconds: float = 0.5) -> None:
        """Give late (unexpected) events a chance to arrive before asserting their absence."""
        await asyncio.sleep(seconds)


@dataclass
class Running:
    """A running payment-svc and what tests need to drive it."""

    app: FastAPI
    client: httpx.AsyncClient
    recorder: Recorder
    bootstrap: str
    prefix: str
    settings: Settings
    operator: dict[str, str]
    storefront: dict[str, str]
    producer: AIOKafkaProducer

    async def publish(self, *events: Event) -> list[Envelope]:
        """Produce events the way other services' relays do."""
        envelopes = [envelope_for(e, source="xborder/test") for e in events]
        await self.send(*envelopes)
        return envelopes

    async def send(self, *envelopes: Envelope) -> None:
        futures = [
            await self.producer.send(
                f"{self.prefix}{topic_for(e.type)}",
                key=kafka_key(e),
                value=encode(e),
                headers=kafka_headers(e),
            )
            for e in envelopes
        ]
        await asyncio.gather(*futures)

    async def payment_of(self, order_id: uuid.UUID) -> dict[str, Any]:
        response = await self.client.get(
            "/v1/payments", params={"order_id": str(order_id)}, headers=self.operator
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert len(items) == 1, items
        return dict(items[0])


def order_placed(
    *,
    method: str = "card",
    token: str = "tok_visa",
    provider: str | None = None,
    merchant: str = MERCHANT,
    **overrides: Any,
) -> OrderPlaced:
    """A sample OrderPlaced for a new order (USD 36.00: goods 25.00, shipping 7.90, DDP duties
    3.10), paid by `method` with `token`."""
    providers = {"paypal": "paypal", "alipay": "alipay", "bank_wire": "bank"}
    return sample(
        OrderPlaced,
        order_id=uuid.uuid4(),
        merchant_id=merchant,
        placed_at=datetime.now(UTC),
        payment={
            "method": method,
            "provider": provider or providers.get(method, "adyen"),
            "provider_token": token,
        },
        **overrides,
    )


@pytest.fixture(scope="session")
def placed() -> Callable[..., OrderPlaced]:
    """Factory of OrderPlaced events for new orders (see `order_placed`)."""
    return order_placed


def settings_for(url: str, bootstrap: str, prefix: str, **values: Any) -> Settings:
    """Settings of a payment-svc under test: fast consumers, fast sandbox."""
    base: dict[str, Any] = {
        "database_url": url,
        "kafka_bootstrap_servers": bootstrap,
        "kafka_topic_prefix": prefix,
        "consumer_fetch_max_wait_ms": 10,
        "consumer_session_timeout_ms": 6000,
        "consumer_heartbeat_interval_ms": 1000,
        "relay_poll_interval_s": 0.05,
        "sandbox_approval_delay_s": 0.05,
        "sandbox_poll_interval_s": 0.05,
        "expiry_check_interval_s": 0.2,
        "consumer_retry_backoff_s": 0.05,
        "log_level": "WARNING",
    }
    return Settings(**{**base, **values})


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def payment_db(pg_server: Any) -> AsyncIterator[str]:
    """A fresh database with payment-svc's migrations, for one module."""
    name = f"t_payment_{uuid.uuid4().hex[:12]}"
    conn = await admin_connect(pg_server)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" OWNER "{pg_server.user}"')
    finally:
        await conn.close()
    url: str = pg_server.url(name)
    await asyncio.to_thread(upgrade_to_head, MIGRATIONS, url)
    yield url
    conn = await admin_connect(pg_server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def service(
    payment_db: str, kafka_bootstrap: str, request: pytest.FixtureRequest
) -> AsyncIterator[Running]:
    """A running payment-svc for the module (settings overridable with a module-level
    `SETTINGS` dict), with an operator key and a storefront key of MERCHANT."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_topics(kafka_bootstrap, [f"{prefix}{t}" for t in ALL_TOPICS], partitions=3)
    settings = settings_for(
        payment_db, kafka_bootstrap, prefix, **getattr(request.module, "SETTINGS", {})
    )
    app = create_app(settings)
    recorder = Recorder(kafka_bootstrap, f"{prefix}{PAYMENTS}")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with LifespanManager(app) as manager:
            async with app.state.engine.begin() as conn:
                operator, _ = await issue_api_key(conn, role="operator")
                storefront, _ = await issue_api_key(conn, role="storefront", merchant_id=MERCHANT)
            await recorder.start()
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
                yield Running(
                    app=app,
                    client=client,
                    recorder=recorder,
                    bootstrap=kafka_bootstrap,
                    prefix=prefix,
                    settings=settings,
                    operator={"X-API-Key": operator},
                    storefront={"X-API-Key": storefront},
                    producer=producer,
                )
            await recorder.stop()
    finally:
        await producer.stop()
