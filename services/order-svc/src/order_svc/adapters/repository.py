"""Orders in PostgreSQL through SQLAlchemy Core (the intake and consumer hot paths)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from order_svc.adapters.tables import order_lines, order_timeline, orders
from order_svc.domain.facts import Facts
from order_svc.domain.machine import Progress
from order_svc.domain.model import (
    Buyer,
    Incoterm,
    Order,
    OrderLine,
    PaymentMethod,
    ShipTo,
    TimelineEntry,
)
from order_svc.domain.money import Totals, quantize
from order_svc.domain.status import OrderStatus

#: The order's view facts: one JSONB column each.
INFO_COLUMNS = ("payment", "shipment", "customs")

# The statements are built once and executed with parameters: SQLAlchemy then reuses their
# compiled form instead of building and hashing a new statement for every order and event
# (a sixth of intake's CPU when built per call; see docs/performance.md).
_INSERT_ORDER = orders.insert()
_INSERT_LINES = order_lines.insert()
_GET_ORDER = select(orders).where(orders.c.id == bindparam("order_id"))
_GET_ORDER_FOR_UPDATE = _GET_ORDER.with_for_update()
_GET_LINES = (
    select(order_lines)
    .where(order_lines.c.order_id == bindparam("order_id"))
    .order_by(order_lines.c.line_no)
)
# The SET clause comes from the parameters' keys (status, facts, updated_at, the info columns).
_SAVE_PROGRESS = update(orders).where(orders.c.id == bindparam("progress_of"))
_INSERT_TIMELINE = (
    insert(order_timeline)
    .on_conflict_do_nothing(index_elements=["event_id"])
    .returning(order_timeline.c.seq)
)
_HAS_EVENT = select(order_timeline.c.seq).where(order_timeline.c.event_id == bindparam("event_id"))


class SqlOrderRepository:
    """Reads and writes orders on the caller's connection; never commits."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, order: Order) -> None:
        """Insert a new order and its lines."""
        await self.conn.execute(_INSERT_ORDER, _order_values(order))
        await self.conn.execute(
            _INSERT_LINES, [{"order_id": order.id, **asdict(line)} for line in order.lines]
        )

    async def get(
        self, order_id: UUID, *, for_update: bool = False, with_lines: bool = True
    ) -> Order | None:
        """The order, or None. `for_update` locks its row until the transaction ends, so that
        writers of one order (consumers, the cancel route) take turns and emit in commit order."""
        query = _GET_ORDER_FOR_UPDATE if for_update else _GET_ORDER
        row = (await self.conn.execute(query, {"order_id": order_id})).one_or_none()
        if row is None:
            return None
        lines: tuple[OrderLine, ...] = ()
        if with_lines:
            result = await self.conn.execute(_GET_LINES, {"order_id": order_id})
            lines = tuple(_line(r) for r in result)
        return order_from_row(row, lines)

    async def save_progress(self, order: Order) -> None:
        """Store the order's status, facts and view facts."""
        await self.conn.execute(
            _SAVE_PROGRESS,
            {
                "progress_of": order.id,
                "status": order.status.value,
                "facts": order.progress.facts.to_json(),
                "updated_at": order.updated_at,
                **{name: dict(order.info.get(name, {})) for name in INFO_COLUMNS},
            },
        )

    async def add_timeline(self, entries: Sequence[TimelineEntry]) -> list[bool]:
        """Record timeline entries; for each, False when its event id was already recorded."""
        added = []
        for entry in entries:
            values = asdict(entry)
            values["status"] = entry.status.value
            inserted = await self.conn.scalar(_INSERT_TIMELINE, values)
            added.append(inserted is not None)
        return added

    async def has_event(self, event_id: UUID) -> bool:
        """True when the event is already on some order's timeline."""
        found = await self.conn.scalar(_HAS_EVENT, {"event_id": event_id})
        return found is not None


def _order_values(order: Order) -> dict[str, Any]:
    t = order.totals
    return {
        "id": order.id,
        "merchant_id": order.merchant_id,
        "merchant_order_ref": order.merchant_order_ref,
        "status": order.status.value,
        "currency": order.currency,
        "incoterm": order.incoterm,
        "buyer": asdict(order.buyer),
        "ship_from_country": order.ship_from_country,
        "ship_to": asdict(order.ship_to),
        "payment_method": order.payment_method,
        "payment_provider": order.payment_provider,
        "shipping_quote_id": order.shipping_quote_id,
        "landed_cost_quote_id": order.landed_cost_quote_id,
        "goods_total": t.goods,
        "shipping_total": t.shipping,
        "duties_and_taxes_total": t.duties_and_taxes,
        "grand_total": t.grand_total,
        "facts": order.progress.facts.to_json(),
        **{name: dict(order.info.get(name, {})) for name in INFO_COLUMNS},
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def _line(row: Row[Any]) -> OrderLine:
    m = row._mapping
    return OrderLine(
        line_no=m["line_no"],
        sku=m["sku"],
        title=m["title"],
        hs_code=m["hs_code"],
        origin_country=m["origin_country"],
        quantity=m["quantity"],
        unit_price=m["unit_price"],
        weight_grams=m["weight_grams"],
    )


def _money(value: Decimal | None, currency: str) -> Decimal | None:
    return None if value is None else quantize(value, currency)


def order_from_row(row: Row[Any], lines: tuple[OrderLine, ...] = ()) -> Order:
    """Build an order from a selected `orders` row (and its lines, if loaded)."""
    m = row._mapping
    currency = m["currency"]
    totals = Totals(
        currency=currency,
        goods=quantize(m["goods_total"], currency),
        shipping=quantize(m["shipping_total"], currency),
        duties_and_taxes=_money(m["duties_and_taxes_total"], currency),
        grand_total=quantize(m["grand_total"], currency),
    )
    return Order(
        id=m["id"],
        merchant_id=m["merchant_id"],
        merchant_order_ref=m["merchant_order_ref"],
        buyer=Buyer(**m["buyer"]),
        ship_from_country=m["ship_from_country"],
        ship_to=ShipTo(**m["ship_to"]),
        currency=currency,
        incoterm=cast(Incoterm, m["incoterm"]),
        lines=lines,
        totals=totals,
        payment_method=cast(PaymentMethod, m["payment_method"]),
        payment_provider=m["payment_provider"],
        shipping_quote_id=m["shipping_quote_id"],
        landed_cost_quote_id=m["landed_cost_quote_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        progress=Progress(status=OrderStatus(m["status"]), facts=Facts.from_json(m["facts"] or {})),
        info={name: m[name] or {} for name in INFO_COLUMNS},
    )
