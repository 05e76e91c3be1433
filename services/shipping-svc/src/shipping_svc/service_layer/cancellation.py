"""Cancellation of a booking before dispatch: on OrderCancelled, or over HTTP."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.orders_repo import update_order
from shipping_svc.adapters.shipments_repo import (
    add_timeline,
    release_capacity,
    save_shipment,
    shipment_by_id,
)
from shipping_svc.domain.shipment import Shipment
from shipping_svc.domain.tracking import ShipmentStatus
from shipping_svc.service_layer import errors, integration
from shipping_svc.service_layer.context import Emit, ShippingContext
from shipping_svc.service_layer.timeline import entry
from shipping_svc.service_layer.tracking import lock
from xborder_events.orders import OrderCancelled


async def cancel_for_order(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, event: OrderCancelled
) -> None:
    """The order was cancelled: cancel its booking if the parcel was not dispatched."""
    found = await lock(conn, event.order_id)
    if found is None:
        return
    order, shipment = found
    await update_order(conn, order.order_id, cancelled_at=event.cancelled_at)
    if shipment is None:
        await update_order(conn, order.order_id, ship_to=None)
        return
    if shipment.status is ShipmentStatus.BOOKED:
        await _cancel_booking(ctx, conn, emit, shipment, reason="order_cancelled")
        return
    if shipment.status not in (ShipmentStatus.CANCELLED, ShipmentStatus.REJECTED):
        await add_timeline(
            conn,
            [
                entry(
                    shipment,
                    status="note",
                    source="shipping",
                    description="The order was cancelled after dispatch; the parcel travels on",
                    occurred_at=ctx.clock.now(),
                )
            ],
        )


async def cancel_shipment(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    *,
    shipment_id: uuid.UUID,
    merchant_id: str | None,
) -> Shipment:
    """Cancel a booking over HTTP (before dispatch); cancelling it again changes nothing."""
    found = await shipment_by_id(conn, shipment_id)
    if found is None or (merchant_id is not None and found.merchant_id != merchant_id):
        raise errors.ShipmentNotFound(f"No shipment {shipment_id}.")
    locked = await lock(conn, found.order_id)
    assert locked is not None
    assert locked[1] is not None
    shipment = locked[1]
    if shipment.status is ShipmentStatus.CANCELLED:
        return shipment
    if shipment.status is not ShipmentStatus.BOOKED:
        raise errors.NotCancellable(
            f"Shipment {shipment_id} is {shipment.status.value}: only a booking not yet "
            "dispatched can be cancelled.",
            shipment_status=shipment.status.value,
        )
    await _cancel_booking(ctx, conn, emit, shipment, reason="merchant_request")
    return shipment


async def _cancel_booking(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    shipment: Shipment,
    *,
    reason: Literal["order_cancelled", "merchant_request"],
) -> None:
    now = ctx.clock.now()
    await ctx.carrier(shipment.carrier).cancel(conn, shipment_id=shipment.id)
    await release_capacity(conn, service_key=shipment.service_key, day=shipment.ship_date)
    shipment.status = ShipmentStatus.CANCELLED
    shipment.status_reason = reason
    shipment.closed_at = now
    await save_shipment(conn, shipment)
    await update_order(conn, shipment.order_id, ship_to=None)
    words = "the order was cancelled" if reason == "order_cancelled" else "cancelled on request"
    await add_timeline(
        conn,
        [
            entry(
                shipment,
                status="cancelled",
                source="shipping",
                description=f"Booking cancelled: {words}",
                occurred_at=now,
            )
        ],
    )
    emit(integration.cancelled(shipment, reason=reason, at=now))
