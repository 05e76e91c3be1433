"""One trace follows an order from an HTTP request through the broker into a consumer."""

import asyncio
import uuid
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends
from opentelemetry import trace

from order_svc.adapters.tables import inbox, outbox
from order_svc.config import Settings
from xborder_events.orders import OrderCompleted, OrderConfirmed
from xborder_events.topics import ORDERS
from xborder_platform.app import ServiceSpec, create_service_app
from xborder_platform.http.auth import issue_api_key
from xborder_platform.messaging.consumer import ConsumerSpec, HandlerContext
from xborder_platform.tracing import read_spans
from xborder_platform.uow import UnitOfWork, get_unit_of_work

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One spans file for the module: the first app that turns tracing on sets it per process."""
    return tmp_path_factory.mktemp("traces") / "spans.jsonl"


async def test_one_trace_spans_the_request_the_relay_and_the_consumer(
    service_database, kafka_bootstrap: str, kafka_namespace, traces: Path
) -> None:
    order_id = uuid.uuid4()
    completed = asyncio.Event()
    router = APIRouter()

    @router.post("/confirm", status_code=204)
    async def confirm(uow: Annotated[UnitOfWork, Depends(get_unit_of_work)]) -> None:
        async with uow:
            uow.emit(
                OrderConfirmed(
                    order_id=order_id,
                    confirmed_at=datetime.now(UTC),
                    payment_id=uuid.uuid4(),
                    shipping_quote_id=uuid.uuid4(),
                )
            )
            await uow.commit()

    async def on_confirmed(ctx: HandlerContext) -> None:
        now = datetime.now(UTC)
        ctx.emit(OrderCompleted(order_id=ctx.event.order_id, delivered_at=now, completed_at=now))

    async def on_completed(ctx: HandlerContext) -> None:
        completed.set()

    spec = ServiceSpec(
        name="order-svc",
        title="traced",
        description="tracing test",
        routers=[router],
        outbox=outbox,
        inbox=inbox,
        consumers=[
            ConsumerSpec(
                group="tracing",
                topics=[ORDERS],
                handlers={
                    OrderConfirmed.event_type(): on_confirmed,
                    OrderCompleted.event_type(): on_completed,
                },
            )
        ],
    )
    settings = Settings(
        database_url=await service_database("order_svc"),
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_topic_prefix=await kafka_namespace(),
        traces_file=str(traces),
        relay_poll_interval_s=0.1,
        consumer_fetch_max_wait_ms=10,
        consumer_session_timeout_ms=6_000,
        consumer_heartbeat_interval_ms=1_000,
    )
    app = create_service_app(spec, settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            assert (await client.post("/confirm")).status_code == 204
        await asyncio.wait_for(completed.wait(), timeout=60)
    provider = trace.get_tracer_provider()
    provider.force_flush()  # type: ignore[attr-defined]

    spans = [
        s
        for s in read_spans(traces)
        if s["attributes"].get("xborder.order_id", str(order_id)) == str(order_id)
    ]
    by_name = {s["name"]: s for s in spans}
    http = next(s for s in spans if s["kind"] == "SpanKind.SERVER" and "/confirm" in s["name"])
    trace_id = http["context"]["trace_id"]
    for name in (
        f"process {OrderConfirmed.event_type()}",
        f"process {OrderCompleted.event_type()}",
    ):
        assert by_name[name]["context"]["trace_id"] == trace_id, name
    publishes = [s for s in spans if s["name"].startswith("publish ")]
    assert len(publishes) == 2
    assert all(s["context"]["trace_id"] == trace_id for s in publishes)
    # The second event was emitted while processing the first: its consumer span descends from it.
    first = by_name[f"process {OrderConfirmed.event_type()}"]
    second = by_name[f"process {OrderCompleted.event_type()}"]
    assert second["parent_id"] == first["context"]["span_id"]


ORDER = {
    "buyer": {"name": "Ana Souza", "email": "ana@example.com"},
    "ship_from_country": "CN",
    "ship_to": {
        "name": "Ana Souza", "line1": "1 Main St", "city": "Austin", "postal_code": "78701",
        "country": "US",
    },
    "items": [
        {"sku": "CASE-1", "title": "Phone case", "hs_code": "392690", "origin_country": "CN",
         "quantity": 1, "unit_price": "12.50", "weight_grams": 80},
    ],
    "currency": "USD",
    "incoterm": "DAP",
    "shipping": {"quote_id": str(uuid.uuid4()), "price": "7.90"},
    "payment": {"method": "card", "provider": "sandbox", "token": "tok_visa"},
}  # fmt: skip


async def test_a_trace_follows_an_order_from_order_svc_into_payment_svc(
    service_database, kafka_bootstrap: str, kafka_namespace, traces: Path
) -> None:
    """order-svc's HTTP span and payment-svc's consumer span share one trace id."""
    prefix = await kafka_namespace()
    common = {
        "kafka_bootstrap_servers": kafka_bootstrap,
        "kafka_topic_prefix": prefix,
        "traces_file": str(traces),
        "relay_poll_interval_s": 0.1,
        "consumer_fetch_max_wait_ms": 10,
        "consumer_session_timeout_ms": 6_000,
        "consumer_heartbeat_interval_ms": 1_000,
    }
    order_app = import_module("order_svc.bootstrap").create_app(
        Settings(database_url=await service_database("order_svc"), **common)
    )
    payment_settings = import_module("payment_svc.config").Settings(
        database_url=await service_database("payment_svc"), **common
    )
    payment_app = import_module("payment_svc.bootstrap").create_app(payment_settings)
    async with LifespanManager(order_app) as orders, LifespanManager(payment_app):
        async with order_app.state.engine.begin() as conn:
            key, _ = await issue_api_key(conn, role="storefront", merchant_id="m-1")
        transport = httpx.ASGITransport(app=orders.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            placed = await client.post(
                "/v1/orders",
                json=ORDER,
                headers={"X-API-Key": key, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert placed.status_code == 201, placed.text
            order_id = placed.json()["id"]

            async def paid() -> bool:
                view = await client.get(f"/v1/orders/{order_id}", headers={"X-API-Key": key})
                return view.json()["status"] not in ("placed",)

            for _ in range(400):
                if await paid():
                    break
                await asyncio.sleep(0.05)
    trace.get_tracer_provider().force_flush()  # type: ignore[attr-defined]

    spans = read_spans(traces)
    consumed = [
        s for s in spans
        if s["name"] == "process xborder.OrderPlaced.v1"
        and s["attributes"].get("xborder.order_id") == order_id
        and s["attributes"].get("messaging.consumer.group.name", "").endswith("payment-svc")
    ]  # fmt: skip
    assert consumed, "payment-svc did not process the order's OrderPlaced under a span"
    trace_id = consumed[0]["context"]["trace_id"]
    http = [
        s for s in spans
        if s["kind"] == "SpanKind.SERVER" and s["name"].startswith("POST /v1/orders")
        and s["context"]["trace_id"] == trace_id
    ]  # fmt: skip
    assert len(http) == 1, [s["name"] for s in spans if s["context"]["trace_id"] == trace_id]
