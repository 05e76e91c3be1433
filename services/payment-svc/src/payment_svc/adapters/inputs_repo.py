"""What arrives from outside: provider webhook deliveries and bank statement lines, each
recorded once so that a replay has no second effect."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.tables import bank_statement_lines, webhook_deliveries


async def record_delivery(
    conn: AsyncConnection,
    *,
    provider: str,
    delivery_id: str,
    type: str,
    payment_id: UUID | None,
    result: str,
) -> bool:
    """Record a webhook delivery; False when it was recorded before (a replay)."""
    inserted = await conn.scalar(
        insert(webhook_deliveries)
        .values(
            provider=provider,
            delivery_id=delivery_id,
            type=type,
            payment_id=payment_id,
            result=result,
        )
        .on_conflict_do_nothing()
        .returning(webhook_deliveries.c.delivery_id)
    )
    return inserted is not None


async def claim_line(
    conn: AsyncConnection,
    *,
    line_id: str,
    statement_id: str,
    reference: str,
    amount: Decimal,
    currency: str,
    booked_at: datetime,
) -> bool:
    """Record a statement line as received; False when it was received before."""
    inserted = await conn.scalar(
        insert(bank_statement_lines)
        .values(
            line_id=line_id,
            statement_id=statement_id,
            reference=reference,
            amount=amount,
            currency=currency,
            booked_at=booked_at,
            result="received",
        )
        .on_conflict_do_nothing()
        .returning(bank_statement_lines.c.line_id)
    )
    return inserted is not None


async def settle_line(
    conn: AsyncConnection,
    *,
    line_id: str,
    result: str,
    payment_id: UUID | None,
    applied: Decimal,
    returned: Decimal,
) -> None:
    """Record what a received line did."""
    await conn.execute(
        update(bank_statement_lines)
        .where(bank_statement_lines.c.line_id == line_id)
        .values(result=result, payment_id=payment_id, applied=applied, returned=returned)
    )
