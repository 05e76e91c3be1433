"""Dispatch: the carrier takes the parcel, at booking or on the day capacity allows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.carriers.base import Parcel
from shipping_svc.adapters.shipments_repo import add_timeline, due_for_dispatch, save_shipment
from shipping_svc.domain.shipment import OrderInfo, Shipment
from shipping_svc.domain.tracking import ShipmentStatus
from shipping_svc.service_layer import integration
from shipping_svc.service_layer.context import Emit, ShippingContext
from shipping_svc.service_layer.timeline import entry
from shipping_svc.service_layer.tracking import apply_buffered, lock
from xborder_platform.uow import UnitOfWorkFactory


async def dispatch(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    order: OrderInfo,
    shipment: Shipment,
) -> None:
    """The carrier takes the parcel; scans that came early may now apply."""
    now = ctx.clock.now()
    shipment.status = ShipmentStatus.DISPATCHED
    shipment.dispatched_at = now
    await save_shipment(conn, shipment)
    await add_timeline(
        conn,
        [
            entry(
                shipment,
                status="dispatched",
                source="shipping",
                description="Handed over to the carrier",
                occurred_at=now,
                location={"country": shipment.lane.origin},
            )
        ],
    )
    emit(integration.dispatched(shipment, at=now))
    service = ctx.catalog.version(shipment.service_key, now.date())
    assert service is not None
    assert shipment.tracking_number is not None
    parcel = Parcel(shipment.id, shipment.order_id, shipment.tracking_number, service, now)
    await ctx.carrier(shipment.carrier).hand_over(conn, parcel)
    await apply_buffered(ctx, conn, emit, order, shipment)


async def dispatch_due(ctx: ShippingContext, uow_factory: UnitOfWorkFactory, *, limit: int) -> int:
    """Dispatch the bookings whose day has come (each in its own transaction)."""
    today = ctx.clock.now().date()
    async with uow_factory() as uow:
        due = await due_for_dispatch(uow.conn, today=today, limit=limit)
    dispatched = 0
    for order_id in due:
        async with uow_factory() as uow:
            found = await lock(uow.conn, order_id)
            if found is None:
                continue
            order, shipment = found
            if shipment is None:
                continue
            if shipment.status is ShipmentStatus.BOOKED and shipment.ship_date <= today:
                await dispatch(ctx, uow.conn, uow.emit, order, shipment)
                await uow.commit()
                dispatched += 1
    return dispatched
