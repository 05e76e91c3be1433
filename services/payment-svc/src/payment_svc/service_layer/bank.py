"""Bank statements: each line is matched to a bank wire payment by its RF reference.

- exact: the funds cover the amount: the payment settles;
- partial: less than the amount: the funds are held and the payment waits for the rest
  (PaymentActionRequired again, with the amount still due);
- overpaid: more than the amount: the payment settles and the excess is returned to the payer;
- returned: the payment no longer waits (settled, failed, voided) or the currency differs:
  the funds are returned to the payer;
- unknown_reference: no payment quotes it (or it is mistyped: the check digits fail): the funds
  are held as unapplied for an operator to investigate;
- duplicate: the line was received before: nothing happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from payment_svc.adapters import inputs_repo
from payment_svc.domain import ledger, references
from payment_svc.domain.ledger import Journal, TransactionKind
from payment_svc.domain.money import ZERO
from payment_svc.domain.payment import Payment, PaymentStatus, Receipt
from payment_svc.service_layer import integration
from payment_svc.service_layer.charging import capture_and_settle
from payment_svc.service_layer.context import Services, Tx


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementLine:
    """One credit on the bank account."""

    line_id: str
    reference: str
    amount: Decimal
    currency: str
    booked_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LineResult:
    """What one line did."""

    line_id: str
    result: str
    payment_id: UUID | None = None
    applied: Decimal = ZERO
    returned: Decimal = ZERO
    outstanding: Decimal | None = None
    payment_status: str | None = None
    payment_currency: str | None = None


async def import_statement(
    tx: Tx, svc: Services, *, statement_id: str, lines: list[StatementLine]
) -> list[LineResult]:
    """Apply each line of a statement, in order."""
    return [await _apply(tx, svc, statement_id, line) for line in lines]


async def _apply(tx: Tx, svc: Services, statement_id: str, line: StatementLine) -> LineResult:
    now = svc.clock.now()
    reference = references.normalize(line.reference)
    claimed = await inputs_repo.claim_line(
        tx.conn,
        line_id=line.line_id,
        statement_id=statement_id,
        reference=reference,
        amount=line.amount,
        currency=line.currency,
        booked_at=line.booked_at,
    )
    if not claimed:
        return LineResult(line_id=line.line_id, result="duplicate")
    payment = None
    if references.is_valid(reference):
        payment = await svc.stores.payments(tx.conn).by_payment_reference(reference, lock=True)
    if payment is None:
        result = await _unmatched(tx, svc, line, at=now)
    else:
        result = await _matched(tx, svc, payment, line, at=now)
    await inputs_repo.settle_line(
        tx.conn,
        line_id=line.line_id,
        result=result.result,
        payment_id=result.payment_id,
        applied=result.applied,
        returned=result.returned,
    )
    return result


async def _unmatched(tx: Tx, svc: Services, line: StatementLine, *, at: datetime) -> LineResult:
    journal = Journal()
    journal.move(
        line.amount, line.currency, source=ledger.BUYER_FUNDS, target=ledger.UNAPPLIED_FUNDS
    )
    await svc.stores.ledger(tx.conn).post(
        journal.post(TransactionKind.RECEIPT, payment_id=None, at=at)
    )
    return LineResult(line_id=line.line_id, result="unknown_reference")


async def _matched(
    tx: Tx, svc: Services, payment: Payment, line: StatementLine, *, at: datetime
) -> LineResult:
    returned_before = payment.returned
    transaction, receipt = payment.receive(line.amount, line.currency, at=at)
    await svc.stores.ledger(tx.conn).post(transaction)
    payments = svc.stores.payments(tx.conn)
    if receipt is Receipt.RETURNED:
        await payments.save(payment, at=at)
        return _result(line, "returned", payment, applied=ZERO, returned=line.amount)
    if receipt is Receipt.PARTIAL:
        await payments.save(payment, at=at)
        tx.emit(integration.action_required(payment, at=at))
        return _result(line, "partial", payment, applied=line.amount, returned=ZERO)
    tx.emit(integration.payment_authorized(payment, at=at))
    await capture_and_settle(tx, svc, payment, at=at)
    excess = payment.returned - returned_before
    name = "overpaid" if receipt is Receipt.OVERPAID else "matched"
    if payment.status is not PaymentStatus.SETTLED:
        name = "returned"  # the settlement failed: the payment's funds went back
    return _result(line, name, payment, applied=line.amount - excess, returned=excess)


def _result(
    line: StatementLine, name: str, payment: Payment, *, applied: Decimal, returned: Decimal
) -> LineResult:
    waiting = payment.status is PaymentStatus.AWAITING_FUNDS
    return LineResult(
        line_id=line.line_id,
        result=name,
        payment_id=payment.id,
        applied=applied,
        returned=returned,
        outstanding=payment.outstanding if waiting else None,
        payment_status=payment.status.value,
        payment_currency=payment.currency,
    )
