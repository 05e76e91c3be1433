"""Bookings: keep what OrderPlaced says, book on OrderConfirmed within the lane's daily
capacity, and dispatch at once when today has room."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.orders_repo import insert_order, update_order
from shipping_svc.adapters.shipments_repo import (
    add_timeline,
    insert_shipment,
    reserve_capacity,
)
from shipping_svc.adapters.tracking_repo import get_quote, stats_for
from shipping_svc.domain.booking import Choice, QuoteRef, backlog_widening, choose_service
from shipping_svc.domain.catalog import LaneKey, Service
from shipping_svc.domain.eta import Basis, estimate, window
from shipping_svc.domain.money import quantize
from shipping_svc.domain.shipment import OrderInfo, Shipment
from shipping_svc.domain.tracking import ShipmentStatus
from shipping_svc.service_layer import integration
from shipping_svc.service_layer.context import Emit, ShippingContext
from shipping_svc.service_layer.dispatch import dispatch
from shipping_svc.service_layer.timeline import entry
from shipping_svc.service_layer.tracking import lock
from xborder_events.orders import OrderConfirmed, OrderPlaced


class OrderNotKnown(RuntimeError):
    """OrderConfirmed arrived for an order whose OrderPlaced shipping never saw."""


async def record_order(conn: AsyncConnection, event: OrderPlaced) -> None:
    """Keep what a booking will need from OrderPlaced."""
    order = OrderInfo(
        order_id=event.order_id,
        merchant_id=event.merchant_id,
        lane=LaneKey(event.ship_from_country, event.ship_to_country),
        weight_grams=event.weight_grams,
        declared_value=event.totals.items.amount,
        currency=event.currency,
        shipping_quote_id=event.shipping_quote_id,
        placed_at=event.placed_at,
    )
    await insert_order(conn, order, ship_to=event.ship_to.model_dump(mode="json"))


async def book_confirmed_order(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, event: OrderConfirmed
) -> Shipment | None:
    """Book the order's parcel (once); the order was paid, so a bad quote does not stop it."""
    found = await lock(conn, event.order_id)
    if found is None:
        raise OrderNotKnown(f"OrderConfirmed for {event.order_id} before its OrderPlaced")
    order, existing = found
    if order.cancelled_at is not None or existing is not None:
        return existing
    await update_order(conn, order.order_id, confirmed_at=event.confirmed_at)
    return await book(ctx, conn, emit, order, quote_id=event.shipping_quote_id)


async def book(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    order: OrderInfo,
    *,
    quote_id: uuid.UUID,
) -> Shipment:
    """Book a carrier for the order; dispatch at once when today has capacity."""
    now = ctx.clock.now()
    today = now.date()
    quote = await _quote(conn, quote_id)
    choice = choose_service(
        ctx.catalog,
        lane=order.lane,
        weight_grams=order.weight_grams,
        quote=quote,
        placed_at=order.placed_at,
        day=today,
        currency=order.currency,
    )
    if choice is None:
        return await _reject(ctx, conn, emit, order, quote_id=quote_id, at=now)
    service = choice.service
    ship_date = await _reserve(ctx, conn, service, today)
    shipment = await _new_shipment(ctx, conn, order, choice, quote_id, ship_date=ship_date, at=now)
    waiting = (ship_date - today).days
    note = f"; the lane is at capacity, dispatch on {ship_date}" if waiting else ""
    carrier_name = ctx.carrier(service.carrier).carrier.name
    await add_timeline(
        conn,
        [
            entry(
                shipment,
                status="booked",
                source="shipping",
                description=f"Booked with {carrier_name} ({service.name}){note}",
                occurred_at=now,
            )
        ],
    )
    emit(integration.shipment_created(shipment, at=now))
    if ship_date <= today:
        await dispatch(ctx, conn, emit, order, shipment)
    return shipment


