"""Payments and their provider attempts in PostgreSQL (SQLAlchemy Core: the hot path)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Row, Select, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.tables import payment_attempts, payments
from payment_svc.domain.fx import FxQuote
from payment_svc.domain.money import quantize
from payment_svc.domain.payment import (
    ActionKind,
    Breakdown,
    Failure,
    FailureReason,
    Payment,
    PaymentStatus,
    PendingAction,
    Stage,
)

_T = payments


def _fx(row: Row[Any]) -> FxQuote | None:
    if row.fx_rate is None:
        return None
    return FxQuote(
        source_currency=row.currency,
        target_currency=row.settlement_currency,
        rate=Decimal(row.fx_rate).normalize(),
        as_of=row.fx_as_of,
        provider=row.fx_provider,
    )


def _action(row: Row[Any]) -> PendingAction | None:
    if row.action is None:
        return None
    return PendingAction(
        action=cast(ActionKind, row.action),
        expires_at=row.expires_at,
        approval_url=row.approval_url,
        payment_reference=row.payment_reference,
    )


def _failure(row: Row[Any]) -> Failure | None:
    if row.failure_reason is None:
        return None
    return Failure(
        stage=cast(Stage, row.failure_stage),
        reason=cast(FailureReason, row.failure_reason),
        code=row.failure_code,
        detail=row.failure_detail,
    )


def _q(value: Decimal, currency: str) -> Decimal:
    # NUMERIC(24,4) hands back four places; the domain keeps the currency's own.
    return quantize(value, currency)


def to_payment(row: Row[Any]) -> Payment:
    """A payment from its row."""
    c, s = row.currency, row.settlement_currency
    return Payment(
        id=row.id,
        order_id=row.order_id,
        merchant_id=row.merchant_id,
        method=row.method,
        provider=row.provider,
        provider_token=row.provider_token,
        currency=c,
        amount=_q(row.amount, c),
        breakdown=Breakdown(
            goods=_q(row.goods, c),
            shipping=_q(row.shipping, c),
            duties=_q(row.duties, c),
            incoterm=row.incoterm,
        ),
        settlement_currency=s,
        created_at=row.created_at,
        status=PaymentStatus(row.status),
        provider_reference=row.provider_reference,
        action=_action(row),
        failure=_failure(row),
        hold_open=row.hold_open,
        captured=_q(row.captured, c),
        refunded=_q(row.refunded, c),
        fees=_q(row.fees, c),
        duties_held=_q(row.duties_held, c),
        received=_q(row.received, c),
        returned=_q(row.returned, c),
        settlement_amount=None if row.settlement_amount is None else _q(row.settlement_amount, s),
        fx=_fx(row),
        authorized_at=row.authorized_at,
        settled_at=row.settled_at,
        closed_at=row.closed_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def _state(payment: Payment) -> dict[str, Any]:
    action, failure, fx = payment.action, payment.failure, payment.fx
    return {
        "status": payment.status.value,
        "provider_reference": payment.provider_reference,
        "action": action.action if action else None,
        "approval_url": action.approval_url if action else None,
        "expires_at": action.expires_at if action else None,
        "hold_open": payment.hold_open,
        "captured": payment.captured,
        "refunded": payment.refunded,
        "fees": payment.fees,
        "duties_held": payment.duties_held,
        "received": payment.received,
        "returned": payment.returned,
        "settlement_amount": payment.settlement_amount,
        "fx_rate": fx.rate if fx else None,
        "fx_as_of": fx.as_of if fx else None,
        "fx_provider": fx.provider if fx else None,
        "failure_stage": failure.stage if failure else None,
        "failure_reason": failure.reason if failure else None,
        "failure_code": failure.code if failure else None,
        "failure_detail": failure.detail if failure else None,
        "authorized_at": payment.authorized_at,
        "settled_at": payment.settled_at,
        "closed_at": payment.closed_at,
    }


class PaymentRepository:
    """Reads and writes payments on the caller's connection (its transaction)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, payment: Payment) -> bool:
        """Insert a new payment; False when the order has one already (a duplicate)."""
        b = payment.breakdown
        values = {
            "id": payment.id,
            "order_id": payment.order_id,
            "merchant_id": payment.merchant_id,
            "method": payment.method,
            "provider": payment.provider,
            "provider_token": payment.provider_token,
            "currency": payment.currency,
            "amount": payment.amount,
            "goods": b.goods,
            "shipping": b.shipping,
            "duties": b.duties,
            "incoterm": b.incoterm,
            "settlement_currency": payment.settlement_currency,
            "payment_reference": payment.action.payment_reference if payment.action else None,
            "created_at": payment.created_at,
            "updated_at": payment.created_at,
            **_state(payment),
        }
        inserted = await self._conn.scalar(
            insert(_T)
            .values(values)
            .on_conflict_do_nothing(index_elements=[_T.c.order_id])
            .returning(_T.c.id)
        )
        return inserted is not None

    async def save(self, payment: Payment, *, at: datetime) -> None:
        """Store the payment's new state (its row must be locked by this transaction)."""
        values = _state(payment)
        if payment.action is not None and payment.action.payment_reference:
            values["payment_reference"] = payment.action.payment_reference
        await self._conn.execute(
            update(_T)
            .where(_T.c.id == payment.id)
            .values(**values, updated_at=at, version=_T.c.version + 1)
        )
        payment.version += 1
        payment.updated_at = at

    async def _one(self, query: Select[Any], *, lock: bool) -> Payment | None:
        if lock:
            query = query.with_for_update()
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else to_payment(row)

    async def get(self, payment_id: UUID, *, lock: bool = False) -> Payment | None:
        """The payment with this id."""
        return await self._one(select(_T).where(_T.c.id == payment_id), lock=lock)

    async def by_order(self, order_id: UUID, *, lock: bool = False) -> Payment | None:
        """The order's payment."""
        return await self._one(select(_T).where(_T.c.order_id == order_id), lock=lock)

    async def by_provider_reference(
        self, provider: str, reference: str, *, lock: bool = False
    ) -> Payment | None:
        """The payment a provider knows by `reference`."""
        query = select(_T).where(_T.c.provider == provider, _T.c.provider_reference == reference)
        return await self._one(query, lock=lock)

    async def by_payment_reference(self, reference: str, *, lock: bool = False) -> Payment | None:
        """The bank wire payment quoting `reference` (normalized)."""
        return await self._one(select(_T).where(_T.c.payment_reference == reference), lock=lock)

    async def due_for_expiry(self, now: datetime, *, limit: int) -> list[Payment]:
        """Payments waiting for the buyer or funds past their expiry, locked (others skipped)."""
        query = (
            select(_T)
            .where(
                _T.c.status.in_(["requires_action", "awaiting_funds"]),
                _T.c.expires_at <= now,
            )
            .order_by(_T.c.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [to_payment(row) for row in await self._conn.execute(query)]

    async def record_attempt(
        self,
        payment_id: UUID,
        *,
        operation: str,
        outcome: str,
        at: datetime,
        code: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Log what was asked of the provider and what it answered."""
        await self._conn.execute(
            payment_attempts.insert().values(
                payment_id=payment_id,
                operation=operation,
                outcome=outcome,
                provider_code=code,
                detail=detail,
                at=at,
            )
        )


async def list_payments(
    conn: AsyncConnection,
    *,
    merchant_id: str | None,
    order_id: UUID | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[Payment]:
    """Payments newest first, optionally of one merchant and one order, after a cursor."""
    query = select(_T).order_by(_T.c.created_at.desc(), _T.c.id.desc()).limit(limit)
    if merchant_id is not None:
        query = query.where(_T.c.merchant_id == merchant_id)
    if order_id is not None:
        query = query.where(_T.c.order_id == order_id)
    if after is not None:
        query = query.where(tuple_(_T.c.created_at, _T.c.id) < tuple_(*after))
    return [to_payment(row) for row in await conn.execute(query)]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call to the provider (or one webhook) and its outcome."""

    operation: str
    outcome: str
    provider_code: str | None
    detail: str | None
    at: datetime


async def attempts(conn: AsyncConnection, payment_id: UUID) -> list[Attempt]:
    """The payment's provider attempts, oldest first."""
    t = payment_attempts
    rows = await conn.execute(
        select(t.c.operation, t.c.outcome, t.c.provider_code, t.c.detail, t.c.at)
        .where(t.c.payment_id == payment_id)
        .order_by(t.c.id)
    )
    return [Attempt(*row) for row in rows]
