"""The events customs-svc reacts to, and the use case each one runs."""

from __future__ import annotations

from customs_svc.config import SERVICE_NAME
from customs_svc.service_layer import cancellation, checkpoints, precheck
from customs_svc.service_layer.context import CustomsContext
from xborder_events.orders import OrderCancelled, OrderPlaced
from xborder_events.shipping import ParcelArrivedAtDestination, ParcelDispatched
from xborder_events.topics import ORDERS, SHIPPING
from xborder_platform.messaging.consumer import ConsumerSpec, Handler, HandlerContext


def consumer_spec(ctx: CustomsContext) -> ConsumerSpec:
    """One consumer group over orders and shipping: pre-check, checkpoints, cancellations."""

    async def order_placed(h: HandlerContext) -> None:
        assert isinstance(h.event, OrderPlaced)
        await precheck.on_order_placed(ctx, h.conn, h.emit, h.event)

    async def order_cancelled(h: HandlerContext) -> None:
        assert isinstance(h.event, OrderCancelled)
        await cancellation.on_order_cancelled(ctx, h.conn, h.event)

    async def dispatched(h: HandlerContext) -> None:
        assert isinstance(h.event, ParcelDispatched)
        await checkpoints.on_parcel_dispatched(ctx, h.conn, h.event)

    async def arrived(h: HandlerContext) -> None:
        assert isinstance(h.event, ParcelArrivedAtDestination)
        await checkpoints.on_parcel_arrived(ctx, h.conn, h.event)

    handlers: dict[str, Handler] = {
        OrderPlaced.event_type(): order_placed,
        OrderCancelled.event_type(): order_cancelled,
        ParcelDispatched.event_type(): dispatched,
        ParcelArrivedAtDestination.event_type(): arrived,
    }
    return ConsumerSpec(group=SERVICE_NAME, topics=[ORDERS, SHIPPING], handlers=handlers)
