"""Property: whatever happens to payments, the ledger balances and refunds never exceed
captures.

Random sequences of authorize, capture, partial and full refunds, wired funds, failures and
voids are applied to payments in JPY, EUR and KWD settled in other currencies; steps the
payment's status does not allow are refused by the domain and change nothing.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from payment_svc.domain import ledger
from payment_svc.domain.errors import PaymentError
from payment_svc.domain.fx import FxQuote
from payment_svc.domain.ledger import Entry, Transaction
from payment_svc.domain.money import ZERO, exponent, quantize
from payment_svc.domain.payment import (
    CAPTURED,
    Breakdown,
    Failure,
    Payment,
    PaymentStatus,
    PendingAction,
)

AT = datetime(2025, 11, 28, 9, 30, tzinfo=UTC)
CURRENCIES = ["JPY", "EUR", "KWD", "USD"]
OPERATIONS = [
    "authorize",
    "capture",
    "partial_refund",
    "full_refund",
    "fail",
    "void",
    "wire_funds",
    "over_refund",
]


@dataclass
class World:
    """Payments and every transaction posted for them."""

    payments: list[Payment] = field(default_factory=list)
    posted: list[Transaction] = field(default_factory=list)
    refused: int = 0


def _amount(draw: st.DrawFn, currency: str, *, low: int = 1, high: int = 500_000) -> Decimal:
    minor = draw(st.integers(min_value=low, max_value=high))
    return Decimal(minor) * exponent(currency)


@st.composite
def payments(draw: st.DrawFn) -> tuple[Payment, FxQuote]:
    currency = draw(st.sampled_from(CURRENCIES))
    settlement = draw(st.sampled_from(CURRENCIES))
    goods = _amount(draw, currency)
    shipping = _amount(draw, currency, low=0, high=50_000)
    ddp = draw(st.booleans())
    duties = _amount(draw, currency, low=0, high=50_000) if ddp else ZERO
    method = draw(st.sampled_from(["card", "international_card", "paypal", "bank_wire"]))
    payment = Payment(
        id=uuid4(),
        order_id=uuid4(),
        merchant_id="m-1",
        method=method,
        provider="sandbox",
        provider_token="tok_visa",
        currency=currency,
        amount=goods + shipping + duties,
        breakdown=Breakdown(
            goods=goods, shipping=shipping, duties=duties, incoterm="DDP" if ddp else "DAP"
        ),
        settlement_currency=settlement,
        created_at=AT,
    )
    if method == "bank_wire":
        payment.require_action(
            PendingAction(action="await_funds", expires_at=AT + timedelta(days=7)),
            reference="RF00XB",
        )
    rate = Decimal(draw(st.integers(min_value=1, max_value=10**8))) / Decimal(10**4)
    fx = FxQuote(
        source_currency=currency,
        target_currency=settlement,
        rate=Decimal(1) if currency == settlement else rate,
        as_of=AT,
        provider="test",
    )
    return payment, fx


def _apply(world: World, payment: Payment, fx: FxQuote, op: str, fraction: int) -> None:
    c = payment.currency
    at = AT + timedelta(minutes=len(world.posted))
    result: Transaction | None = None
    try:
        match op:
            case "authorize":
                result = payment.authorize(reference="ref", at=at)
            case "capture":
                fee = quantize(payment.amount * Decimal("0.029"), c)
                fee = min(fee, payment.amount - payment.breakdown.duties)
                result = payment.settle(fee=fee, fx=fx, at=at)
            case "partial_refund":
                part = quantize(payment.refundable * fraction / 100, c)
                plan = payment.plan_refund(part, duties=part if fraction % 2 else ZERO)
                result, _cost = payment.refund(plan, fx=fx, at=at)
            case "full_refund":
                plan = payment.plan_refund(payment.refundable, duties=payment.duties_held)
                result, _cost = payment.refund(plan, fx=fx, at=at)
            case "over_refund":
                before = payment.refunded
                try:
                    payment.plan_refund(payment.refundable + exponent(c))
                except PaymentError:
                    pass
                else:
                    raise AssertionError("a refund above what is refundable was planned")
                assert payment.refunded == before
                return
            case "fail":
                result = payment.fail(Failure(stage="authorization", reason="declined"), at=at)
            case "void":
                result = payment.void(at=at)
            case "wire_funds":
                part = quantize(payment.amount * fraction / 100, c) or exponent(c)
                result, _receipt = payment.receive(part, c, at=at)
    except PaymentError:
        world.refused += 1
        return
    if result is not None:
        world.posted.append(result)


def _entries(world: World, payment: Payment | None = None) -> list[Entry]:
    return [
        e
        for tx in world.posted
        if payment is None or tx.payment_id == payment.id
        for e in tx.entries
    ]


def _check(world: World) -> None:
    assert all(v == 0 for v in ledger.sums(_entries(world)).values()), "overall"
    for payment in world.payments:
        entries = _entries(world, payment)
        assert all(v == 0 for v in ledger.sums(entries).values()), "per payment"
        balances = ledger.balances(entries)
        c = payment.currency
        refunded = balances.get((ledger.BUYER_REFUNDS.code, c), ZERO)
        captured = sum(
            (
                e.amount
                for tx in world.posted
                if tx.payment_id == payment.id and tx.kind == ledger.TransactionKind.CAPTURE
                for e in tx.entries
                if e.account == payment.clearing and e.amount > 0 and e.currency == c
            ),
            ZERO,
        )
        assert refunded == payment.refunded
        assert captured == payment.captured
        assert ZERO <= payment.refunded <= payment.captured <= payment.amount
        assert ZERO <= payment.duties_held <= max(payment.refundable, ZERO)
        holds = balances.get((ledger.AUTHORIZATION_HOLDS.code, c), ZERO)
        assert holds == (payment.amount if payment.hold_open else ZERO)
        if payment.status not in (PaymentStatus.AWAITING_FUNDS,):
            assert balances.get((ledger.UNAPPLIED_FUNDS.code, c), ZERO) == ZERO
        if payment.status in CAPTURED:
            assert payment.fx is not None
            assert payment.settlement_amount is not None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(payments(), min_size=1, max_size=3),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2),
            # Steps that move a payment on are drawn more often than the ones that end it.
            st.sampled_from(
                OPERATIONS + ["authorize", "capture", "partial_refund", "wire_funds"] * 2
            ),
            st.integers(min_value=1, max_value=100),
        ),
        max_size=40,
    ),
)
def test_the_ledger_balances_and_refunds_never_exceed_captures(
    made: list[tuple[Payment, FxQuote]], steps: list[tuple[int, str, int]]
) -> None:
    world = World(payments=[p for p, _ in made])
    for index, op, fraction in steps:
        payment, fx = made[index % len(made)]
        _apply(world, payment, fx, op, fraction)
        _check(world)


@settings(max_examples=100, deadline=None)
@given(payments(), st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=12))
def test_refunding_until_nothing_is_left_returns_exactly_what_was_captured(
    made: tuple[Payment, FxQuote], fractions: list[int]
) -> None:
    payment, fx = made
    world = World(payments=[payment])
    if payment.method == "bank_wire":
        _apply(world, payment, fx, "wire_funds", 100)
    else:
        _apply(world, payment, fx, "authorize", 100)
    _apply(world, payment, fx, "capture", 100)
    assert payment.status is PaymentStatus.SETTLED
    for fraction in fractions:
        _apply(world, payment, fx, "partial_refund", fraction)
    _apply(world, payment, fx, "full_refund", 100)
    _check(world)
    assert payment.status is PaymentStatus.REFUNDED
    assert payment.refunded == payment.captured == payment.amount
    assert payment.duties_held == 0
