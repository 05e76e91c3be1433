"""SQLAlchemy Core access to customs-svc's tables; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Row, Table, and_, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters.tables import (
    authority_decisions,
    declarations,
    documents,
    holds,
    orders,
    quotes,
)
from customs_svc.domain.landed_cost import Consignment, Item


def items_json(items: Sequence[Item]) -> list[dict[str, Any]]:
    """Items as JSON (decimals as strings)."""
    return [
        {
            "sku": i.sku,
            "hs_code": i.hs_code,
            "origin_country": i.origin_country,
            "unit_price": str(i.unit_price),
            "quantity": i.quantity,
            "weight_grams": i.weight_grams,
        }
        for i in items
    ]


def consignment_of(row: Row[Any]) -> Consignment:
    """The consignment of an `orders` or `quotes` row."""
    items = tuple(
        Item(
            hs_code=i["hs_code"],
            origin_country=i["origin_country"],
            unit_price=Decimal(i["unit_price"]),
            quantity=int(i["quantity"]),
            weight_grams=int(i["weight_grams"]),
            sku=i.get("sku"),
        )
        for i in row.items
    )
    return Consignment(row.destination, row.currency, Decimal(row.shipping), items)


async def _insert_new(conn: AsyncConnection, table: Table, values: dict[str, Any]) -> bool:
    result = await conn.execute(insert(table).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1


async def _one(
    conn: AsyncConnection, table: Table, key: Any, *, lock: bool = False
) -> Row[Any] | None:
    pk = next(iter(table.primary_key.columns))
    query = select(table).where(pk == key)
    return (await conn.execute(query.with_for_update() if lock else query)).one_or_none()


async def _set(conn: AsyncConnection, table: Table, key: Any, values: dict[str, Any]) -> None:
    pk = next(iter(table.primary_key.columns))
    await conn.execute(update(table).where(pk == key).values(**values))


# -- quotes ------------------------------------------------------------------------------------


async def insert_quote(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Store a quote."""
    await conn.execute(quotes.insert().values(**values))


async def get_quote(conn: AsyncConnection, quote_id: UUID) -> Row[Any] | None:
    """A stored quote."""
    return await _one(conn, quotes, quote_id)


# -- orders ------------------------------------------------------------------------------------


