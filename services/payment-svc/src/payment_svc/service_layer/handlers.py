"""The events payment-svc reacts to, and the use case each one runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from payment_svc.domain.policy import RefundTrigger
from payment_svc.service_layer.charging import on_order_placed
from payment_svc.service_layer.context import Services, Tx
from payment_svc.service_layer.refunding import on_order_cancelled, on_parcel_outcome
from xborder_events import Event
from xborder_events.customs import ParcelConfiscated
from xborder_events.orders import OrderCancelled, OrderPlaced
from xborder_events.shipping import ParcelReturnedToSender

EventHandler = Callable[[Tx, Event, Services], Awaitable[None]]


async def _placed(tx: Tx, event: Event, svc: Services) -> None:
    assert isinstance(event, OrderPlaced)
    await on_order_placed(tx, event, svc)


async def _cancelled(tx: Tx, event: Event, svc: Services) -> None:
    assert isinstance(event, OrderCancelled)
    await on_order_cancelled(tx, event.order_id, svc)


async def _returned(tx: Tx, event: Event, svc: Services) -> None:
    assert isinstance(event, ParcelReturnedToSender)
    await on_parcel_outcome(tx, event.order_id, RefundTrigger.PARCEL_RETURNED, svc)


async def _confiscated(tx: Tx, event: Event, svc: Services) -> None:
    assert isinstance(event, ParcelConfiscated)
    await on_parcel_outcome(tx, event.order_id, RefundTrigger.PARCEL_CONFISCATED, svc)


#: Every event payment-svc consumes, and its handler.
HANDLERS: dict[type[Event], EventHandler] = {
    OrderPlaced: _placed,
    OrderCancelled: _cancelled,
    ParcelReturnedToSender: _returned,
    ParcelConfiscated: _confiscated,
}
