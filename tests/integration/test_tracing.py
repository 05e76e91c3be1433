"""One trace follows an order from an HTTP request through the broker into a consumer."""

import asyncio
import uuid
from datetime import UTC, datetime
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
from xborder_platform.messaging.consumer import ConsumerSpec, HandlerContext
from xborder_platform.tracing import read_spans
from xborder_platform.uow import UnitOfWork, get_unit_of_work

pytestmark = pytest.mark.integration


async def test_one_trace_spans_the_request_the_relay_and_the_consumer(
    service_database, kafka_bootstrap: str, kafka_namespace, tmp_path: Path
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
    traces = tmp_path / "spans.jsonl"
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
