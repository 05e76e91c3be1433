"""Customs decisions: the gates the parcel waits at, holds, returns and confiscation."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.carriers.base import Parcel
from shipping_svc.adapters.orders_repo import update_order
from shipping_svc.adapters.shipments_repo import add_timeline, save_shipment
from shipping_svc.domain.eta import window
from shipping_svc.domain.shipment import Shipment
from shipping_svc.domain.tracking import TERMINAL, ShipmentStatus
from shipping_svc.service_layer import integration
from shipping_svc.service_layer.context import Emit, ShippingContext
from shipping_svc.service_layer.timeline import entry
from shipping_svc.service_layer.tracking import apply_buffered, close, lock
from xborder_events.customs import (
    ExportCleared,
    ParcelConfiscated,
    ParcelHeldAtCustoms,
    ParcelReleased,
    ParcelReturnOrdered,
)

_HOLD_REASONS = {
    "documents_required": "documents required",
    "valuation_query": "valuation query",
    "restricted_goods": "restricted goods",
    "inspection": "inspection",
    "duties_unpaid": "duties unpaid",
}


async def _note(
    conn: AsyncConnection, shipment: Shipment, status: str, words: str, at: datetime
) -> None:
    await add_timeline(
        conn,
        [entry(shipment, status=status, source="customs", description=words, occurred_at=at)],
    )


async def on_export_cleared(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, event: ExportCleared
) -> None:
    """The parcel may leave the origin country: apply the scans that waited for it."""
    await _open_gate(
        ctx, conn, emit, event.order_id, "export_cleared_at", event.cleared_at,
        status="export_cleared", words=f"Export customs cleared ({event.country})",
    )  # fmt: skip


async def on_released(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, event: ParcelReleased
) -> None:
    """Import customs released the parcel: last-mile delivery may start."""
    await _open_gate(
        ctx, conn, emit, event.order_id, "released_at", event.released_at,
        status="released", words=f"Released by import customs ({event.country})",
    )  # fmt: skip


async def _open_gate(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    order_id: UUID,
    column: str,
    at: datetime,
    *,
    status: str,
    words: str,
) -> None:
    found = await lock(conn, order_id)
    if found is None:
        return
    order, shipment = found
    if getattr(order, column) is not None:
        return
    setattr(order, column, at)
    await update_order(conn, order.order_id, **{column: at})
    if shipment is None or shipment.status in TERMINAL:
        return
    await _note(conn, shipment, status, words, at)
    await apply_buffered(ctx, conn, emit, order, shipment)


async def on_held(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, event: ParcelHeldAtCustoms
) -> None:
    """Customs holds the parcel: show it, and push the ETA by the time the hold may take."""
    found = await lock(conn, event.order_id)
    if found is None or found[1] is None or found[1].status in TERMINAL:
        return
    shipment = found[1]
    reason = _HOLD_REASONS.get(event.reason, event.reason)
    await _note(
        conn, shipment, "held_at_customs",
        f"Held by {event.checkpoint} customs ({event.country}): {reason}", event.held_at,
    )  # fmt: skip
    hold_days = math.ceil((event.respond_by - event.held_at).total_seconds() / 86_400)
    previous = shipment.window
    shipment.delay_days += max(hold_days, 0)
    new = window(
        shipment.ship_date,
        shipment.estimate,
        widen_days=shipment.widen_days,
        delay_days=shipment.delay_days,
    )
    shipment.eta_p50, shipment.eta_p90 = new.p50, new.p90
    await save_shipment(conn, shipment)
    if new != previous:
        emit(
            integration.estimate_revised(
                shipment, previous=previous, reason="customs_hold", at=ctx.clock.now()
            )
        )


async def on_return_ordered(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, event: ParcelReturnOrdered
) -> None:
    """Customs sends the parcel back: the carrier starts the return leg."""
    found = await lock(conn, event.order_id)
    if found is None:
        return
    order, shipment = found
    if order.return_ordered_at is None:
        order.return_ordered_at = event.ordered_at
        await update_order(conn, order.order_id, return_ordered_at=event.ordered_at)
    if (
        shipment is None
        or shipment.status in TERMINAL
        or shipment.status
        in (
            ShipmentStatus.BOOKED,
            ShipmentStatus.RETURNING,
        )
    ):
        return
    shipment.status = ShipmentStatus.RETURNING
    shipment.status_reason = f"return ordered by {event.checkpoint} customs: {event.reason}"
    await save_shipment(conn, shipment)
    await _note(
        conn, shipment, "return_ordered",
        f"Return to sender ordered by {event.checkpoint} customs ({event.country})",
        event.ordered_at,
    )  # fmt: skip
    await _carrier_return(ctx, conn, shipment, checkpoint=event.checkpoint, since=event.ordered_at)
    await apply_buffered(ctx, conn, emit, order, shipment)


async def _carrier_return(
    ctx: ShippingContext,
    conn: AsyncConnection,
    shipment: Shipment,
    *,
    checkpoint: Literal["export", "import"],
    since: datetime,
) -> None:
    service = ctx.catalog.version(shipment.service_key, ctx.clock.now().date())
    if service is None or shipment.tracking_number is None or shipment.dispatched_at is None:
        return
    parcel = Parcel(
        shipment.id, shipment.order_id, shipment.tracking_number, service, shipment.dispatched_at
    )
    await ctx.carrier(shipment.carrier).order_return(
        conn, parcel, checkpoint=checkpoint, since=since
    )


async def on_confiscated(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, event: ParcelConfiscated
) -> None:
    """Customs seized the parcel: the shipment closes; scans that waited are discarded."""
    found = await lock(conn, event.order_id)
    if found is None:
        return
    order, shipment = found
    if order.confiscated_at is None:
        await update_order(conn, order.order_id, confiscated_at=event.confiscated_at)
    if shipment is None or shipment.status in TERMINAL:
        return
    shipment.status = ShipmentStatus.CONFISCATED
    shipment.status_reason = f"confiscated by {event.checkpoint} customs: {event.reason}"
    await close(conn, shipment, at=ctx.clock.now())
    await save_shipment(conn, shipment)
    await _note(
        conn, shipment, "confiscated",
        f"Confiscated by {event.checkpoint} customs ({event.country})", event.confiscated_at,
    )  # fmt: skip
    await ctx.carrier(shipment.carrier).abandon(conn, shipment_id=shipment.id)
    await apply_buffered(ctx, conn, emit, order, shipment)
