"""Read-side queries of the GET endpoints: order lists with cursor pagination, timelines."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from order_svc.adapters.tables import order_timeline, orders
from order_svc.domain.status import OrderStatus


class InvalidCursor(ValueError):
    """A cursor this service did not hand out."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the (created_at, id) of its last order. Opaque to clients."""

    created_at: datetime
    order_id: UUID

    def encode(self) -> str:
        """base64url of the JSON pair, unpadded."""
        raw = json.dumps([self.created_at.isoformat(), str(self.order_id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor `encode` wrote; InvalidCursor for anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            created_at, order_id = json.loads(raw)
            cursor = cls(datetime.fromisoformat(created_at), UUID(order_id))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise InvalidCursor("not a cursor from this API") from exc
        if cursor.created_at.tzinfo is None:
            raise InvalidCursor("not a cursor from this API")
        return cursor


@dataclass(frozen=True)
class OrderFilter:
    """What a list of orders is restricted to."""

    merchant_id: str | None = None
    status: OrderStatus | None = None
    created_after: datetime | None = None


async def list_orders(
    conn: AsyncConnection, *, where: OrderFilter, cursor: Cursor | None, limit: int
) -> tuple[list[Row[*tuple[Any, ...]]], Cursor | None]:
    """One page of order rows, newest first, and the cursor of the next page (None at the end)."""
    o = orders.c
    query = select(
        o.id, o.merchant_id, o.merchant_order_ref, o.status, o.currency, o.grand_total,
        o.created_at, o.updated_at,
    )  # fmt: skip
    if where.merchant_id is not None:
        query = query.where(o.merchant_id == where.merchant_id)
    if where.status is not None:
        query = query.where(o.status == where.status.value)
    if where.created_after is not None:
        query = query.where(o.created_at > where.created_after)
    if cursor is not None:
        query = query.where(tuple_(o.created_at, o.id) < tuple_(cursor.created_at, cursor.order_id))
    query = query.order_by(o.created_at.desc(), o.id.desc()).limit(limit + 1)
    rows = list(await conn.execute(query))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], Cursor(last.created_at, last.id)


async def timeline(conn: AsyncConnection, order_id: UUID) -> list[Row[*tuple[Any, ...]]]:
    """Every timeline entry of an order in the order order-svc handled them.

    That order is causally consistent (an order's own event comes after the event that caused
    it, whatever the services' clocks say); each entry also carries the time its publisher
    states, so a late event shows as late.
    """
    t = order_timeline.c
    query = select(order_timeline).where(t.order_id == order_id).order_by(t.seq)
    return list(await conn.execute(query))
