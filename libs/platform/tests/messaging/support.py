"""Shared pieces of the messaging tests: tables, a sample event, raw produce and consume."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy import Column, Integer, MetaData, Table, Text, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from xborder_events import Envelope, Event, encode, envelope_for, kafka_headers, kafka_key
from xborder_events.orders import OrderConfirmed
from xborder_platform.messaging.consumer import HandlerContext
from xborder_platform.messaging.tables import inbox_table, outbox_table

metadata = MetaData()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
#: One row per effect of a handler: an event applied twice would leave two rows.
effects = Table(
    "effects",
    metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
)
#: State changed by a unit of work, next to its events.
orders = Table(
    "orders",
    metadata,
    Column("id", Text, primary_key=True),
    Column("version", Integer, nullable=False),
)

SOURCE = "xborder/test-svc"


def sample_event(order_id: uuid.UUID | None = None) -> Event:
    """A valid v1 event for `order_id` (a new one by default)."""
    return OrderConfirmed(
        order_id=order_id or uuid.uuid4(),
        confirmed_at=datetime.now(UTC),
        payment_id=uuid.uuid4(),
        shipping_quote_id=uuid.uuid4(),
    )


def sample_envelope(order_id: uuid.UUID | None = None) -> Envelope:
    """A sample event in its envelope."""
    return envelope_for(sample_event(order_id), source=SOURCE)


async def messaging_engine(url: str) -> AsyncEngine:
    """An engine on `url` with the test tables created."""
    engine = create_async_engine(url, pool_size=5, max_overflow=5)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


async def record_effect(ctx: HandlerContext) -> None:
    """A handler whose only effect is one `effects` row."""
    await ctx.conn.execute(
        effects.insert().values(
            event_id=ctx.envelope.id, order_id=ctx.envelope.subject, event_type=ctx.envelope.type
        )
    )


async def effect_counts(engine: AsyncEngine) -> dict[uuid.UUID, int]:
    """How many effects each event id had."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(effects.c.event_id, func.count()).group_by(effects.c.event_id)
        )
        return {row[0]: row[1] for row in rows}


async def unpublished(engine: AsyncEngine) -> int:
    """Outbox rows not yet published."""
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
        return int(count or 0)


async def produce(
    bootstrap: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes, Sequence[tuple[str, bytes]]]],
) -> None:
    """Send raw (key, value, headers) records and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(topic, key=key, value=value, headers=list(headers))
            for key, value, headers in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def produce_envelopes(bootstrap: str, topic: str, envelopes: Iterable[Envelope]) -> None:
    """Send envelopes the way the relay does: key = order id, ce_ headers, JSON value."""
    await produce(
        bootstrap,
        topic,
        ((kafka_key(e), encode(e), kafka_headers(e)) for e in envelopes),
    )


async def consume_all(
    bootstrap: str, topic: str, *, expected: int, timeout: float = 60.0, settle: float = 1.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read `topic` from the beginning until `expected` records arrived (and `settle` seconds
    passed without more, to catch extras) or `timeout` passed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=20
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout
        partitions: set[int] | None = None
        while partitions is None and time.monotonic() < deadline:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic)
        assert partitions, f"topic {topic} does not exist"
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=100)
            if batch:
                quiet_since = time.monotonic()
                for tp_records in batch.values():
                    records.extend(tp_records)
            elif len(records) >= expected and time.monotonic() - quiet_since >= settle:
                break
    finally:
        await consumer.stop()
    return records


async def wait_until(predicate, *, timeout: float = 60.0, interval: float = 0.1) -> None:  # type: ignore[no-untyped-def]
    """Poll the async `predicate` until it is true; fail with a clear message on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s: {predicate.__name__}")
