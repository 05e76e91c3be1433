"""The ledger in PostgreSQL: posting transactions, account statements, reconciliation sums."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.tables import ledger_entries, payments
from payment_svc.domain.ledger import Account, AccountName, Transaction
from payment_svc.domain.money import ZERO, quantize

_L = ledger_entries


class LedgerRepository:
    """Appends balanced transactions; the database refuses anything else."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def post(self, *transactions: Transaction | None) -> None:
        """Append the entries of each transaction (None: nothing moved)."""
        rows = [
            {
                "transaction_id": tx.id,
                "payment_id": tx.payment_id,
                "kind": tx.kind.value,
                "account": entry.account.name.value,
                "party": entry.account.party,
                "currency": entry.currency,
                "amount": entry.amount,
                "posted_at": tx.posted_at,
            }
            for tx in transactions
            if tx is not None
            for entry in tx.entries
        ]
        if rows:
            await self._conn.execute(_L.insert(), rows)


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One entry as an account statement shows it."""

    id: int
    transaction_id: UUID
    payment_id: UUID | None
    kind: str
    account: str
    currency: str
    amount: Decimal
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's movements in one currency."""

    currency: str
    debits: Decimal
    credits: Decimal

    @property
    def balance(self) -> Decimal:
        """Net amount moved into the account."""
        return self.debits - self.credits


def _q(amount: Decimal, currency: str) -> Decimal:
    return quantize(amount, currency)


async def account_statement(
    conn: AsyncConnection, account: Account, *, whole_name: bool, limit: int, after: int | None
) -> tuple[list[Balance], list[LedgerLine]]:
    """Balances per currency and a page of entries (newest first) of an account.

    With `whole_name`, every party's account of that name counts (e.g. every merchant's).
    """
    where = [_L.c.account == account.name.value]
    if not whole_name:
        where.append(_L.c.party == account.party)
    debit = func.coalesce(func.sum(case((_L.c.amount > 0, _L.c.amount), else_=0)), 0)
    credit = func.coalesce(func.sum(case((_L.c.amount < 0, -_L.c.amount), else_=0)), 0)
    rows = await conn.execute(
        select(_L.c.currency, debit, credit)
        .where(*where)
        .group_by(_L.c.currency)
        .order_by(_L.c.currency)
    )
    balances = [Balance(r[0], _q(r[1], r[0]), _q(r[2], r[0])) for r in rows]
    page = select(_L).where(*where).order_by(_L.c.id.desc()).limit(limit)
    if after is not None:
        page = page.where(_L.c.id < after)
    lines = [
        LedgerLine(
            id=r.id,
            transaction_id=r.transaction_id,
            payment_id=r.payment_id,
            kind=r.kind,
            account=f"{r.account}:{r.party}" if r.party else r.account,
            currency=r.currency,
            amount=_q(r.amount, r.currency),
            posted_at=r.posted_at,
        )
        for r in await conn.execute(page)
    ]
    return balances, lines


#: What the reconciliation reports, and the accounts it reads it from.
METRICS: dict[str, AccountName] = {
    "refunded": AccountName.BUYER_REFUNDS,
    "fees": AccountName.PROVIDER_FEES,
    "duties_payable": AccountName.DUTIES_PAYABLE,
    "merchant_payable": AccountName.MERCHANT_PAYABLE,
    "unapplied": AccountName.UNAPPLIED_FUNDS,
    "returned_to_payer": AccountName.PAYER_RETURNS,
}

Sums = dict[str, dict[str, Decimal]]


@dataclass
class PaymentSums:
    """One payment's movements in a period, per metric and currency."""

    payment_id: UUID | None
    order_id: UUID | None = None
    merchant_id: str | None = None
    sums: Sums = field(default_factory=lambda: defaultdict(dict))
    net: dict[str, Decimal] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """Whether the entries sum to zero in every currency."""
        return all(v == 0 for v in self.net.values())


def _metric_columns() -> list[Any]:
    captured = func.coalesce(
        func.sum(
            case(
                (
                    and_(
                        _L.c.kind == "capture",
                        _L.c.account == AccountName.PROVIDER_CLEARING.value,
                        _L.c.amount > 0,
                    ),
                    _L.c.amount,
                ),
                else_=0,
            )
        ),
        0,
    ).label("captured")
    columns = [captured]
    for name, account in METRICS.items():
        columns.append(
            func.coalesce(
                func.sum(case((_L.c.account == account.value, _L.c.amount), else_=0)), 0
            ).label(name)
        )
    columns.append(func.sum(_L.c.amount).label("net"))
    return columns


def _fill(target: PaymentSums, row: Any) -> None:
    c = row.currency
    for name in ("captured", *METRICS):
        value = _q(getattr(row, name), c)
        if value != 0:
            target.sums[name][c] = value
    target.net[c] = _q(row.net, c)


async def reconciliation(
    conn: AsyncConnection, *, start: datetime, end: datetime, limit: int, after: UUID | None
) -> tuple[list[PaymentSums], PaymentSums, bool]:
    """Per payment (a page, by payment id) and in total over [start, end): the sums, and
    whether the whole ledger (all time) balances in every currency."""
    period = [_L.c.posted_at >= start, _L.c.posted_at < end]
    ids = (
        select(_L.c.payment_id)
        .where(*period, _L.c.payment_id.is_not(None))
        .group_by(_L.c.payment_id)
        .order_by(_L.c.payment_id)
        .limit(limit)
    )
    if after is not None:
        ids = ids.where(_L.c.payment_id > after)
    page_ids = [r[0] for r in await conn.execute(ids)]
    per_payment: dict[UUID, PaymentSums] = {pid: PaymentSums(pid) for pid in page_ids}
    if page_ids:
        rows = await conn.execute(
            select(_L.c.payment_id, _L.c.currency, *_metric_columns())
            .where(*period, _L.c.payment_id.in_(page_ids))
            .group_by(_L.c.payment_id, _L.c.currency)
        )
        for row in rows:
            _fill(per_payment[row.payment_id], row)
        owners = await conn.execute(
            select(payments.c.id, payments.c.order_id, payments.c.merchant_id).where(
                payments.c.id.in_(page_ids)
            )
        )
        for pid, order_id, merchant_id in owners:
            per_payment[pid].order_id, per_payment[pid].merchant_id = order_id, merchant_id
    total = PaymentSums(None)
    for row in await conn.execute(
        select(_L.c.currency, *_metric_columns()).where(*period).group_by(_L.c.currency)
    ):
        _fill(total, row)
    off = await conn.scalar(
        select(func.count()).select_from(
            select(_L.c.currency)
            .group_by(_L.c.currency)
            .having(func.sum(_L.c.amount) != 0)
            .subquery()
        )
    )
    return [per_payment[pid] for pid in page_ids], total, (off or 0) == 0


async def payment_net(conn: AsyncConnection, payment_id: UUID) -> dict[str, Decimal]:
    """The sum of a payment's entries per currency (all zero when it balances)."""
    rows = await conn.execute(
        select(_L.c.currency, func.sum(_L.c.amount))
        .where(_L.c.payment_id == payment_id)
        .group_by(_L.c.currency)
    )
    return {c: (total if total is not None else ZERO) for c, total in rows}
