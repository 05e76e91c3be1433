"""The whole journey over Kafka: every lane service of the packaged data file quotes, books and
delivers through the sandbox carrier network, with customs decisions arriving as events."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from asgi_lifespan import LifespanManager

from shipping_svc.adapters.lane_data import load_catalog
from shipping_svc.bootstrap import create_app
from shipping_svc.config import Settings
from xborder_events import Event, decode, encode, envelope_for, kafka_headers, kafka_key
from xborder_events.customs import (
    ExportCleared,
    ParcelConfiscated,
    ParcelReleased,
    ParcelReturnOrdered,
)
from xborder_events.orders import OrderConfirmed
from xborder_events.testing import sample
from xborder_events.topics import CUSTOMS, ORDERS, SHIPPING
from xborder_platform.http.auth import issue_api_key

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()
SERVICES = sorted(
    {s.key for s in load_catalog().services if s.active_on(TODAY)},
)


class Running:
    """The app, its client and the namespace's topics."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], prefix: str,
                 bootstrap: str) -> None:  # fmt: skip
        self.client, self.headers, self.prefix, self.bootstrap = client, headers, prefix, bootstrap
        self.seen: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)

    async def produce(self, topic: str, events: list[Event]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            for event in events:
                envelope = envelope_for(event, source="xborder/test")
                await producer.send_and_wait(
                    self.prefix + topic,
                    value=encode(envelope),
                    key=kafka_key(envelope),
                    headers=kafka_headers(envelope),
                )
        finally:
            await producer.stop()

    async def wait_for(self, predicate, *, timeout: float = 60.0) -> None:
        """Read the shipping topic until `predicate(seen)` holds."""
        topic = self.prefix + SHIPPING
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            self.seen.clear()
            async with asyncio.timeout(timeout):
                while not predicate(self.seen):
                    for batch in (await consumer.getmany(timeout_ms=200)).values():
                        for record in batch:
                            decoded = decode(record.value)
                            name = decoded.envelope.type.split(".")[1]
                            data = decoded.event.model_dump(mode="json")
                            self.seen[decoded.envelope.subject].append((name, data))
        finally:
            await consumer.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def running(service_database, kafka_bootstrap, kafka_namespace) -> AsyncIterator[Running]:
    prefix = await kafka_namespace()
    settings = Settings(
        database_url=await service_database("shipping_svc"),
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=prefix,
        consumer_fetch_max_wait_ms=10,
        consumer_session_timeout_ms=6000,
        consumer_heartbeat_interval_ms=1000,
        relay_poll_interval_s=0.05,
        sandbox_seconds_per_day=0.002,
        sandbox_poll_interval_s=0.05,
        sandbox_delivery_failure_rate=0.3,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        async with app.state.engine.begin() as conn:
            key, _ = await issue_api_key(conn, role="storefront", merchant_id="m-1")
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield Running(client, {"X-API-Key": key}, prefix, kafka_bootstrap)


def names(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in events]


async def test_every_lane_service_quotes_books_and_delivers_and_customs_can_stop_it(
    running: Running, make_order
):
    """One running app (a consumer group join costs seconds): both journeys in turn."""
    await every_lane_service_delivers(running, make_order)
    await returns_and_confiscations_arrive_from_customs(running, make_order)


async def every_lane_service_delivers(running: Running, make_order) -> None:
    orders: dict[str, str] = {}
    placed, confirmed = [], []
    for key in SERVICES:
        lane, carrier, code = key.split("/")
        origin, destination = lane.split("-")
        rates = await running.client.get(
            "/v1/rates",
            params={"origin": origin, "destination": destination, "weight_grams": 240,
                    "value": "12.50", "currency": "USD"},
            headers=running.headers,
        )  # fmt: skip
        assert rates.status_code == 200, rates.text
        rate = next(
            r for r in rates.json()["rates"] if (r["carrier"], r["service_code"]) == (carrier, code)
        )
        quote_id = uuid.UUID(rate["quote_id"])
        order = make_order(destination=destination, quote_id=quote_id, weight_grams=240)
        orders[str(order.order_id)] = key
        placed.append(order)
        confirmed.append(
            sample(OrderConfirmed, order_id=order.order_id, shipping_quote_id=quote_id)
        )
    await running.produce(ORDERS, [e for pair in zip(placed, confirmed, strict=True) for e in pair])

    await running.wait_for(lambda seen: all("ParcelDispatched" in names(seen[o]) for o in orders))
    for order_id, key in orders.items():
        created = dict(running.seen[order_id])["ShipmentCreated"]
        assert created["carrier"] == key.split("/")[1]
        assert created["quote_status"] == "honoured"
        assert names(running.seen[order_id])[:2] == ["ShipmentCreated", "ParcelDispatched"]

    customs_events: list[Event] = []
    for order in placed:
        customs_events += [
            sample(ExportCleared, order_id=order.order_id),
            sample(ParcelReleased, order_id=order.order_id, country=order.ship_to_country),
        ]
    await running.produce(CUSTOMS, customs_events)
    await running.wait_for(
        lambda seen: all("ParcelDelivered" in names(seen[o]) for o in orders), timeout=90
    )
    for order_id in orders:
        journey = [n for n in names(running.seen[order_id]) if n != "DeliveryEstimateRevised"]
        assert journey[:4] == [
            "ShipmentCreated", "ParcelDispatched", "ParcelInTransit", "ParcelArrivedAtDestination"
        ]  # fmt: skip
        assert journey[4] == "ParcelOutForDelivery"
        assert journey[-1] == "ParcelDelivered"
        assert set(journey[4:-1]) <= {"ParcelOutForDelivery", "ParcelDeliveryFailed"}

    listed = await running.client.get(
        "/v1/shipments", params={"limit": 100}, headers=running.headers
    )
    assert {s["status"] for s in listed.json()["items"]} == {"delivered"}
    assert len(listed.json()["items"]) == len(SERVICES)


async def returns_and_confiscations_arrive_from_customs(running: Running, make_order) -> None:
    returned, seized = make_order(destination="BR"), make_order(destination="RU")
    confirmations = [
        sample(OrderConfirmed, order_id=o.order_id, shipping_quote_id=o.shipping_quote_id)
        for o in (returned, seized)
    ]
    await running.produce(ORDERS, [returned, confirmations[0], seized, confirmations[1]])
    rid, sid = str(returned.order_id), str(seized.order_id)
    # customs-svc opens its export checkpoint on ParcelDispatched, so its decisions follow it.
    await running.wait_for(
        lambda seen: all("ParcelDispatched" in names(seen[o]) for o in (rid, sid))
    )
    await running.produce(
        CUSTOMS,
        [
            sample(ExportCleared, order_id=returned.order_id),
            sample(ParcelReturnOrdered, order_id=returned.order_id, checkpoint="import",
                   country="BR"),
            sample(ExportCleared, order_id=seized.order_id),
            sample(ParcelConfiscated, order_id=seized.order_id, checkpoint="import",
                   country="RU"),
        ],
    )  # fmt: skip
    await running.wait_for(lambda seen: "ParcelReturnedToSender" in names(seen[rid]), timeout=60)
    created = dict(running.seen[rid])["ShipmentCreated"]
    assert created["quote_status"] == "unknown"  # an unknown quote id still ships (default)
    assert "ParcelDelivered" not in names(running.seen[rid])
    shipments = await running.client.get(
        "/v1/shipments", params={"order_id": sid}, headers=running.headers
    )
    assert shipments.json()["items"][0]["status"] == "confiscated"
    assert shipments.json()["items"][0]["quote_mismatch"] is True
    assert "ParcelDelivered" not in names(running.seen[sid])