async def _quote(conn: AsyncConnection, quote_id: uuid.UUID) -> QuoteRef | None:
    row = await get_quote(conn, quote_id)
    if row is None:
        return None
    return QuoteRef(
        service_key=row.service_key,
        lane=LaneKey(row.origin, row.destination),
        weight_grams=row.weight_grams,
        price=quantize(row.price, row.currency),
        currency=row.currency,
        expires_at=row.expires_at,
    )


async def _reserve(
    ctx: ShippingContext, conn: AsyncConnection, service: Service, today: date
) -> date:
    """The first day from today with capacity left on the service (overbook the last one)."""
    horizon = ctx.policy.capacity_max_defer_days
    for offset in range(horizon + 1):
        day = today + timedelta(days=offset)
        if await reserve_capacity(
            conn, service_key=service.key, day=day, capacity=service.daily_capacity
        ):
            return day
    last = today + timedelta(days=horizon)
    await reserve_capacity(
        conn, service_key=service.key, day=last, capacity=service.daily_capacity, force=True
    )
    return last


async def _new_shipment(
    ctx: ShippingContext,
    conn: AsyncConnection,
    order: OrderInfo,
    choice: Choice,
    quote_id: uuid.UUID,
    *,
    ship_date: date,
    at: datetime,
) -> Shipment:
    service = choice.service
    observed = (await stats_for(conn, [service.key])).get(service.key)
    est = estimate(service.transit, observed, min_samples=ctx.policy.stats_min_samples)
    widen = backlog_widening(ship_date, at.date(), per_day=ctx.policy.capacity_widen_days)
    win = window(ship_date, est, widen_days=widen)
    shipment_id = uuid.uuid4()
    tracking_number = await ctx.carrier(service.carrier).book(
        conn, shipment_id=shipment_id, service=service, ship_date=ship_date
    )
    shipment = Shipment(
        id=shipment_id,
        order_id=order.order_id,
        merchant_id=order.merchant_id,
        service_key=service.key,
        carrier=service.carrier,
        service_code=service.code,
        service_name=service.name,
        tracking_quality=service.tracking.value,
        lane=order.lane,
        weight_grams=order.weight_grams,
        price=choice.price,
        price_currency=choice.currency if choice.price is not None else None,
        quote_id=quote_id,
        quote_status=choice.quote_status.value,
        tracking_number=tracking_number,
        status=ShipmentStatus.BOOKED,
        ship_date=ship_date,
        transit_p50_days=est.p50_days,
        transit_p90_days=est.p90_days,
        eta_basis=est.basis,
        widen_days=widen,
        delay_days=0,
        eta_p50=win.p50,
        eta_p90=win.p90,
        booked_at=at,
    )
    await insert_shipment(conn, shipment)
    return shipment


async def _reject(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    order: OrderInfo,
    *,
    quote_id: uuid.UUID,
    at: datetime,
) -> Shipment:
    """No service of the lane can carry the parcel: record it and tell the others."""
    reason = f"no service from {order.lane.origin} to {order.lane.destination} takes a " + (
        f"{order.weight_grams} g parcel"
    )
    shipment = Shipment(
        id=uuid.uuid4(),
        order_id=order.order_id,
        merchant_id=order.merchant_id,
        service_key="",
        carrier="",
        service_code="",
        service_name="",
        tracking_quality="none",
        lane=order.lane,
        weight_grams=order.weight_grams,
        price=None,
        price_currency=None,
        quote_id=quote_id,
        quote_status="mismatch",
        tracking_number=None,
        status=ShipmentStatus.REJECTED,
        ship_date=at.date(),
        transit_p50_days=0,
        transit_p90_days=0,
        eta_basis=Basis.PRIOR,
        widen_days=0,
        delay_days=0,
        eta_p50=at.date(),
        eta_p90=at.date(),
        booked_at=at,
        status_reason=reason,
        closed_at=at,
    )
    await insert_shipment(conn, shipment)
    await add_timeline(
        conn,
        [entry(shipment, status="rejected", source="shipping", description=reason, occurred_at=at)],
    )
    emit(integration.cancelled(shipment, reason="carrier_rejected", at=at))
    return shipment
