"""From the domain and the read side to response bodies."""

from __future__ import annotations

from decimal import Decimal

from payment_svc.adapters.ledger_repo import METRICS, PaymentSums
from payment_svc.domain import references
from payment_svc.domain.fx import FxQuote
from payment_svc.entrypoints.api.schemas import (
    AccountOut,
    ActionOut,
    AttemptOut,
    BalanceOut,
    BreakdownOut,
    EntryOut,
    FailureOut,
    FxSnapshotOut,
    PaymentOut,
    PaymentReconciliation,
    ReconciliationOut,
    RefundOut,
    SettlementOut,
    SumsOut,
)
from payment_svc.service_layer.views import AccountView, PaymentDetails, Reconciliation
from xborder_events import Money


def _money(amount: Decimal, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


def _plain(value: Decimal) -> str:
    return format(value, "f")


def fx_out(fx: FxQuote | None) -> FxSnapshotOut | None:
    """An FX snapshot's body."""
    if fx is None:
        return None
    return FxSnapshotOut(
        rate=_plain(fx.rate),
        source_currency=fx.source_currency,
        target_currency=fx.target_currency,
        as_of=fx.as_of,
        provider=fx.provider,
    )


def payment_out(details: PaymentDetails) -> PaymentOut:
    """A payment's body, with its refunds and attempts."""
    p = details.payment
    c = p.currency
    action = None
    if p.action is not None:
        ref = p.action.payment_reference
        action = ActionOut(
            action=p.action.action,
            amount_due=_money(p.outstanding if p.action.action == "await_funds" else p.amount, c),
            approval_url=p.action.approval_url,
            payment_reference=ref,
            payment_reference_display=references.printable(ref) if ref else None,
            expires_at=p.action.expires_at,
        )
    failure = p.failure
    return PaymentOut(
        id=p.id,
        order_id=p.order_id,
        merchant_id=p.merchant_id,
        method=p.method,
        provider=p.provider,
        status=p.status.value,
        amount=_money(p.amount, c),
        breakdown=BreakdownOut(
            goods=_money(p.breakdown.goods, c),
            shipping=_money(p.breakdown.shipping, c),
            duties_and_taxes=_money(p.breakdown.duties, c)
            if p.breakdown.incoterm == "DDP"
            else None,
            incoterm=p.breakdown.incoterm,
        ),
        captured=_money(p.captured, c),
        refunded=_money(p.refunded, c),
        refundable=_money(p.refundable, c),
        fees=_money(p.fees, c),
        settlement=SettlementOut(
            currency=p.settlement_currency,
            amount=None
            if p.settlement_amount is None
            else _money(p.settlement_amount, p.settlement_currency),
            fx=fx_out(p.fx),
        ),
        provider_reference=p.provider_reference,
        action=action,
        failure=None
        if failure is None
        else FailureOut(
            stage=failure.stage,
            reason=failure.reason,
            provider_code=failure.code,
            detail=failure.detail,
        ),
        refunds=[
            RefundOut(
                id=r.id,
                reason=r.reason,
                status=r.status,
                amount=_money(r.amount, r.currency),
                settlement_amount=None
                if r.settlement_amount is None
                else _money(r.settlement_amount, r.settlement_currency),
                fx=fx_out(r.fx),
                provider_reference=r.provider_reference,
                failure=r.failure,
                detail=r.detail,
                requested_by=r.requested_by,
                created_at=r.created_at,
            )
            for r in details.refunds
        ],
        attempts=[
            AttemptOut(
                operation=a.operation,
                outcome=a.outcome,
                provider_code=a.provider_code,
                detail=a.detail,
                at=a.at,
            )
            for a in details.attempts
        ],
        created_at=p.created_at,
        authorized_at=p.authorized_at,
        settled_at=p.settled_at,
        closed_at=p.closed_at,
        updated_at=p.updated_at,
    )


def account_out(view: AccountView) -> AccountOut:
    """An account's body."""
    return AccountOut(
        account=view.account,
        balances=[
            BalanceOut(
                currency=b.currency,
                debits=_plain(b.debits),
                credits=_plain(b.credits),
                balance=_plain(b.balance),
            )
            for b in view.balances
        ],
        entries=[
            EntryOut(
                id=e.id,
                transaction_id=e.transaction_id,
                payment_id=e.payment_id,
                kind=e.kind,
                account=e.account,
                currency=e.currency,
                amount=_plain(e.amount),
                posted_at=e.posted_at,
            )
            for e in view.entries
        ],
        next_cursor=view.next_cursor,
    )


def sums_out(sums: PaymentSums) -> dict[str, object]:
    """The reconciliation figures of one payment or of the total."""
    figures: dict[str, object] = {
        name: {c: _plain(v) for c, v in sorted(sums.sums.get(name, {}).items())}
        for name in ("captured", *METRICS)
    }
    figures["net"] = {c: _plain(v) for c, v in sorted(sums.net.items())}
    figures["balanced"] = sums.balanced
    return figures


def reconciliation_out(report: Reconciliation) -> ReconciliationOut:
    """The reconciliation report's body."""
    payments = []
    for p in report.payments:
        assert p.payment_id is not None
        payments.append(
            PaymentReconciliation(
                payment_id=p.payment_id,
                order_id=p.order_id,
                merchant_id=p.merchant_id,
                **sums_out(p),
            )
        )
    return ReconciliationOut(
        date=report.day,
        payments=payments,
        totals=SumsOut(**sums_out(report.totals)),
        ledger_balanced=report.ledger_balanced,
        next_cursor=report.next_cursor,
    )
