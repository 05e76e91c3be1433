"""A broker outage under a steady stream of state changes loses and duplicates nothing.

This test needs a broker it may stop, so it starts its own embedded one whatever the session's
backend is. The embedded broker keeps data in memory: it comes back empty and the topics are
created again, as the development stack does at start-up. The relay may reach it first, and the
broker then creates the topic with its default partition count: consumers pick up partitions
they did not know of at their next metadata refresh.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from xborder_devstack.backends import free_port
from xborder_devstack.broker import EmbeddedBroker, create_topics
from xborder_platform.messaging.consumer import ConsumerConfig, ConsumerSpec, EventConsumer
from xborder_platform.messaging.relay import OutboxRelay, RelayConfig
from xborder_platform.uow import UnitOfWork

from .support import (
    SOURCE,
    consume_all,
    effect_counts,
    inbox,
    messaging_engine,
    orders,
    outbox,
    record_effect,
    sample_event,
    unpublished,
    wait_until,
)

pytestmark = pytest.mark.integration

OUTAGE_S = 10.0


async def test_events_committed_while_the_broker_is_down_are_published_and_consumed_once(
    new_database, tmp_path: Path
) -> None:
    broker = EmbeddedBroker(port=free_port(), log_file=tmp_path / "broker.log")
    topic, dlq = "outage.events", "outage.dlq"
    await asyncio.to_thread(broker.start)
    try:
        await create_topics(broker.bootstrap_servers, [topic, dlq], partitions=3)
        engine = await messaging_engine(await new_database())
        relay = OutboxRelay(
            engine,
            outbox,
            bootstrap_servers=broker.bootstrap_servers,
            client_id="relay",
            config=RelayConfig(
                poll_interval_s=0.2, backoff_min_s=0.1, backoff_max_s=1.0, request_timeout_ms=2_000
            ),
        )
        consumer = EventConsumer(
            engine,
            outbox=outbox,
            inbox=inbox,
            spec=ConsumerSpec(
                group="outage",
                topics=[topic],
                handlers={sample_event().event_type(): record_effect},
            ),
            bootstrap_servers=broker.bootstrap_servers,
            source=SOURCE,
            dead_letter_topic=dlq,
            config=ConsumerConfig(
                session_timeout_ms=6_000,
                heartbeat_interval_ms=1_000,
                request_timeout_ms=2_000,
                retry_backoff_s=0.1,
                retry_backoff_max_s=1.0,
                metadata_max_age_ms=2_000,
            ),
        )
        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run())]
        before: list[uuid.UUID] = []
        during: list[uuid.UUID] = []
        committed = before
        stop_writing = asyncio.Event()

        async def write_steadily() -> None:
            while not stop_writing.is_set():
                order_id = uuid.uuid4()
                async with UnitOfWork(engine, outbox, source=SOURCE, route=lambda _: topic) as uow:
                    await uow.conn.execute(orders.insert().values(id=str(order_id), version=1))
                    envelope = uow.emit(sample_event(order_id))
                    await uow.commit()
                committed.append(envelope.id)
                await asyncio.sleep(0.02)

        writer = asyncio.create_task(write_steadily())
        await asyncio.sleep(3)
        await asyncio.to_thread(broker.stop)
        # From the moment the broker is gone; what it acknowledged while stopping died with it.
        committed = during
        stopped_at = time.monotonic()
        await asyncio.sleep(OUTAGE_S)
        assert await unpublished(engine) > 0  # the outage really held events back
        await asyncio.to_thread(broker.start)
        await create_topics(broker.bootstrap_servers, [topic, dlq], partitions=3)
        await asyncio.sleep(2)
        stop_writing.set()
        await writer
        assert time.monotonic() - stopped_at >= OUTAGE_S

        async def all_consumed() -> bool:
            counts = await effect_counts(engine)
            return await unpublished(engine) == 0 and all(e in counts for e in during)

        await wait_until(all_consumed, timeout=120, interval=0.5)
        relay.stop()
        consumer.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)

        counts = await effect_counts(engine)
        assert len(during) > 100
        assert all(counts[e] == 1 for e in during)
        # Events consumed before the outage were applied once; the broker lost what it held.
        assert all(counts.get(e, 0) <= 1 for e in before)
        assert set(counts) <= set(before) | set(during)

        # Published once, not only consumed once: no process crashed, so the relay had no
        # reason to send an acknowledged row again (the inbox would hide such a duplicate).
        records = await consume_all(broker.bootstrap_servers, topic, expected=len(during))
        on_topic = Counter(uuid.UUID(json.loads(r.value or b"")["id"]) for r in records)
        twice = {e: n for e, n in on_topic.items() if n > 1}
        assert twice == {}, f"{len(twice)} events published more than once"
        assert all(on_topic[e] == 1 for e in during)
        assert set(on_topic) <= set(before) | set(during)
        await engine.dispose()
    finally:
        await asyncio.to_thread(broker.stop)
