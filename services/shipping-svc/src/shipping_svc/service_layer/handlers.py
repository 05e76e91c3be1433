"""Every event shipping-svc reacts to, and its handler: one table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from shipping_svc.config import SERVICE_NAME
from shipping_svc.service_layer import booking, cancellation, customs
from shipping_svc.service_layer.context import ShippingContext
from xborder_events import Event
from xborder_events.customs import (
    ExportCleared,
    ParcelConfiscated,
    ParcelHeldAtCustoms,
    ParcelReleased,
    ParcelReturnOrdered,
)
from xborder_events.orders import OrderCancelled, OrderConfirmed, OrderPlaced
from xborder_events.topics import CUSTOMS, ORDERS
from xborder_platform.messaging.consumer import ConsumerSpec, Handler, HandlerContext

E = TypeVar("E", bound=Event)
UseCase = Callable[[ShippingContext, HandlerContext, E], Awaitable[object]]


def _handler(ctx: ShippingContext, event_type: type[E], use_case: UseCase[E]) -> Handler:
    async def handle(h: HandlerContext) -> None:
        event = h.event
        assert isinstance(event, event_type)
        await use_case(ctx, h, event)

    return handle


async def _placed(_: ShippingContext, h: HandlerContext, event: OrderPlaced) -> None:
    await booking.record_order(h.conn, event)


def consumer_spec(ctx: ShippingContext) -> ConsumerSpec:
    """shipping-svc's consumer group: orders (placement, confirmation, cancellation) and
    customs decisions (gates, holds, returns, confiscation)."""
    table: list[tuple[type[Event], UseCase]] = [  # type: ignore[type-arg]
        (OrderPlaced, _placed),
        (OrderConfirmed, lambda c, h, e: booking.book_confirmed_order(c, h.conn, h.emit, e)),
        (OrderCancelled, lambda c, h, e: cancellation.cancel_for_order(c, h.conn, h.emit, e)),
        (ExportCleared, lambda c, h, e: customs.on_export_cleared(c, h.conn, h.emit, e)),
        (ParcelReleased, lambda c, h, e: customs.on_released(c, h.conn, h.emit, e)),
        (ParcelHeldAtCustoms, lambda c, h, e: customs.on_held(c, h.conn, h.emit, e)),
        (ParcelReturnOrdered, lambda c, h, e: customs.on_return_ordered(c, h.conn, h.emit, e)),
        (ParcelConfiscated, lambda c, h, e: customs.on_confiscated(c, h.conn, h.emit, e)),
    ]
    return ConsumerSpec(
        group=SERVICE_NAME,
        topics=[ORDERS, CUSTOMS],
        handlers={cls.event_type(): _handler(ctx, cls, use_case) for cls, use_case in table},
    )
