"""The payment aggregate step by step, and the public events it turns into."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from payment_svc.domain import ledger
from payment_svc.domain.errors import (
    InvalidTransition,
    PaymentNotCaptured,
    RefundExceedsRefundable,
)
from payment_svc.domain.fx import FxQuote
from payment_svc.domain.payment import (
    Breakdown,
    Failure,
    Payment,
    PaymentStatus,
    PendingAction,
    Receipt,
)
from payment_svc.service_layer import integration

AT = datetime(2025, 11, 28, 9, 30, tzinfo=UTC)


def payment(method: str = "card", currency: str = "KWD", settlement: str = "JPY") -> Payment:
    return Payment(
        id=uuid4(),
        order_id=uuid4(),
        merchant_id="m-1",
        method=method,
        provider="sbx",
        provider_token="tok_visa",
        currency=currency,
        amount=Decimal("12.345"),
        breakdown=Breakdown(
            goods=Decimal("10.000"),
            shipping=Decimal("1.345"),
            duties=Decimal("1.000"),
            incoterm="DDP",
        ),
        settlement_currency=settlement,
        created_at=AT,
    )


FX = FxQuote(
    source_currency="KWD", target_currency="JPY", rate=Decimal("500.1"), as_of=AT, provider="t"
)


def test_a_card_payment_settles_into_another_currency() -> None:
    p = payment()
    p.authorize(reference="ref-1", at=AT)
    tx = p.settle(fee=Decimal("0.358"), fx=FX, at=AT)
    # net = 12.345 - 0.358 - 1.000 = 10.987 KWD x 500.1 = 5494.6 -> 5495 JPY
    assert p.settlement_amount == Decimal(5495)
    assert ledger.sums(tx.entries) == {"KWD": 0, "JPY": 0}
    balances = ledger.balances(tx.entries)
    assert balances[("merchant_payable:m-1", "JPY")] == Decimal(5495)
    assert balances[("duties_payable", "KWD")] == Decimal("1.000")
    assert balances[("provider_fees:sbx", "KWD")] == Decimal("0.358")
    event = integration.payment_settled(p)
    assert (event.settlement_amount.amount, event.settlement_amount.currency) == (5495, "JPY")
    assert event.fees is not None
    assert event.fees.amount == Decimal("0.358")
    assert event.duties_payable is not None
    assert event.fx.rate == Decimal("500.1")


def test_steps_out_of_order_are_refused() -> None:
    p = payment()
    with pytest.raises(InvalidTransition):
        p.settle(fee=Decimal(0), fx=FX, at=AT)
    with pytest.raises(PaymentNotCaptured):
        p.plan_refund(Decimal(1))
    p.authorize(reference="r", at=AT)
    with pytest.raises(InvalidTransition):
        p.authorize(reference="r", at=AT)
    p.settle(fee=Decimal(0), fx=FX, at=AT)
    with pytest.raises(InvalidTransition):
        p.fail(Failure(stage="capture", reason="provider_error"), at=AT)
    with pytest.raises(RefundExceedsRefundable):
        p.plan_refund(Decimal("12.346"))


def test_a_failed_authorized_payment_releases_its_hold() -> None:
    p = payment()
    p.authorize(reference="r", at=AT)
    tx = p.fail(Failure(stage="capture", reason="provider_error", code="x"), at=AT)
    assert tx is not None
    assert ledger.balances(tx.entries)[("authorization_holds", "KWD")] == Decimal("-12.345")
    assert p.status is PaymentStatus.FAILED
    event = integration.payment_failed(p, at=AT)
    assert (event.stage, event.reason, event.provider_code) == ("capture", "provider_error", "x")


def test_a_wire_in_two_parts_then_an_excess() -> None:
    p = payment(method="bank_wire")
    p.require_action(
        PendingAction(
            action="await_funds", expires_at=AT + timedelta(days=7), payment_reference="RF"
        ),
        reference="RF",
    )
    _, first = p.receive(Decimal("5.000"), "KWD", at=AT)
    assert (first, p.outstanding) == (Receipt.PARTIAL, Decimal("7.345"))
    event = integration.action_required(p, at=AT)
    assert (event.action, event.amount.amount) == ("await_funds", Decimal("7.345"))
    _, second = p.receive(Decimal("8.000"), "KWD", at=AT)
    assert second is Receipt.OVERPAID
    tx = p.settle(fee=Decimal(0), fx=FX, at=AT)
    assert ledger.balances(tx.entries)[("payer_returns", "KWD")] == Decimal("0.655")
    assert p.unapplied == 0
    _, late = p.receive(Decimal("1.000"), "KWD", at=AT)
    assert late is Receipt.RETURNED


def test_a_refund_in_full_gives_back_the_held_duties() -> None:
    p = payment(settlement="KWD")
    p.authorize(reference="r", at=AT)
    same = FxQuote(
        source_currency="KWD", target_currency="KWD", rate=Decimal(1), as_of=AT, provider="x"
    )
    p.settle(fee=Decimal("0.358"), fx=same, at=AT)
    plan = p.plan_refund(Decimal("12.345"))
    assert (plan.merchant_part, plan.duties_part) == (Decimal("11.345"), Decimal("1.000"))
    tx, cost = p.refund(plan, fx=same, at=AT)
    assert cost == Decimal("11.345")
    assert p.status is PaymentStatus.REFUNDED
    assert ledger.balances(tx.entries)[("buyer_refunds", "KWD")] == Decimal("12.345")
