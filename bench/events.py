"""Reads the service topics with a plain Kafka consumer and indexes what happened to each order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer

ORDERS = "xborder.orders.v1"
PAYMENTS = "xborder.payments.v1"
SHIPPING = "xborder.shipping.v1"
CUSTOMS = "xborder.customs.v1"
DEAD_LETTERS = tuple(f"xborder.{s}.dlq.v1" for s in ("order", "payment", "shipping", "customs"))

CLOSING = {
    "xborder.OrderCompleted.v1",
    "xborder.OrderCancelled.v1",
    "xborder.OrderReturned.v1",
    "xborder.OrderConfiscated.v1",
}
#: Events whose body we read (the rest are only counted).
WANTED = CLOSING | {
    "xborder.OrderPlaced.v1",
    "xborder.OrderConfirmed.v1",
    "xborder.PaymentAuthorized.v1",
    "xborder.PaymentSettled.v1",
    "xborder.ShipmentCreated.v1",
}


#: Events that say something about an order without moving it on (an ETA revised by lane
#: statistics can follow any step): left out of `Tracker.stage`.
NOT_A_STEP = frozenset({"DeliveryEstimateRevised"})


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@dataclass
class OrderTrack:
    """One order as the topics tell it (times in epoch seconds)."""

    placed_at: float | None = None
    #: Distinct OrderPlaced events (by event id): exactly one for an order published once.
    placed_events: int = 0
    confirmed_at: float | None = None
    shipment_created_at: float | None = None
    closings: dict[str, int] = field(default_factory=dict)
    payment_ids: set[str] = field(default_factory=set)
    shipment_ids: set[str] = field(default_factory=set)
    completed_seen_at: float | None = None


@dataclass
class Tracker:
    """Follows every service topic from the beginning for the whole run."""

    bootstrap: str
    orders: dict[str, OrderTrack] = field(default_factory=lambda: defaultdict(OrderTrack))
    event_ids: set[str] = field(default_factory=set)
    redelivered: int = 0
    records: int = 0
    dead_letters: int = 0
    completed: int = 0
    placed: int = 0
    completion_times: list[float] = field(default_factory=list)
    #: (topic, partition) -> the offset after the last record read there: the partition's true
    #: end (the broker's reported end is not, on Tansu).
    ends: dict[tuple[str, int], int] = field(default_factory=dict)
    #: order id (the record key) -> the type of the last event seen for it, e.g. `OrderConfirmed`.
    stage: dict[str, str] = field(default_factory=dict)
    #: Every partition read (the event topics and the dead-letter topics).
    partitions: list[tuple[str, int]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        """Start reading; return once the consumer has its partitions."""
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._ready.wait(), timeout=60)

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        # No consumer group: assign every partition and read from the start, no rebalances.
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,  # record timestamps give the latencies, not when we see them
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        try:
            from aiokafka import TopicPartition

            parts = []
            for topic in (ORDERS, PAYMENTS, SHIPPING, CUSTOMS, *DEAD_LETTERS):
                for p in consumer.partitions_for_topic(topic) or await _partitions(consumer, topic):
                    parts.append(TopicPartition(topic, p))
            consumer.assign(parts)
            self.partitions = [(tp.topic, tp.partition) for tp in parts]
            await consumer.seek_to_beginning(*parts)
            self._ready.set()
            while True:
                batch = await consumer.getmany(timeout_ms=100, max_records=5000)
                now = time.time()
                for records in batch.values():
                    for record in records:
                        self._add(record, now)
        finally:
            await asyncio.wait_for(consumer.stop(), timeout=10)

    def _add(self, record: Any, now: float) -> None:
        self.records += 1
        tp = (record.topic, record.partition)
        self.ends[tp] = max(self.ends.get(tp, 0), record.offset + 1)
        if record.topic in DEAD_LETTERS:
            self.dead_letters += 1
            return
        headers = dict(record.headers)
        ce_type = headers.get("ce_type", b"").decode()
        name = ce_type.split(".")[1] if "." in ce_type else ce_type
        if record.key and name not in NOT_A_STEP:
            self.stage[record.key.decode()] = name
        if ce_type not in WANTED:
            return
        event = json.loads(record.value)
        if event["id"] in self.event_ids:
            self.redelivered += 1
            return
        self.event_ids.add(event["id"])
        order = self.orders[event["subject"]]
        data = event.get("data") or {}
        ts = record.timestamp / 1000.0
        if ce_type == "xborder.OrderPlaced.v1":
            order.placed_at = _epoch(event["time"])
            order.placed_events += 1
            self.placed += 1
        elif ce_type == "xborder.OrderConfirmed.v1":
            order.confirmed_at = ts
        elif ce_type == "xborder.ShipmentCreated.v1":
            order.shipment_created_at = order.shipment_created_at or ts
            order.shipment_ids.add(str(data.get("shipment_id")))
        elif ce_type in ("xborder.PaymentAuthorized.v1", "xborder.PaymentSettled.v1"):
            order.payment_ids.add(str(data.get("payment_id")))
        elif ce_type in CLOSING:
            name = ce_type.split(".")[1]
            order.closings[name] = order.closings.get(name, 0) + 1
            if name == "OrderCompleted":
                order.completed_seen_at = now
                self.completed += 1
                self.completion_times.append(now)

    @property
    def closed(self) -> int:
        """Orders with at least one closing event."""
        return sum(1 for o in self.orders.values() if o.closings)

    def in_flight_stages(self) -> dict[str, int]:
        """Orders placed and not closed, by the last event seen for each: where they wait."""
        counts: dict[str, int] = defaultdict(int)
        for oid, order in self.orders.items():
            if order.placed_events and not order.closings:
                counts[self.stage.get(oid, "?")] += 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    def completions_between(self, start: float, end: float) -> int:
        """OrderCompleted events first seen in [start, end)."""
        return sum(1 for t in self.completion_times if start <= t < end)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return set(parts)
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions")


async def committed_offsets(
    bootstrap: str, partitions: list[tuple[str, int]]
) -> dict[str, dict[tuple[str, int], int | None]]:
    """Every consumer group's committed offset on each of these partitions (None: none)."""
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        groups = [g for g, protocol in await admin.list_consumer_groups() if protocol == "consumer"]
        wanted = [TopicPartition(t, p) for t, p in partitions]
        out: dict[str, dict[tuple[str, int], int | None]] = {}
        for group in sorted(groups):
            got = await admin.list_consumer_group_offsets(group, partitions=wanted)
            offsets: dict[tuple[str, int], int | None] = dict.fromkeys(partitions)
            for tp, meta in got.items():
                if meta is not None and meta.offset >= 0:
                    offsets[(tp.topic, tp.partition)] = meta.offset
            out[group] = offsets
        return out
    finally:
        await admin.close()
