"""Refunds in PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.tables import refunds
from payment_svc.domain.fx import FxQuote
from payment_svc.domain.money import quantize
from payment_svc.domain.refund import Refund, RefundFailure

_T = refunds


def _to_refund(row: Any) -> Refund:
    c, s = row.currency, row.settlement_currency
    fx = (
        None
        if row.fx_rate is None
        else FxQuote(
            source_currency=c,
            target_currency=s,
            rate=Decimal(row.fx_rate).normalize(),
            as_of=row.fx_as_of,
            provider=row.fx_provider,
        )
    )
    return Refund(
        id=row.id,
        payment_id=row.payment_id,
        order_id=row.order_id,
        reason=row.reason,
        trigger=row.trigger,
        status=row.status,
        currency=c,
        amount=quantize(row.amount, c),
        merchant_part=quantize(row.merchant_part, c),
        duties_part=quantize(row.duties_part, c),
        settlement_currency=s,
        requested_by=row.requested_by,
        created_at=row.created_at,
        settlement_amount=None
        if row.settlement_amount is None
        else quantize(row.settlement_amount, s),
        fx=fx,
        provider_reference=row.provider_reference,
        failure=cast(RefundFailure | None, row.failure),
        detail=row.detail,
    )


class RefundRepository:
    """Stores refunds; one per payment and trigger (the policy's refunds happen once)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, refund: Refund) -> bool:
        """Store `refund`; False if its payment already had one for the same trigger."""
        fx = refund.fx
        inserted = await self._conn.scalar(
            insert(_T)
            .values(
                id=refund.id,
                payment_id=refund.payment_id,
                order_id=refund.order_id,
                reason=refund.reason,
                trigger=refund.trigger,
                status=refund.status,
                currency=refund.currency,
                amount=refund.amount,
                merchant_part=refund.merchant_part,
                duties_part=refund.duties_part,
                settlement_currency=refund.settlement_currency,
                settlement_amount=refund.settlement_amount,
                fx_rate=fx.rate if fx else None,
                fx_as_of=fx.as_of if fx else None,
                fx_provider=fx.provider if fx else None,
                provider_reference=refund.provider_reference,
                failure=refund.failure,
                detail=refund.detail,
                requested_by=refund.requested_by,
                created_at=refund.created_at,
            )
            .on_conflict_do_nothing()
            .returning(_T.c.id)
        )
        return inserted is not None

    async def has_trigger(self, payment_id: UUID, trigger: str) -> bool:
        """Whether the payment already had a refund for `trigger`."""
        found = await self._conn.scalar(
            select(_T.c.id).where(_T.c.payment_id == payment_id, _T.c.trigger == trigger)
        )
        return found is not None

    async def for_payment(self, payment_id: UUID) -> list[Refund]:
        """The payment's refunds, oldest first."""
        rows = await self._conn.execute(
            select(_T).where(_T.c.payment_id == payment_id).order_by(_T.c.created_at, _T.c.id)
        )
        return [_to_refund(row) for row in rows]

    async def get(self, refund_id: UUID) -> Refund | None:
        """The refund with this id."""
        row = (await self._conn.execute(select(_T).where(_T.c.id == refund_id))).one_or_none()
        return None if row is None else _to_refund(row)
