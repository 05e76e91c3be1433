"""Shipments, their timeline and the capacity they take, in SQLAlchemy Core."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.tables import capacity_usage, shipments, tracking_events
from shipping_svc.domain.catalog import LaneKey
from shipping_svc.domain.eta import Basis
from shipping_svc.domain.money import quantize
from shipping_svc.domain.shipment import Shipment
from shipping_svc.domain.tracking import IN_FLIGHT, ShipmentStatus

_COLUMNS = [f.name for f in fields(Shipment) if f.name != "lane"]


def _shipment(row: Row[Any]) -> Shipment:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["status"] = ShipmentStatus(row.status)
    values["eta_basis"] = Basis(row.eta_basis)
    if row.price is not None and row.price_currency:
        values["price"] = quantize(row.price, row.price_currency)
    return Shipment(lane=LaneKey(row.origin, row.destination), **values)


def _values(shipment: Shipment) -> dict[str, Any]:
    values = {name: getattr(shipment, name) for name in _COLUMNS}
    values["status"] = shipment.status.value
    values["eta_basis"] = shipment.eta_basis.value
    values["origin"], values["destination"] = shipment.lane.origin, shipment.lane.destination
    return values


async def insert_shipment(conn: AsyncConnection, shipment: Shipment) -> None:
    """Store a new shipment."""
    await conn.execute(shipments.insert().values(**_values(shipment)))


async def save_shipment(conn: AsyncConnection, shipment: Shipment) -> None:
    """Write a shipment's current state."""
    values = _values(shipment)
    del values["id"]
    await conn.execute(
        update(shipments)
        .where(shipments.c.id == shipment.id)
        .values(**values, updated_at=func.now())
    )


async def shipment_for_order(conn: AsyncConnection, order_id: UUID) -> Shipment | None:
    """The order's shipment, if it has one."""
    row = (await conn.execute(select(shipments).where(shipments.c.order_id == order_id))).first()
    return None if row is None else _shipment(row)


async def shipment_by_id(conn: AsyncConnection, shipment_id: UUID) -> Shipment | None:
    """A shipment by its id."""
    row = (await conn.execute(select(shipments).where(shipments.c.id == shipment_id))).first()
    return None if row is None else _shipment(row)


async def shipment_by_tracking_number(
    conn: AsyncConnection, tracking_number: str
) -> Shipment | None:
    """A shipment by its carrier tracking number."""
    row = (
        await conn.execute(select(shipments).where(shipments.c.tracking_number == tracking_number))
    ).first()
    return None if row is None else _shipment(row)


async def due_for_dispatch(conn: AsyncConnection, *, today: date, limit: int) -> list[UUID]:
    """Orders whose booked shipment's dispatch day has come."""
    rows = await conn.execute(
        select(shipments.c.order_id)
        .where(shipments.c.status == ShipmentStatus.BOOKED.value, shipments.c.ship_date <= today)
        .order_by(shipments.c.ship_date, shipments.c.booked_at)
        .limit(limit)
    )
    return [row.order_id for row in rows]


async def revision_candidates(
    conn: AsyncConnection,
    *,
    service_key: str,
    p50_days: int,
    p90_days: int,
    threshold_days: int,
    exclude_order: UUID,
    limit: int,
) -> list[UUID]:
    """Orders of parcels in flight on a service whose estimate differs materially from this."""
    rows = await conn.execute(
        select(shipments.c.order_id)
        .where(
            shipments.c.service_key == service_key,
            shipments.c.status.in_([s.value for s in IN_FLIGHT]),
            shipments.c.order_id != exclude_order,
            or_(
                func.abs(shipments.c.transit_p50_days - p50_days) >= threshold_days,
                func.abs(shipments.c.transit_p90_days - p90_days) >= threshold_days,
            ),
        )
        .order_by(shipments.c.booked_at)
        .limit(limit)
    )
    return [row.order_id for row in rows]


async def list_shipments(
    conn: AsyncConnection,
    *,
    merchant_id: str | None,
    order_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Shipment]:
    """Shipments oldest first, filtered, after a (booked_at, id) cursor."""
    query = select(shipments).order_by(shipments.c.booked_at, shipments.c.id).limit(limit)
    if merchant_id is not None:
        query = query.where(shipments.c.merchant_id == merchant_id)
    if order_id is not None:
        query = query.where(shipments.c.order_id == order_id)
    if after is not None:
        query = query.where(tuple_(shipments.c.booked_at, shipments.c.id) > tuple_(*after))
    return [_shipment(row) for row in await conn.execute(query)]


async def add_timeline(conn: AsyncConnection, entries: list[dict[str, Any]]) -> None:
    """Append entries to shipments' timelines."""
    if entries:
        await conn.execute(tracking_events.insert(), entries)


async def timeline(conn: AsyncConnection, shipment_id: UUID) -> list[Row[Any]]:
    """A shipment's timeline in the order things happened."""
    rows = await conn.execute(
        select(tracking_events)
        .where(tracking_events.c.shipment_id == shipment_id)
        .order_by(tracking_events.c.occurred_at, tracking_events.c.id)
    )
    return list(rows)


async def reserve_capacity(
    conn: AsyncConnection, *, service_key: str, day: date, capacity: int, force: bool = False
) -> bool:
    """Take one parcel of a service's capacity on `day`; False when that day is full."""
    stmt = insert(capacity_usage).values(service_key=service_key, ship_date=day, booked=1)
    guard = None if force else capacity_usage.c.booked < capacity
    stmt = stmt.on_conflict_do_update(
        index_elements=[capacity_usage.c.service_key, capacity_usage.c.ship_date],
        set_={"booked": capacity_usage.c.booked + 1},
        where=guard,
    )
    result = await conn.execute(stmt.returning(capacity_usage.c.booked))
    return result.first() is not None


async def release_capacity(conn: AsyncConnection, *, service_key: str, day: date) -> None:
    """Give back one parcel of capacity (a cancelled booking)."""
    await conn.execute(
        update(capacity_usage)
        .where(
            and_(
                capacity_usage.c.service_key == service_key,
                capacity_usage.c.ship_date == day,
                capacity_usage.c.booked > 0,
            )
        )
        .values(booked=capacity_usage.c.booked - 1)
    )
