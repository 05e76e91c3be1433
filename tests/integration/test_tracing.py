"""One trace follows an order from an HTTP request through the broker into every consumer.

The spans go to OpenTelemetry's `InMemorySpanExporter`, through a tracer provider this module
hands to `configure_tracing` (the composition root's way in): the apps built afterwards are
instrumented with it, whatever an earlier test of the process configured.
"""

import asyncio
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from importlib import import_module
from typing import Annotated, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from order_svc.adapters.tables import inbox, outbox
from order_svc.config import Settings
from xborder_events.orders import OrderCompleted, OrderConfirmed
from xborder_events.topics import ORDERS
from xborder_platform.app import ServiceSpec, create_service_app
from xborder_platform.http.auth import issue_api_key
from xborder_platform.messaging.consumer import ConsumerSpec, HandlerContext
from xborder_platform.tracing import configure_tracing, use_tracer_provider
from xborder_platform.uow import UnitOfWork, get_unit_of_work

pytestmark = pytest.mark.integration

FAST = {
    "relay_poll_interval_s": 0.1,
    "consumer_fetch_max_wait_ms": 10,
    "consumer_session_timeout_ms": 6_000,
    "consumer_heartbeat_interval_ms": 1_000,
}


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Every span of the apps the test builds, kept in memory; tracing as before afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "xborder-tests"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = use_tracer_provider(None)
    assert configure_tracing("xborder-tests", tracer_provider=provider) is provider
    yield exporter
    use_tracer_provider(previous)
    provider.shutdown()


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


def attribute(span: ReadableSpan, name: str) -> str:
    return str((span.attributes or {}).get(name, ""))


async def wait_for_span(
    exporter: InMemorySpanExporter, found: Callable[[ReadableSpan], bool], *, timeout: float = 90
) -> ReadableSpan:
    """The first finished span `found` accepts, waiting for it as the services work."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for span in exporter.get_finished_spans():
            if found(span):
                return span
        if asyncio.get_running_loop().time() > deadline:
            names = sorted({s.name for s in exporter.get_finished_spans()})
            raise AssertionError(f"no such span within {timeout}s; spans seen: {names}")
        await asyncio.sleep(0.05)


async def test_one_trace_spans_the_request_the_relay_and_the_consumer(
    service_database, kafka_bootstrap: str, kafka_namespace, exporter: InMemorySpanExporter
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
        **FAST,
    )
    app = create_service_app(spec, settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            assert (await client.post("/confirm")).status_code == 204
        await asyncio.wait_for(completed.wait(), timeout=60)

    spans = [
        s
        for s in exporter.get_finished_spans()
        if attribute(s, "xborder.order_id") in ("", str(order_id))
    ]
    by_name = {s.name: s for s in spans}
    http = next(s for s in spans if s.kind is SpanKind.SERVER and "/confirm" in s.name)
    for name in (
        f"process {OrderConfirmed.event_type()}",
        f"process {OrderCompleted.event_type()}",
    ):
        assert trace_id(by_name[name]) == trace_id(http), name
    publishes = [s for s in spans if s.name.startswith("publish ")]
    assert len(publishes) == 2
    assert all(trace_id(s) == trace_id(http) for s in publishes)
    # The second event was emitted while processing the first: its consumer span descends from it.
    first = by_name[f"process {OrderConfirmed.event_type()}"]
    second = by_name[f"process {OrderCompleted.event_type()}"]
    assert second.parent is not None
    assert first.context is not None
    assert second.parent.span_id == first.context.span_id


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

SERVICES = ("order_svc", "payment_svc", "customs_svc", "shipping_svc")


async def build(module: str, database_url: str, common: dict[str, Any]) -> FastAPI:
    settings = import_module(f"{module}.config").Settings(database_url=database_url, **common)
    app: FastAPI = import_module(f"{module}.bootstrap").create_app(settings)
    return app


def consumed_by(service: str, event: str, order_id: str) -> Callable[[ReadableSpan], bool]:
    def found(span: ReadableSpan) -> bool:
        return (
            span.kind is SpanKind.CONSUMER
            and span.name == f"process {event}"
            and attribute(span, "xborder.order_id") == order_id
            and attribute(span, "messaging.consumer.group.name").endswith(service)
        )

    return found


def names_in(spans: Sequence[ReadableSpan], trace: int) -> list[str]:
    return [s.name for s in spans if trace_id(s) == trace]


async def test_a_trace_follows_an_order_from_its_request_to_shipment_created(
    service_database, kafka_bootstrap: str, kafka_namespace, exporter: InMemorySpanExporter
) -> None:
    """order-svc's HTTP span, payment-svc's and shipping-svc's consumer spans and the
    publication of ShipmentCreated share one trace id, across the broker."""
    common = {
        "kafka_bootstrap_servers": kafka_bootstrap,
        "kafka_topic_prefix": await kafka_namespace(),
        **FAST,
    }
    apps = [await build(m, await service_database(m), common) for m in SERVICES]
    order_app = apps[0]
    async with AsyncExitStack() as stack:
        managers = [await stack.enter_async_context(LifespanManager(app)) for app in apps]
        async with order_app.state.engine.begin() as conn:
            key, _ = await issue_api_key(conn, role="storefront", merchant_id="m-1")
        transport = httpx.ASGITransport(app=managers[0].app)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://svc")
        )
        placed = await client.post(
            "/v1/orders",
            json=ORDER,
            headers={"X-API-Key": key, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["id"]
        paid = await wait_for_span(
            exporter, consumed_by("payment-svc", "xborder.OrderPlaced.v1", order_id)
        )
        booked = await wait_for_span(
            exporter, consumed_by("shipping-svc", "xborder.OrderConfirmed.v1", order_id)
        )
        shipment_learned = await wait_for_span(
            exporter, consumed_by("order-svc", "xborder.ShipmentCreated.v1", order_id)
        )

    spans = exporter.get_finished_spans()
    trace = trace_id(paid)
    http = [
        s
        for s in spans
        if s.kind is SpanKind.SERVER and s.name.startswith("POST /v1/orders")
        and trace_id(s) == trace
    ]  # fmt: skip
    assert len(http) == 1, names_in(spans, trace)
    assert trace_id(booked) == trace, names_in(spans, trace)
    assert trace_id(shipment_learned) == trace, names_in(spans, trace)
    # ShipmentCreated's publication is in the trace, and the consumer's span descends, hop by
    # hop, from shipping-svc's processing, payment-svc's, and the request.
    message_id = attribute(shipment_learned, "messaging.message.id")
    published = [
        s
        for s in spans
        if s.kind is SpanKind.PRODUCER and attribute(s, "messaging.message.id") == message_id
    ]
    assert [trace_id(s) for s in published] == [trace], names_in(spans, trace)
    chain = ancestors(shipment_learned, spans)
    names = [(s.name, attribute(s, "messaging.consumer.group.name")) for s in chain]
    assert chain[0] is booked, names
    assert chain[-1] is http[0], names
    # In between: order-svc confirming the order on the second of payment and customs' outcomes,
    # and that service's processing of OrderPlaced (whichever came second).
    between = chain[1:-1]
    assert all(s.kind is SpanKind.CONSUMER for s in between), names
    assert attribute(between[0], "messaging.consumer.group.name").endswith("order-svc"), names
    assert between[-1].name == "process xborder.OrderPlaced.v1", names
    assert attribute(between[-1], "messaging.consumer.group.name").endswith(
        ("payment-svc", "customs-svc")
    ), names


def ancestors(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """`span`'s parent, its parent's parent, and so on up to the root (all in `spans`)."""
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    chain: list[ReadableSpan] = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain
