"""The consumer loop against real PostgreSQL and the broker: inbox, retries, dead letters."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select

from xborder_events import encode, kafka_headers, kafka_key
from xborder_events.topics import dead_letter_topic
from xborder_platform.messaging import dead_letters
from xborder_platform.messaging.consumer import (
    ConsumerConfig,
    ConsumerSpec,
    EventConsumer,
    HandlerContext,
)
from xborder_platform.messaging.metrics import MessagingMetrics

from .support import (
    SOURCE,
    consume_all,
    effect_counts,
    inbox,
    messaging_engine,
    outbox,
    produce,
    produce_envelopes,
    record_effect,
    sample_envelope,
    wait_until,
)

pytestmark = pytest.mark.integration

FAST = ConsumerConfig(
    fetch_max_wait_ms=20,
    session_timeout_ms=6_000,
    heartbeat_interval_ms=1_000,
    max_attempts=3,
    retry_backoff_s=0.01,
    retry_backoff_max_s=0.05,
)


def make_consumer(
    engine,
    bootstrap: str,
    topic: str,
    dlq: str,
    handler=record_effect,
    group: str | None = None,
    metrics: MessagingMetrics | None = None,
    config: ConsumerConfig = FAST,
) -> EventConsumer:  # type: ignore[no-untyped-def]
    event_type = sample_envelope().type
    return EventConsumer(
        engine,
        outbox=outbox,
        inbox=inbox,
        spec=ConsumerSpec(
            group=group or f"g-{uuid.uuid4().hex[:8]}",
            topics=[topic],
            handlers={event_type: handler},
        ),
        bootstrap_servers=bootstrap,
        source=SOURCE,
        dead_letter_topic=dlq,
        config=config,
        metrics=metrics,
    )


async def test_a_redelivered_event_has_one_effect(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    """Twice on the topic, and again after a crash between the transaction and the commit."""
    engine = await messaging_engine(await new_database())
    topic, dlq = await kafka_topics(2)
    twice = sample_envelope()
    once = sample_envelope()
    await produce_envelopes(kafka_bootstrap, topic, [twice, once, twice])
    group = f"g-{uuid.uuid4().hex[:8]}"

    # A consumer that applies the batch and dies before committing its offsets.
    crashing = make_consumer(engine, kafka_bootstrap, topic, dlq, group=group)
    raw = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        fetch_max_wait_ms=20,
    )
    await raw.start()
    fetched: dict = {}
    for _ in range(100):
        for tp, records in (await raw.getmany(timeout_ms=200)).items():
            fetched.setdefault(tp, []).extend(records)
        if sum(len(r) for r in fetched.values()) == 3:
            break
    assert await crashing.process_batch(fetched)
    assert await effect_counts(engine) == {twice.id: 1, once.id: 1}
    await raw.stop()  # leaves the group without committing anything

    consumer = make_consumer(engine, kafka_bootstrap, topic, dlq, group=group)
    task = asyncio.create_task(consumer.run())

    async def redelivered() -> bool:
        return await _committed(kafka_bootstrap, group, topic) == 3

    await wait_until(redelivered, timeout=60)
    consumer.stop()
    await asyncio.wait_for(task, timeout=30)
    assert consumer.processed == 0  # all three were redeliveries the inbox absorbed
    assert await effect_counts(engine) == {twice.id: 1, once.id: 1}
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(inbox)) == 2
    await engine.dispose()


async def dead_letter_command(
    bootstrap: str, topic: str | None, *args: str, env: dict[str, str] | None = None
) -> str:
    """Run order-svc's `dead-letters` command (on its default topic when `topic` is None);
    return its standard output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "order_svc",
        "dead-letters",
        *(["--topic", topic] if topic is not None else []),
        *args,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    """Sum of the group's committed offsets on `topic`."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        partitions = probe.partitions_for_topic(topic) or set()
        total = 0
        for p in partitions:
            total += await probe.committed(TopicPartition(topic, p)) or 0
        return total
    finally:
        await probe.stop()


async def test_poison_events_go_to_the_dead_letter_topic_and_replay_processes_once(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    engine = await messaging_engine(await new_database())
    topic, dlq = await kafka_topics(2, partitions=1)
    fixed = False

    async def fragile(ctx: HandlerContext) -> None:
        if ctx.envelope.subject == str(poison.subject) and not fixed:
            raise ValueError("cannot ship to the moon")
        await record_effect(ctx)

    poison = sample_envelope()
    unknown = json.loads(encode(sample_envelope()))
    unknown["type"] = "xborder.NoSuchEvent.v1"
    behind = sample_envelope()
    await produce(
        kafka_bootstrap,
        topic,
        [
            (b"k1", b"{not json", []),
            (b"k2", json.dumps(unknown).encode(), []),
            (kafka_key(poison), encode(poison), kafka_headers(poison)),
            (kafka_key(behind), encode(behind), kafka_headers(behind)),
        ],
    )
    metrics = MessagingMetrics()
    consumer = make_consumer(engine, kafka_bootstrap, topic, dlq, handler=fragile, metrics=metrics)
    task = asyncio.create_task(consumer.run())

    async def behind_processed() -> bool:
        return (await effect_counts(engine)).get(behind.id) == 1

    await wait_until(behind_processed)
    letters = await consume_all(kafka_bootstrap, dlq, expected=3)
    assert len(letters) == 3
    by_reason = {dict(r.headers)[dead_letters.REASON].decode(): r for r in letters}
    assert set(by_reason) == {"invalid_json", "unknown_type", "handler_failed"}
    failed = dict(by_reason["handler_failed"].headers)
    assert b"cannot ship to the moon" in failed[dead_letters.ERROR]
    assert failed[dead_letters.ORIGINAL_TOPIC].decode() == topic
    assert failed[dead_letters.ORIGINAL_PARTITION] == b"0"
    assert failed[dead_letters.ORIGINAL_OFFSET] == b"2"
    assert failed[dead_letters.ATTEMPTS] == b"3"
    assert failed["ce_id"].decode() == str(poison.id)  # original headers are kept
    assert b"NoSuchEvent" in dict(by_reason["unknown_type"].headers)[dead_letters.ERROR]
    assert by_reason["invalid_json"].value == b"{not json"
    assert poison.id not in await effect_counts(engine)
    for reason in ("invalid_json", "unknown_type", "handler_failed"):
        labels = {"consumer": consumer.group, "reason": reason}
        assert metrics.registry.get_sample_value("xborder_dead_letters_total", labels) == 1.0
    dead_lettered = {"consumer": consumer.group, "outcome": "dead_lettered"}
    assert metrics.registry.get_sample_value("xborder_consumer_events_total", dead_lettered) == 3

    # The handler is fixed; replaying the dead letter applies it once, replaying again is a no-op.
    # The operator's command lists and shows them.
    listed = await dead_letter_command(kafka_bootstrap, dlq, "list", "--json")
    rows = [json.loads(line) for line in listed.splitlines()]
    assert {r["reason"] for r in rows} == {"invalid_json", "unknown_type", "handler_failed"}
    ref = next(r["ref"] for r in rows if r["reason"] == "handler_failed")
    shown = json.loads(await dead_letter_command(kafka_bootstrap, dlq, "show", ref))
    assert shown["id"] == str(poison.id)
    assert shown["original"] == {"topic": topic, "partition": "0", "offset": "2"}
    assert "cannot ship to the moon" in shown["error"]
    assert json.loads(shown["value"])["id"] == str(poison.id)

    # The handler is fixed; replaying the dead letter applies it once, replaying again is a no-op.
    fixed = True
    replayed = await dead_letter_command(kafka_bootstrap, dlq, "replay", ref)
    assert f"replayed {ref} to {topic}" in replayed
    await dead_letter_command(kafka_bootstrap, dlq, "replay", ref)

    async def poison_processed() -> bool:
        return (await effect_counts(engine)).get(poison.id) == 1

    await wait_until(poison_processed)
    await asyncio.sleep(1.0)  # give the second replay time to arrive
    consumer.stop()
    await asyncio.wait_for(task, timeout=30)
    assert await effect_counts(engine) == {behind.id: 1, poison.id: 1}
    assert consumer.dead_lettered == 3
    await engine.dispose()


async def test_events_emitted_by_a_handler_commit_with_its_effect(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    engine = await messaging_engine(await new_database())
    topic, dlq = await kafka_topics(2)
    cause = sample_envelope()

    async def reacting(ctx: HandlerContext) -> None:
        await record_effect(ctx)
        ctx.emit(ctx.event)

    await produce_envelopes(kafka_bootstrap, topic, [cause])
    consumer = make_consumer(engine, kafka_bootstrap, topic, dlq, handler=reacting)
    task = asyncio.create_task(consumer.run())

    async def done() -> bool:
        return consumer.processed == 1

    await wait_until(done)
    consumer.stop()
    await asyncio.wait_for(task, timeout=30)
    async with engine.connect() as conn:
        payloads = list(await conn.scalars(select(outbox.c.payload)))
    assert len(payloads) == 1
    assert payloads[0]["causationid"] == str(cause.id)
    assert payloads[0]["correlationid"] == cause.correlationid
    assert payloads[0]["source"] == SOURCE
    await engine.dispose()


async def test_shutdown_finishes_the_batch_commits_and_leaves_the_group(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    engine = await messaging_engine(await new_database())
    topic, dlq = await kafka_topics(2, partitions=1)
    envelopes = [sample_envelope() for _ in range(5)]
    await produce_envelopes(kafka_bootstrap, topic, envelopes)
    started = asyncio.Event()

    async def slow(ctx: HandlerContext) -> None:
        started.set()
        await asyncio.sleep(0.2)
        await record_effect(ctx)

    group = f"g-{uuid.uuid4().hex[:8]}"
    consumer = make_consumer(engine, kafka_bootstrap, topic, dlq, handler=slow, group=group)
    task = asyncio.create_task(consumer.run())
    await asyncio.wait_for(started.wait(), timeout=60)
    consumer.stop()  # while the first batch is being applied
    await asyncio.wait_for(task, timeout=30)

    applied = await effect_counts(engine)
    assert applied  # the batch in hand was finished, not abandoned
    assert set(applied.values()) == {1}
    assert await _committed(kafka_bootstrap, group, topic) == len(applied)

    # It left the group: a new member takes over at once and applies only the rest.
    successor = make_consumer(engine, kafka_bootstrap, topic, dlq, group=group)
    task = asyncio.create_task(successor.run())

    async def all_applied() -> bool:
        return len(await effect_counts(engine)) == len(envelopes)

    await wait_until(all_applied, timeout=60)
    successor.stop()
    await asyncio.wait_for(task, timeout=30)
    assert successor.processed == len(envelopes) - len(applied)
    assert set((await effect_counts(engine)).values()) == {1}
    await engine.dispose()


def lag_of(metrics: MessagingMetrics, group: str) -> dict[tuple[str, str], float]:
    """The lag gauges of `group`: (topic, partition) -> records."""
    return {
        (sample.labels["topic"], sample.labels["partition"]): sample.value
        for family in metrics.registry.collect()
        if family.name == "xborder_consumer_lag"
        for sample in family.samples
        if sample.labels["consumer"] == group
    }


async def test_lag_counts_the_records_a_stuck_handler_holds(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    """Lag is measured from the committed offset, on a timer: a blocked batch shows as lag."""
    engine = await messaging_engine(await new_database())
    topic, dlq = await kafka_topics(2, partitions=1)
    # One produce call: on Tansu the five records are one batch and the end offset reads 1.
    await produce_envelopes(kafka_bootstrap, topic, [sample_envelope() for _ in range(5)])
    release = asyncio.Event()

    async def blocked(ctx: HandlerContext) -> None:
        await release.wait()
        await record_effect(ctx)

    metrics = MessagingMetrics()
    config = dataclasses.replace(FAST, lag_interval_s=0.2)
    consumer = make_consumer(
        engine, kafka_bootstrap, topic, dlq, handler=blocked, metrics=metrics, config=config
    )
    task = asyncio.create_task(consumer.run())

    async def stuck_with_five() -> bool:
        return lag_of(metrics, consumer.group) == {(topic, "0"): 5.0}

    await wait_until(stuck_with_five, timeout=60)
    await asyncio.sleep(1.0)  # several refreshes later, still stuck: still 5
    assert lag_of(metrics, consumer.group) == {(topic, "0"): 5.0}
    assert await effect_counts(engine) == {}

    release.set()

    async def caught_up() -> bool:
        return lag_of(metrics, consumer.group) == {(topic, "0"): 0.0}

    await wait_until(caught_up, timeout=60)
    assert len(await effect_counts(engine)) == 5
    consumer.stop()
    await asyncio.wait_for(task, timeout=30)
    assert lag_of(metrics, consumer.group) == {}  # a stopped consumer owns no partition
    await engine.dispose()


async def test_lag_gauges_of_partitions_taken_by_a_rebalance_are_removed(
    new_database, kafka_bootstrap: str, kafka_topics
) -> None:
    engine = await messaging_engine(await new_database())
    topic, dlq = await kafka_topics(2, partitions=2)
    group = f"g-{uuid.uuid4().hex[:8]}"
    config = dataclasses.replace(FAST, lag_interval_s=0.2)
    first_metrics, second_metrics = MessagingMetrics(), MessagingMetrics()
    first = make_consumer(
        engine, kafka_bootstrap, topic, dlq, group=group, metrics=first_metrics, config=config
    )
    tasks = [asyncio.create_task(first.run())]
    both = {(topic, "0"), (topic, "1")}

    async def first_has_both() -> bool:
        return set(lag_of(first_metrics, group)) == both

    await wait_until(first_has_both, timeout=60)
    second = make_consumer(
        engine, kafka_bootstrap, topic, dlq, group=group, metrics=second_metrics, config=config
    )
    tasks.append(asyncio.create_task(second.run()))

    async def split() -> bool:
        mine, theirs = set(lag_of(first_metrics, group)), set(lag_of(second_metrics, group))
        return len(mine) == 1 and len(theirs) == 1 and mine | theirs == both

    try:
        await wait_until(split, timeout=60)
    finally:
        first.stop()
        second.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
    await engine.dispose()


async def test_the_dead_letter_command_uses_the_topic_prefix_and_replays_all_or_a_fixed_value(
    kafka_bootstrap: str, kafka_topics, kafka_namespace, tmp_path
) -> None:
    prefix = await kafka_namespace(partitions=1)
    dlq = f"{prefix}{dead_letter_topic('order-svc')}"
    (original,) = await kafka_topics(1, partitions=1)
    envelopes = [sample_envelope(), sample_envelope()]
    await produce(
        kafka_bootstrap,
        dlq,
        [
            (
                kafka_key(e),
                encode(e),
                [
                    *kafka_headers(e),
                    (dead_letters.REASON, b"handler_failed"),
                    (dead_letters.ERROR, b"ValueError: boom"),
                    (dead_letters.ORIGINAL_TOPIC, original.encode()),
                    (dead_letters.ORIGINAL_PARTITION, b"0"),
                    (dead_letters.ORIGINAL_OFFSET, str(n).encode()),
                ],
            )
            for n, e in enumerate(envelopes)
        ],
    )
    in_namespace = {"KAFKA_TOPIC_PREFIX": prefix}

    # No --topic: the service's dead-letter topic in its namespace.
    listed = await dead_letter_command(kafka_bootstrap, None, "list", "--json", env=in_namespace)
    rows = [json.loads(line) for line in listed.splitlines()]
    assert [r["topic"] for r in rows] == [dlq, dlq]
    assert [r["id"] for r in rows] == [str(e.id) for e in envelopes]

    replayed = await dead_letter_command(kafka_bootstrap, None, "replay", "--all", env=in_namespace)
    assert replayed.splitlines() == [f"replayed {r['ref']} to {original}" for r in rows]

    fixed = json.loads(encode(envelopes[0]))
    fixed["data"]["payment_id"] = str(uuid.uuid4())
    value_file = tmp_path / "fixed.json"
    value_file.write_text(json.dumps(fixed))
    ref = rows[0]["ref"]
    await dead_letter_command(
        kafka_bootstrap, None, "replay", ref, "--value-file", str(value_file), env=in_namespace
    )

    records = await consume_all(kafka_bootstrap, original, expected=3)
    assert [json.loads(r.value or b"") for r in records] == [
        json.loads(encode(envelopes[0])),
        json.loads(encode(envelopes[1])),
        fixed,
    ]
    for record, row in zip(records, [*rows, rows[0]], strict=True):
        headers = dict(record.headers)
        assert headers[dead_letters.REPLAYED_FROM].decode() == f"{dlq}:{row['ref']}"
        assert dead_letters.REASON not in headers  # back as the event it was
        assert headers["ce_id"].decode() == row["id"]
