"""The read side: payments, ledger accounts, the reconciliation report, exchange rates."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters import payments_repo
from payment_svc.adapters.ledger_repo import (
    Balance,
    LedgerLine,
    PaymentSums,
    account_statement,
    reconciliation,
)
from payment_svc.adapters.payments_repo import Attempt, PaymentRepository
from payment_svc.adapters.refunds_repo import RefundRepository
from payment_svc.domain.errors import PaymentNotFound, UnknownAccount
from payment_svc.domain.ledger import PARTY_OF, Account, AccountName
from payment_svc.domain.payment import Payment
from payment_svc.domain.refund import Refund


class InvalidCursor(ValueError):
    """A pagination cursor this service did not hand out."""


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """A payment with its refunds and provider attempts."""

    payment: Payment
    refunds: list[Refund]
    attempts: list[Attempt]


async def payment_details(
    conn: AsyncConnection, payment_id: UUID, *, merchant_id: str | None
) -> PaymentDetails:
    """One payment; `merchant_id` limits the lookup to that merchant's payments."""
    payment = await PaymentRepository(conn).get(payment_id)
    if payment is None or (merchant_id is not None and payment.merchant_id != merchant_id):
        raise PaymentNotFound(f"no payment {payment_id}")
    refunds = await RefundRepository(conn).for_payment(payment_id)
    return PaymentDetails(payment, refunds, await payments_repo.attempts(conn, payment_id))


def _encode(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def _decode(cursor: str, count: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this service handed out") from None
    if len(parts) != count:
        raise InvalidCursor("the cursor is not one this service handed out")
    return parts


async def list_payments(
    conn: AsyncConnection,
    *,
    merchant_id: str | None,
    order_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Payment], str | None]:
    """A page of payments, newest first, and the cursor of the next page (None: last page)."""
    after = None
    if cursor:
        at, pid = _decode(cursor, 2)
        try:
            after = (datetime.fromisoformat(at), UUID(pid))
        except ValueError:
            raise InvalidCursor("the cursor is not one this service handed out") from None
    found = await payments_repo.list_payments(
        conn, merchant_id=merchant_id, order_id=order_id, limit=limit + 1, after=after
    )
    page = found[:limit]
    more = len(found) > limit
    last = page[-1] if page else None
    next_cursor = _encode(last.created_at.isoformat(), str(last.id)) if more and last else None
    return page, next_cursor


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account's balances and a page of its entries."""

    account: str
    balances: list[Balance]
    entries: list[LedgerLine]
    next_cursor: str | None


def parse_account(code: str) -> tuple[Account, bool]:
    """The account a code names, and whether it means every party's (a name alone)."""
    name, _, party = code.partition(":")
    try:
        account_name = AccountName(name)
    except ValueError:
        raise UnknownAccount(f"no ledger account is called {name!r}") from None
    if account_name in PARTY_OF and not party:
        return Account(account_name, "*"), True
    if account_name not in PARTY_OF and party:
        raise UnknownAccount(f"the {name} account is not kept per party")
    return Account(account_name, party), False


async def ledger_account(
    conn: AsyncConnection, code: str, *, limit: int, cursor: str | None
) -> AccountView:
    """The balances and latest entries of the account `code` (e.g. merchant_payable:m-1)."""
    account, whole = parse_account(code)
    after = None
    if cursor:
        (raw,) = _decode(cursor, 1)
        if not raw.isdigit():
            raise InvalidCursor("the cursor is not one this service handed out")
        after = int(raw)
    balances, lines = await account_statement(
        conn, account, whole_name=whole, limit=limit + 1, after=after
    )
    page = lines[:limit]
    next_cursor = _encode(str(page[-1].id)) if len(lines) > limit and page else None
    return AccountView(
        account=account.name.value if whole else account.code,
        balances=balances,
        entries=page,
        next_cursor=next_cursor,
    )


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """A day's movements per payment and in total, and whether everything balances."""

    day: date
    payments: list[PaymentSums]
    totals: PaymentSums
    ledger_balanced: bool
    next_cursor: str | None


async def reconcile(
    conn: AsyncConnection, day: date, *, limit: int, cursor: str | None
) -> Reconciliation:
    """The reconciliation report of one UTC day."""
    after = None
    if cursor:
        (raw,) = _decode(cursor, 1)
        try:
            after = UUID(raw)
        except ValueError:
            raise InvalidCursor("the cursor is not one this service handed out") from None
    start = datetime.combine(day, time(0), tzinfo=UTC)
    per_payment, totals, balanced = await reconciliation(
        conn, start=start, end=start + timedelta(days=1), limit=limit + 1, after=after
    )
    page = per_payment[:limit]
    more = len(per_payment) > limit
    next_cursor = _encode(str(page[-1].payment_id)) if more and page else None
    return Reconciliation(day, page, totals, balanced, next_cursor)
