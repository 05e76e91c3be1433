"""Orders as shipping keeps them, and the row lock that serialises every writer of one order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.tables import orders
from shipping_svc.domain.catalog import LaneKey
from shipping_svc.domain.shipment import OrderInfo


def _order(row: Row[Any]) -> OrderInfo:
    return OrderInfo(
        order_id=row.order_id,
        merchant_id=row.merchant_id,
        lane=LaneKey(row.origin, row.destination),
        weight_grams=row.weight_grams,
        declared_value=row.declared_value,
        currency=row.currency,
        shipping_quote_id=row.shipping_quote_id,
        placed_at=row.placed_at,
        confirmed_at=row.confirmed_at,
        cancelled_at=row.cancelled_at,
        export_cleared_at=row.export_cleared_at,
        released_at=row.released_at,
        return_ordered_at=row.return_ordered_at,
        confiscated_at=row.confiscated_at,
    )


async def insert_order(
    conn: AsyncConnection, order: OrderInfo, *, ship_to: dict[str, Any] | None
) -> bool:
    """Keep an order (from OrderPlaced); False when it was already known."""
    result = await conn.execute(
        insert(orders)
        .values(
            order_id=order.order_id,
            merchant_id=order.merchant_id,
            origin=order.lane.origin,
            destination=order.lane.destination,
            weight_grams=order.weight_grams,
            declared_value=order.declared_value,
            currency=order.currency,
            shipping_quote_id=order.shipping_quote_id,
            placed_at=order.placed_at,
            ship_to=ship_to,
        )
        .on_conflict_do_nothing()
        .returning(orders.c.order_id)
    )
    return result.first() is not None


async def lock_order(conn: AsyncConnection, order_id: UUID) -> OrderInfo | None:
    """The order, locked until the transaction ends (every writer of its shipment does this)."""
    row = (
        await conn.execute(select(orders).where(orders.c.order_id == order_id).with_for_update())
    ).first()
    return None if row is None else _order(row)


async def lock_orders_if_free(conn: AsyncConnection, order_ids: Iterable[UUID]) -> set[UUID]:
    """Lock those of the orders no other transaction holds; return which were locked."""
    ids = list(order_ids)
    if not ids:
        return set()
    rows = await conn.execute(
        select(orders.c.order_id)
        .where(orders.c.order_id.in_(ids))
        .with_for_update(skip_locked=True)
    )
    return {row.order_id for row in rows}


async def update_order(conn: AsyncConnection, order_id: UUID, **values: Any) -> None:
    """Set columns of an order (gates, confirmation, cancellation, erasure of the address)."""
    await conn.execute(
        update(orders).where(orders.c.order_id == order_id).values(**values, updated_at=func.now())
    )
