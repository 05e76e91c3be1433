"""The unit of work, the outbox and the relay against real PostgreSQL and the broker."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import textwrap
import time
import uuid
from collections import defaultdict

import pytest
from sqlalchemy import func, select, text, update

from xborder_events import envelope_for
from xborder_platform.messaging.metrics import MessagingMetrics
from xborder_platform.messaging.outbox import OutboxRow, write_outbox
from xborder_platform.messaging.relay import OutboxRelay, RelayConfig, purge_published
from xborder_platform.uow import UnitOfWork

from .support import (
    SOURCE,
    consume_all,
    messaging_engine,
    orders,
    outbox,
    sample_event,
    unpublished,
    wait_until,
)

pytestmark = pytest.mark.integration

FAST = RelayConfig(poll_interval_s=0.2, backoff_min_s=0.05, backoff_max_s=0.5)


async def run_relays(*relays: OutboxRelay, until) -> None:  # type: ignore[no-untyped-def]
    """Run `relays` concurrently until the async predicate `until` holds, then stop them."""
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        for _ in range(600):
            if await until():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("relays did not drain the outbox within 60 s")
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)


async def test_state_and_event_commit_together_or_not_at_all(new_database) -> None:
    engine = await messaging_engine(await new_database())
    kept, dropped = uuid.uuid4(), uuid.uuid4()

    async with UnitOfWork(engine, outbox, source=SOURCE) as uow:
        await uow.conn.execute(orders.insert().values(id=str(kept), version=1))
        uow.emit(sample_event(kept))
        await uow.commit()

    async def fail_midway() -> None:
        async with UnitOfWork(engine, outbox, source=SOURCE) as uow:
            await uow.conn.execute(orders.insert().values(id=str(dropped), version=1))
            uow.emit(sample_event(dropped))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_midway()

    async with UnitOfWork(engine, outbox, source=SOURCE) as uow:  # left without commit
        await uow.conn.execute(orders.insert().values(id=str(dropped), version=1))
        uow.emit(sample_event(dropped))

    async with engine.connect() as conn:
        assert set(await conn.scalars(select(orders.c.id))) == {str(kept)}
        rows = (await conn.execute(select(outbox.c.aggregateid, outbox.c.type))).all()
    assert [r.aggregateid for r in rows] == [str(kept)]
    assert rows[0].type == sample_event(kept).event_type()
    await engine.dispose()


async def test_an_event_committed_before_a_sigkill_is_published_once(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    url = await new_database()
    engine = await messaging_engine(url)
    (topic,) = await kafka_topics(1)
    order_id = uuid.uuid4()
    script = textwrap.dedent(
        f"""
        import asyncio, os, signal, uuid
        from datetime import UTC, datetime
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy import MetaData
        from xborder_events.orders import OrderConfirmed
        from xborder_platform.messaging.tables import outbox_table
        from xborder_platform.uow import UnitOfWork

        async def main():
            engine = create_async_engine({url!r})
            outbox = outbox_table(MetaData())
            order_id = uuid.UUID({str(order_id)!r})
            async with UnitOfWork(engine, outbox, source="xborder/test-svc",
                                  route=lambda _: {topic!r}) as uow:
                await uow.conn.execute(text("INSERT INTO orders (id, version) VALUES (:i, 1)"),
                                       {{"i": str(order_id)}})
                uow.emit(OrderConfirmed(order_id=order_id, confirmed_at=datetime.now(UTC),
                                        payment_id=uuid.uuid4(), shipping_quote_id=uuid.uuid4()))
                await uow.commit()
            print("committed", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    assert b"committed" in out
    assert await unpublished(engine) == 1

    async def drained() -> bool:
        return await unpublished(engine) == 0

    await run_relays(
        OutboxRelay(engine, outbox, bootstrap_servers=kafka_bootstrap, client_id="t", config=FAST),
        until=drained,
    )
    # A restarted relay finds nothing left to publish.
    await run_relays(
        OutboxRelay(engine, outbox, bootstrap_servers=kafka_bootstrap, client_id="t", config=FAST),
        until=drained,
    )
    records = await consume_all(kafka_bootstrap, topic, expected=1)
    assert len(records) == 1
    assert records[0].key == str(order_id).encode()
    body = json.loads(records[0].value or b"")
    assert body["subject"] == str(order_id)
    headers = dict(records[0].headers)
    assert headers["ce_type"].decode() == body["type"]
    assert headers["ce_id"].decode() == body["id"]
    await engine.dispose()


async def test_two_relays_keep_every_key_in_order(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    """10,000 events over 500 keys, two relays at once: in order per key, none lost or doubled."""
    engine = await messaging_engine(await new_database())
    (topic,) = await kafka_topics(1, partitions=6)
    keys = [uuid.uuid4() for _ in range(500)]
    expected: dict[str, list[str]] = defaultdict(list)
    rows: list[OutboxRow] = []
    for round_ in range(20):
        for key in keys:
            envelope = envelope_for(sample_event(key), source=SOURCE)
            expected[str(key)].append(str(envelope.id))
            rows.append(OutboxRow.from_envelope(envelope, topic=topic))
        if round_ % 5 == 4:  # several commits, so relays start while rows are still arriving
            async with engine.begin() as conn:
                await write_outbox(conn, outbox, rows)
            rows = []
    assert sum(len(v) for v in expected.values()) == 10_000

    config = RelayConfig(batch_size=200, slots=16, poll_interval_s=0.2)
    relays = [
        OutboxRelay(
            engine, outbox, bootstrap_servers=kafka_bootstrap, client_id=f"r{i}", config=config
        )
        for i in range(2)
    ]

    async def drained() -> bool:
        return await unpublished(engine) == 0

    await run_relays(*relays, until=drained)
    assert all(r.published > 0 for r in relays), [r.published for r in relays]
    assert sum(r.published for r in relays) == 10_000

    records = await consume_all(kafka_bootstrap, topic, expected=10_000, timeout=120)
    seen: dict[str, list[str]] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        seen[(record.key or b"").decode()].append(json.loads(record.value or b"")["id"])
    assert len(records) == 10_000
    assert seen == expected
    await engine.dispose()


async def test_relay_waits_for_the_broker_and_publishes_what_was_committed_meanwhile(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    engine = await messaging_engine(await new_database())
    (topic,) = await kafka_topics(1)
    async with engine.begin() as conn:
        await write_outbox(
            conn,
            outbox,
            [OutboxRow.from_envelope(envelope_for(sample_event(), source=SOURCE), topic=topic)],
        )
    down = OutboxRelay(
        engine,
        outbox,
        bootstrap_servers="127.0.0.1:1",
        client_id="t",
        config=RelayConfig(
            poll_interval_s=0.1, backoff_min_s=0.05, backoff_max_s=0.2, request_timeout_ms=1_000
        ),
    )
    task = asyncio.create_task(down.run())
    await asyncio.sleep(1.5)
    down.stop()
    await asyncio.wait_for(task, timeout=30)
    assert down.published == 0
    assert await unpublished(engine) == 1

    async def drained() -> bool:
        return await unpublished(engine) == 0

    await run_relays(
        OutboxRelay(engine, outbox, bootstrap_servers=kafka_bootstrap, client_id="t", config=FAST),
        until=drained,
    )
    assert len(await consume_all(kafka_bootstrap, topic, expected=1)) == 1
    await engine.dispose()


async def test_published_rows_are_purged_after_the_retention(new_database) -> None:
    engine = await messaging_engine(await new_database())
    envelopes = [envelope_for(sample_event(), source=SOURCE) for _ in range(3)]
    async with engine.begin() as conn:
        await write_outbox(conn, outbox, [OutboxRow.from_envelope(e, topic="t") for e in envelopes])
        old, recent, _pending = envelopes
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == old.id)
            .values(published_at=func.now() - text("interval '2 hours'"))
        )
        await conn.execute(
            update(outbox).where(outbox.c.id == recent.id).values(published_at=func.now())
        )
    assert await purge_published(engine, outbox, retention_s=3600, chunk=1) == 1
    async with engine.connect() as conn:
        left = set(await conn.scalars(select(outbox.c.id)))
    assert left == {envelopes[1].id, envelopes[2].id}
    await engine.dispose()


async def test_backlog_gauges_keep_moving_while_the_broker_is_down(new_database) -> None:
    """The age of the oldest unpublished row is what alerts on an outage: it must grow then."""
    engine = await messaging_engine(await new_database())
    async with engine.begin() as conn:
        await write_outbox(
            conn,
            outbox,
            [
                OutboxRow.from_envelope(envelope_for(sample_event(), source=SOURCE), topic="t")
                for _ in range(3)
            ],
        )
    metrics = MessagingMetrics(service="test-svc")
    relay = OutboxRelay(
        engine,
        outbox,
        bootstrap_servers="127.0.0.1:1",  # nobody listens there
        client_id="t",
        config=RelayConfig(
            poll_interval_s=0.1,
            backoff_min_s=0.05,
            backoff_max_s=0.2,
            request_timeout_ms=1_000,
            stats_interval_s=0.1,
        ),
        metrics=metrics,
    )

    def gauge(name: str) -> float:
        value = metrics.registry.get_sample_value(name, {"service": "test-svc"})
        assert value is not None, name
        return value

    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(1.0)
        backlog = gauge("xborder_outbox_backlog")
        first_age = gauge("xborder_outbox_oldest_unpublished_age_seconds")
        await asyncio.sleep(1.5)
        later_age = gauge("xborder_outbox_oldest_unpublished_age_seconds")
    finally:
        relay.stop()
        await asyncio.wait_for(task, timeout=30)
    assert relay.published == 0
    assert backlog == 3
    assert first_age > 0.5
    assert later_age >= first_age + 1.0
    await engine.dispose()


async def test_a_notification_wakes_the_relay_long_before_its_poll_interval(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    engine = await messaging_engine(await new_database())
    (topic,) = await kafka_topics(1)
    relay = OutboxRelay(
        engine,
        outbox,
        bootstrap_servers=kafka_bootstrap,
        client_id="t",
        config=RelayConfig(poll_interval_s=30.0),
    )
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(2.0)  # it found nothing and sleeps for 30 s, unless notified
        assert relay.published == 0
        async with UnitOfWork(engine, outbox, source=SOURCE, route=lambda _: topic) as uow:
            uow.emit(sample_event())
            await uow.commit()
        committed_at = time.monotonic()

        async def published() -> bool:
            return relay.published > 0

        await wait_until(published, timeout=10, interval=0.02)
        took = time.monotonic() - committed_at
    finally:
        relay.stop()
        await asyncio.wait_for(task, timeout=30)
    assert relay.published == 1
    assert took < 2.0, f"published {took:.2f}s after the commit: the NOTIFY did not wake it"
    assert await unpublished(engine) == 0
    await engine.dispose()
