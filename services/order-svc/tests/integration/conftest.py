"""One running order-svc per test module, on its own database and topic namespace.

Joining a consumer group costs seconds on the embedded broker, so the app (with its relay and
consumers), the API keys, a producer and a reader of the orders topic are shared by the tests
of a module; each test works on orders of its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from order_svc.bootstrap import MIGRATIONS, create_app
from order_svc.config import Settings
from xborder_devstack.broker import create_topics
from xborder_devstack.pytest_plugin import admin_connect
from xborder_events import (
    ALL_TOPICS,
    ORDERS,
    Decoded,
    Event,
    decode,
    encode,
    envelope_for,
    kafka_headers,
    kafka_key,
    topic_for,
)
from xborder_events.envelope import Envelope
from xborder_platform.http.auth import issue_api_key
from xborder_platform.migrations import upgrade_to_head
from xborder_platform.webhooks import WebhookSettings


@dataclass
class OrdersTopic:
    """Every record of the namespace's orders topic, read from the beginning in the background."""

    records: list[Decoded] = field(default_factory=list)

    def of(self, order_id: object) -> list[Decoded]:
        """The decoded events about one order, in the order they were read."""
        return [r for r in self.records if r.envelope.subject == str(order_id)]

    def types(self, order_id: object) -> list[str]:
        """The event names about one order."""
        return [r.envelope.type.split(".")[1] for r in self.of(order_id)]

    async def wait(
        self,
        order_id: object,
        done: Callable[[list[str]], bool],
        *,
        timeout: float = 20.0,
        settle: float = 1.0,
    ) -> list[str]:
        """Wait until `done(types)` holds, then `settle` seconds more (to catch extras)."""
        deadline = time.monotonic() + timeout
        while not done(self.types(order_id)):
            if time.monotonic() > deadline:
                raise AssertionError(f"orders topic for {order_id}: {self.types(order_id)}")
            await asyncio.sleep(0.05)
        await asyncio.sleep(settle)
        return self.types(order_id)


@dataclass
class Running:
    """The running service and what the tests use to talk to it."""

    app: FastAPI
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    prefix: str
    orders_topic: OrdersTopic
    keys: dict[str, str]

    def auth(self, who: str = "m-1") -> dict[str, str]:
        """Headers authenticating as a storefront of merchant `who`, or as "operator"."""
        return {"Authorization": f"Bearer {self.keys[who]}"}

    async def produce(self, *envelopes: Envelope) -> None:
        """Publish envelopes as their producers would, on this namespace's topics."""
        futures = []
        for envelope in envelopes:
            topic = self.prefix + topic_for(envelope.type)
            futures.append(
                await self.producer.send(
                    topic,
                    key=kafka_key(envelope),
                    value=encode(envelope),
                    headers=kafka_headers(envelope),
                )
            )
        await asyncio.gather(*futures)

    async def emit(self, *events: Event) -> list[Envelope]:
        """Publish events from their producers (a new envelope each)."""
        envelopes = [envelope_for(e, source=f"xborder/{e.producer}") for e in events]
        await self.produce(*envelopes)
        return envelopes

    async def order(self, order_id: object, who: str = "m-1") -> dict[str, Any]:
        """GET the order."""
        response = await self.client.get(f"/v1/orders/{order_id}", headers=self.auth(who))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_status(self, order_id: object, status: str, *, timeout: float = 20.0) -> None:
        """Poll the order until it has `status`."""
        deadline = time.monotonic() + timeout
        while (current := (await self.order(order_id))["status"]) != status:
            if time.monotonic() > deadline:
                raise AssertionError(f"order {order_id} is {current}, not {status}")
            await asyncio.sleep(0.05)

    async def count(self, sql: str) -> int:
        """A count from the service's database."""
        async with self.app.state.engine.connect() as conn:
            return int(await conn.scalar(text(sql)) or 0)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def order_db(pg_server: Any) -> AsyncIterator[str]:
    """A fresh database with order-svc's migrations, for one module."""
    name = f"t_order_{uuid.uuid4().hex[:12]}"
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


async def _read_forever(bootstrap: str, topic: str, sink: OrdersTopic) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=20
    )
    await consumer.start()
    try:
        partitions: set[int] | None = None
        while not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while True:
            batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
            batch = await consumer.getmany(timeout_ms=100)
            for records in batch.values():
                sink.records.extend(decode(r.value or b"") for r in records)
    finally:
        await asyncio.wait_for(consumer.stop(), timeout=10)


def tuned_settings(
    database_url: str, *, kafka_bootstrap: str, prefix: str, **webhooks: Any
) -> Settings:
    """order-svc tuned for tests: quick consumers and relay, webhooks to loopback receivers
    (allowed here, refused by default), polled often, with no jitter; `webhooks` overrides."""
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
        consumer_fetch_max_wait_ms=10,
        consumer_session_timeout_ms=6000,
        consumer_heartbeat_interval_ms=1000,
        relay_poll_interval_s=0.1,
        log_level="WARNING",
        webhooks=WebhookSettings(
            **{"allow_list": ("127.0.0.1",), "poll_interval_s": 0.05, "jitter": 0, **webhooks}
        ),
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running(order_db: str, kafka_bootstrap: str) -> AsyncIterator[Running]:
    """order-svc with its relay and consumers, API keys for m-1, m-2 and an operator."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_topics(kafka_bootstrap, [f"{prefix}{t}" for t in ALL_TOPICS], partitions=3)
    settings = tuned_settings(
        order_db, kafka_bootstrap=kafka_bootstrap, prefix=prefix, time_scale=0.001
    )
    app = create_app(settings)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    sink = OrdersTopic()
    reader = asyncio.create_task(_read_forever(kafka_bootstrap, f"{prefix}{ORDERS}", sink))
    try:
        async with LifespanManager(app) as manager:
            keys = {}
            async with app.state.engine.begin() as conn:
                for merchant in ("m-1", "m-2", "m-3"):
                    keys[merchant], _ = await issue_api_key(
                        conn, role="storefront", merchant_id=merchant
                    )
                keys["operator"], _ = await issue_api_key(conn, role="operator")
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
                yield Running(app, client, producer, prefix, sink, keys)
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await asyncio.wait_for(producer.stop(), timeout=10)
