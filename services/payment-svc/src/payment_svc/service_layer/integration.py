"""The one place where the domain's payments and refunds become public events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from payment_svc.domain.fx import FxQuote
from payment_svc.domain.payment import Payment
from payment_svc.domain.refund import Refund
from xborder_events import Money
from xborder_events.payments import (
    FxSnapshot,
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentFailed,
    PaymentRefunded,
    PaymentSettled,
    RefundFailed,
)


def money(amount: Decimal, currency: str) -> Money:
    """An event's Money."""
    return Money(amount=amount, currency=currency)


def snapshot(fx: FxQuote) -> FxSnapshot:
    """An event's FX snapshot."""
    return FxSnapshot(
        rate=fx.rate,
        source_currency=fx.source_currency,
        target_currency=fx.target_currency,
        as_of=fx.as_of,
        provider=fx.provider[:128],
    )


def payment_authorized(payment: Payment, *, at: datetime) -> PaymentAuthorized:
    """The amount is authorized (or, for a wire, received)."""
    return PaymentAuthorized(
        order_id=payment.order_id,
        payment_id=payment.id,
        method=payment.method,
        provider=payment.provider,
        provider_reference=payment.provider_reference or str(payment.id),
        amount=money(payment.amount, payment.currency),
        authorized_at=at,
    )


def action_required(payment: Payment, *, at: datetime) -> PaymentActionRequired:
    """The payment waits for the buyer, or for (the rest of) a bank wire."""
    action = payment.action
    assert action is not None, "only a payment waiting for something requires an action"
    awaited = payment.outstanding if action.action == "await_funds" else payment.amount
    return PaymentActionRequired(
        order_id=payment.order_id,
        payment_id=payment.id,
        method=payment.method,
        action=action.action,
        amount=money(awaited, payment.currency),
        approval_url=action.approval_url,
        payment_reference=action.payment_reference,
        expires_at=action.expires_at,
        required_at=at,
    )


def payment_settled(payment: Payment) -> PaymentSettled:
    """Captured and converted into the merchant's settlement currency."""
    assert payment.fx is not None
    assert payment.settlement_amount is not None
    assert payment.settled_at is not None
    c = payment.currency
    return PaymentSettled(
        order_id=payment.order_id,
        payment_id=payment.id,
        amount=money(payment.captured, c),
        settlement_amount=money(payment.settlement_amount, payment.settlement_currency),
        fx=snapshot(payment.fx),
        settled_at=payment.settled_at,
        fees=money(payment.fees, c),
        duties_payable=money(payment.breakdown.duties, c)
        if payment.breakdown.incoterm == "DDP"
        else None,
    )


def payment_failed(payment: Payment, *, at: datetime) -> PaymentFailed:
    """The payment failed, with the stage and the reason."""
    failure = payment.failure
    assert failure is not None
    return PaymentFailed(
        order_id=payment.order_id,
        payment_id=payment.id,
        stage=failure.stage,
        reason=failure.reason,
        provider_code=failure.code[:128] if failure.code else None,
        detail=failure.detail[:2000] if failure.detail else None,
        failed_at=at,
    )


def payment_refunded(refund: Refund) -> PaymentRefunded:
    """Money went back to the buyer."""
    return PaymentRefunded(
        order_id=refund.order_id,
        payment_id=refund.payment_id,
        refund_id=refund.id,
        reason=refund.reason,
        amount=money(refund.amount, refund.currency),
        settlement_amount=None
        if refund.settlement_amount is None
        else money(refund.settlement_amount, refund.settlement_currency),
        fx=None if refund.fx is None else snapshot(refund.fx),
        provider_reference=refund.provider_reference,
        refunded_at=refund.created_at,
    )


def refund_failed(refund: Refund) -> RefundFailed:
    """A refund could not be made."""
    assert refund.failure is not None
    return RefundFailed(
        order_id=refund.order_id,
        payment_id=refund.payment_id,
        refund_id=refund.id,
        reason=refund.reason,
        amount=money(refund.amount, refund.currency),
        failure=refund.failure,
        detail=refund.detail[:2000] if refund.detail else None,
        failed_at=refund.created_at,
    )