async def insert_order(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Keep an order; False when it was already kept."""
    return await _insert_new(conn, orders, values)


async def lock_order(conn: AsyncConnection, order_id: UUID) -> Row[Any] | None:
    """The order, locked until the transaction ends (its writers take turns on it)."""
    return await _one(conn, orders, order_id, lock=True)


async def update_order(conn: AsyncConnection, order_id: UUID, **values: Any) -> None:
    """Change an order."""
    await _set(conn, orders, order_id, values)


# -- declarations ------------------------------------------------------------------------------


async def insert_declaration(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Open a declaration; False when the order already has one at this checkpoint."""
    return await _insert_new(conn, declarations, values)


async def get_declaration(
    conn: AsyncConnection, declaration_id: UUID, *, lock: bool = False
) -> Row[Any] | None:
    """A declaration."""
    return await _one(conn, declarations, declaration_id, lock=lock)


async def declarations_of(
    conn: AsyncConnection, order_id: UUID, *, statuses: Sequence[str] | None = None
) -> list[Row[Any]]:
    """An order's declarations, oldest first, optionally of some statuses only."""
    query = select(declarations).where(declarations.c.order_id == order_id)
    if statuses is not None:
        query = query.where(declarations.c.status.in_(statuses))
    return list(await conn.execute(query.order_by(declarations.c.created_at)))


async def update_declaration(conn: AsyncConnection, declaration_id: UUID, **values: Any) -> None:
    """Change a declaration."""
    await _set(conn, declarations, declaration_id, {**values, "updated_at": func.now()})


# -- holds and documents -----------------------------------------------------------------------


async def insert_hold(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Open a hold."""
    await conn.execute(holds.insert().values(**values))


async def get_hold(conn: AsyncConnection, hold_id: UUID) -> Row[Any] | None:
    """A hold."""
    return await _one(conn, holds, hold_id)


async def holds_of(
    conn: AsyncConnection, declaration_id: UUID, *, statuses: Sequence[str] | None = None
) -> list[Row[Any]]:
    """A declaration's holds, oldest first."""
    query = select(holds).where(holds.c.declaration_id == declaration_id)
    if statuses is not None:
        query = query.where(holds.c.status.in_(statuses))
    return list(await conn.execute(query.order_by(holds.c.held_at)))


async def update_hold(conn: AsyncConnection, hold_id: UUID, **values: Any) -> None:
    """Change a hold."""
    await _set(conn, holds, hold_id, values)


async def insert_document(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Store an uploaded document."""
    await conn.execute(documents.insert().values(**values))


async def documents_of(conn: AsyncConnection, hold_ids: Sequence[UUID]) -> list[Row[Any]]:
    """The documents of some holds (without their content), oldest first."""
    columns = [c for c in documents.c if c.name != "content"]
    query = select(*columns).where(documents.c.hold_id.in_(hold_ids))
    return list(await conn.execute(query.order_by(documents.c.uploaded_at, documents.c.id)))


# -- authority decisions -----------------------------------------------------------------------


async def record_decision(
    conn: AsyncConnection, *, authority: str, decision_id: str, declaration_id: UUID, outcome: str
) -> bool:
    """Record a decision once; False when this authority sent this decision id before."""
    values = {
        "authority": authority,
        "decision_id": decision_id,
        "declaration_id": declaration_id,
        "outcome": outcome,
        "result": "applied",
    }
    return await _insert_new(conn, authority_decisions, values)


async def set_decision_result(
    conn: AsyncConnection, *, authority: str, decision_id: str, result: str
) -> None:
    """Say what a recorded decision did (applied or ignored)."""
    await conn.execute(
        update(authority_decisions)
        .where(
            authority_decisions.c.authority == authority,
            authority_decisions.c.decision_id == decision_id,
        )
        .values(result=result)
    )


async def decisions_of(conn: AsyncConnection, declaration_id: UUID) -> list[Row[Any]]:
    """The decisions received for a declaration, in arrival order."""
    query = select(authority_decisions).where(
        authority_decisions.c.declaration_id == declaration_id
    )
    return list(await conn.execute(query.order_by(authority_decisions.c.received_at)))


# -- timers ------------------------------------------------------------------------------------


async def due(
    conn: AsyncConnection, *, now: datetime, limit: int
) -> tuple[list[Row[Any]], list[Row[Any]], list[Row[Any]]]:
    """What is due: open holds past respond-by, sandbox decisions and document reviews."""
    deadlines = select(holds.c.id, holds.c.order_id).where(
        holds.c.status == "open", holds.c.respond_by <= now
    )
    decisions = select(declarations.c.id, declarations.c.order_id).where(
        declarations.c.decision_due_at <= now
    )
    reviews = select(holds.c.id, holds.c.order_id).where(holds.c.review_due_at <= now)
    return (
        list(await conn.execute(deadlines.order_by(holds.c.respond_by).limit(limit))),
        list(await conn.execute(decisions.order_by(declarations.c.decision_due_at).limit(limit))),
        list(await conn.execute(reviews.order_by(holds.c.review_due_at).limit(limit))),
    )


# -- lists -------------------------------------------------------------------------------------


def _after(table: Table, column: str, cursor: tuple[datetime, UUID] | None) -> Any:
    if cursor is None:
        return true()
    at, key = cursor
    col = table.c[column]
    return or_(col > at, and_(col == at, table.c.id > key))


async def list_declarations(
    conn: AsyncConnection,
    *,
    order_id: UUID | None,
    merchant_id: str | None,
    limit: int,
    cursor: tuple[datetime, UUID] | None,
) -> list[Row[Any]]:
    """Declarations oldest first, after the cursor."""
    query = select(declarations).where(_after(declarations, "created_at", cursor))
    if order_id is not None:
        query = query.where(declarations.c.order_id == order_id)
    if merchant_id is not None:
        query = query.where(declarations.c.merchant_id == merchant_id)
    query = query.order_by(declarations.c.created_at, declarations.c.id).limit(limit)
    return list(await conn.execute(query))


async def list_holds(
    conn: AsyncConnection,
    *,
    status: str | None,
    merchant_id: str | None,
    limit: int,
    cursor: tuple[datetime, UUID] | None,
) -> list[Row[Any]]:
    """Holds oldest first (by when they were held), after the cursor."""
    query = select(holds).where(_after(holds, "held_at", cursor))
    if status is not None:
        query = query.where(holds.c.status == status)
    if merchant_id is not None:
        query = query.where(holds.c.merchant_id == merchant_id)
    query = query.order_by(holds.c.held_at, holds.c.id).limit(limit)
    return list(await conn.execute(query))
