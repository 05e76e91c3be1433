"""The use cases on in-memory stores and the real sandbox providers (network off): what
OrderPlaced checks before charging, and that a retried handler or request charges or refunds
once at the provider.

A transaction here works on a copy of the committed state; a failed commit throws the copy
away, as PostgreSQL rolls a transaction back. The sandbox provider is outside the transaction,
as a real provider is: what it was asked stays asked.
"""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast
from uuid import UUID, uuid4

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.providers.base import ProviderRegistry
from payment_svc.adapters.providers.sandbox import (
    SandboxBankWireProvider,
    SandboxCardProvider,
    SandboxConfig,
    SandboxNetwork,
    SandboxWalletProvider,
)
from payment_svc.domain import idempotency
from payment_svc.domain.cards import REDACTED_TOKEN
from payment_svc.domain.fees import FeeRule, FeeSchedule
from payment_svc.domain.fx import Rate
from payment_svc.domain.ledger import Transaction
from payment_svc.domain.merchants import MerchantDirectory, SettlementTerms
from payment_svc.domain.payment import Payment, PaymentStatus
from payment_svc.domain.provider import RefundAccepted, RefundRejected
from payment_svc.domain.refund import Refund
from payment_svc.service_layer.charging import on_order_placed
from payment_svc.service_layer.context import Services, Tx
from payment_svc.service_layer.refunding import on_order_cancelled, request_refund
from xborder_events import Envelope, Event, envelope_for
from xborder_events.base import Money
from xborder_events.orders import OrderPlaced, OrderTotals
from xborder_events.payments import (
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentFailed,
    PaymentRefunded,
    PaymentSettled,
)
from xborder_events.testing import sample
from xborder_platform.http.card_data import looks_like_pan
from xborder_platform.logging import configure_logging

NOW = datetime(2025, 11, 28, 9, 30, tzinfo=UTC)
CNY_MERCHANT = "m-cny"
XOF_MERCHANT = "m-xof"  # settled in a currency no rate reaches
PAN = "4111 1111 1111 1111"  # a test card number: passes the Luhn check

T = TypeVar("T")


# --- in-memory stores ------------------------------------------------------------------------


@dataclass
class State:
    """What the database holds."""

    payments: dict[UUID, Payment] = field(default_factory=dict)
    attempts: list[tuple[UUID, str, str, str | None]] = field(default_factory=list)
    refunds: dict[UUID, Refund] = field(default_factory=dict)
    ledger: list[Transaction] = field(default_factory=list)
    outbox: list[Event] = field(default_factory=list)


class FakeConn:
    """Stands for a transaction's connection: the state the transaction sees."""

    def __init__(self, state: State) -> None:
        self.state = state


def _state(conn: AsyncConnection) -> State:
    return cast(FakeConn, conn).state


class FakePayments:
    def __init__(self, state: State) -> None:
        self.s = state

    async def add(self, payment: Payment) -> bool:
        if any(p.order_id == payment.order_id for p in self.s.payments.values()):
            return False
        self.s.payments[payment.id] = copy.deepcopy(payment)
        return True

    async def save(self, payment: Payment, *, at: datetime) -> None:
        payment.version += 1
        payment.updated_at = at
        self.s.payments[payment.id] = copy.deepcopy(payment)

    def _find(self, match: Callable[[Payment], bool]) -> Payment | None:
        found = [p for p in self.s.payments.values() if match(p)]
        return copy.deepcopy(found[0]) if found else None

    async def get(self, payment_id: UUID, *, lock: bool = False) -> Payment | None:
        return self._find(lambda p: p.id == payment_id)

    async def by_order(self, order_id: UUID, *, lock: bool = False) -> Payment | None:
        return self._find(lambda p: p.order_id == order_id)

    async def by_provider_reference(
        self, provider: str, reference: str, *, lock: bool = False
    ) -> Payment | None:
        return self._find(lambda p: (p.provider, p.provider_reference) == (provider, reference))

    async def by_payment_reference(self, reference: str, *, lock: bool = False) -> Payment | None:
        return self._find(
            lambda p: p.action is not None and p.action.payment_reference == reference
        )

    async def due_for_expiry(self, now: datetime, *, limit: int) -> list[Payment]:
        return []

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
        self.s.attempts.append((payment_id, operation, outcome, code))


class FakeRefunds:
    def __init__(self, state: State) -> None:
        self.s = state

    async def add(self, refund: Refund) -> bool:
        if refund.id in self.s.refunds or (
            refund.trigger is not None
            and any(
                (r.payment_id, r.trigger) == (refund.payment_id, refund.trigger)
                for r in self.s.refunds.values()
            )
        ):
            return False
        self.s.refunds[refund.id] = refund
        return True

    async def has_trigger(self, payment_id: UUID, trigger: str) -> bool:
        return any(
            (r.payment_id, r.trigger) == (payment_id, trigger) for r in self.s.refunds.values()
        )

    async def get(self, refund_id: UUID) -> Refund | None:
        return self.s.refunds.get(refund_id)


class FakeLedger:
    def __init__(self, state: State) -> None:
        self.s = state

    async def post(self, *transactions: Transaction | None) -> None:
        self.s.ledger.extend(t for t in transactions if t is not None)


class FakeRates:
    def __init__(self, seed: Sequence[Rate]) -> None:
        self.seed = seed

    async def rates_between(self, currencies: Collection[str], *, at: datetime) -> list[Rate]:
        return [
            r for r in self.seed if r.base in currencies and r.quote in currencies and r.as_of <= at
        ]


class FakeStores:
    def payments(self, conn: AsyncConnection) -> FakePayments:
        return FakePayments(_state(conn))

    def refunds(self, conn: AsyncConnection) -> FakeRefunds:
        return FakeRefunds(_state(conn))

    def ledger(self, conn: AsyncConnection) -> FakeLedger:
        return FakeLedger(_state(conn))

    def rates(self, conn: AsyncConnection, *, seed: Sequence[Rate]) -> FakeRates:
        return FakeRates(seed)


class FakeTx:
    """One transaction: a connection to its working state, and the outbox."""

    def __init__(self, state: State) -> None:
        self.state = state
        self._conn = cast(AsyncConnection, FakeConn(state))

    @property
    def conn(self) -> AsyncConnection:
        return self._conn

    def emit(self, event: Event) -> Envelope:
        self.state.outbox.append(event)
        return envelope_for(event, source="xborder/payment-svc")


class CommitFailed(Exception):
    """The database went away before the transaction committed."""


@dataclass
class FakeDb:
    committed: State = field(default_factory=State)
    last: FakeTx | None = None

    async def run(self, use_case: Callable[[Tx], Awaitable[T]], *, commit_fails: bool = False) -> T:
        """Run `use_case` in a transaction; with `commit_fails` its work is lost."""
        tx = FakeTx(copy.deepcopy(self.committed))
        self.last = tx
        result = await use_case(tx)
        if commit_fails:
            raise CommitFailed("the connection was lost before COMMIT")
        self.committed = tx.state
        return result

    def events(self, order_id: UUID) -> list[Event]:
        return [e for e in self.committed.outbox if getattr(e, "order_id", None) == order_id]


class FixedClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class World:
    db: FakeDb
    svc: Services
    cards: SandboxCardProvider
    wires: SandboxBankWireProvider


@pytest.fixture
def world() -> World:
    network = SandboxNetwork(
        SandboxConfig(
            network_on=False,
            approval_delay=timedelta(seconds=1),
            action_expiry=timedelta(hours=1),
            bank_wire_expiry=timedelta(days=7),
            approval_base_url="http://sandbox.invalid",
        )
    )
    cards, wallets, wires = (
        SandboxCardProvider(network),
        SandboxWalletProvider(network),
        SandboxBankWireProvider(network),
    )
    since = date(2020, 1, 1)
    svc = Services(
        providers=ProviderRegistry(
            {
                "card": cards,
                "international_card": cards,
                "paypal": wallets,
                "alipay": wallets,
                "bank_wire": wires,
            }
        ),
        fees=FeeSchedule(
            [
                FeeRule(
                    method=m,
                    effective_from=since,
                    percent=Decimal("2.9"),
                    fixed={"USD": Decimal("0.30")},
                )
                for m in ("card", "international_card", "paypal", "alipay", "bank_wire")
            ]
        ),
        merchants=MerchantDirectory(
            [
                SettlementTerms(merchant_id=CNY_MERCHANT, currency="CNY", effective_from=since),
                SettlementTerms(merchant_id=XOF_MERCHANT, currency="XOF", effective_from=since),
            ],
            default_currency="USD",
        ),
        seed_rates=(
            Rate(base="USD", quote="CNY", rate=Decimal("7.1235"), as_of=NOW, source="seed"),
            Rate(base="EUR", quote="USD", rate=Decimal("1.0850"), as_of=NOW, source="seed"),
        ),
        clock=FixedClock(),
        pivot_currency="USD",
        webhook_secret=lambda provider: b"secret",
        webhook_tolerance_s=300,
        stores=FakeStores(),
    )
    return World(db=FakeDb(), svc=svc, cards=cards, wires=wires)


def order(**overrides: Any) -> OrderPlaced:
    """USD 36.00 (goods 25.00, shipping 7.90, DDP duties 3.10) by card, tok_visa."""
    payment = {"method": "card", "provider": "adyen", "provider_token": "tok_visa"}
    payment.update(overrides.pop("payment", {}))
    return sample(
        OrderPlaced,
        order_id=uuid4(),
        merchant_id=overrides.pop("merchant_id", CNY_MERCHANT),
        payment=payment,
        **overrides,
    )


def placed(w: World, event: OrderPlaced) -> Callable[[Tx], Awaitable[None]]:
    return lambda tx: on_order_placed(tx, event, w.svc)


def names(events: Sequence[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def only(w: World) -> Payment:
    (payment,) = w.db.committed.payments.values()
    return payment


# --- OrderPlaced: what is checked before anything is charged ---------------------------------


async def test_an_order_that_adds_up_is_charged(world: World) -> None:
    event = order()
    await world.db.run(placed(world, event))
    assert names(world.db.events(event.order_id)) == ["PaymentAuthorized", "PaymentSettled"]
    assert only(world).status is PaymentStatus.SETTLED


async def test_an_order_whose_totals_do_not_add_up_fails_before_the_provider(
    world: World,
) -> None:
    event = order()
    # The event's own validators refuse such totals: build them as a broken producer would.
    t = event.totals
    wrong = OrderTotals.model_construct(
        items=t.items,
        shipping=t.shipping,
        duties_and_taxes=t.duties_and_taxes,
        grand_total=Money(amount=Decimal("35.99"), currency="USD"),
    )
    broken = event.model_copy(update={"totals": wrong})
    await world.db.run(placed(world, broken))
    (failed,) = world.db.events(event.order_id)
    assert isinstance(failed, PaymentFailed)
    assert (failed.stage, failed.reason, failed.provider_code) == (
        "authorization",
        "declined",
        "amount_mismatch",
    )
    assert failed.detail is not None
    assert "grand_total 35.99 is not items+shipping+duties 36.00" in failed.detail
    assert world.db.committed.attempts == []  # the provider was never asked
    assert only(world).status is PaymentStatus.FAILED


async def test_a_merchant_settled_in_a_currency_without_a_rate_is_not_charged(
    world: World,
) -> None:
    event = order(merchant_id=XOF_MERCHANT)
    await world.db.run(placed(world, event))
    (failed,) = world.db.events(event.order_id)
    assert isinstance(failed, PaymentFailed)
    assert (failed.stage, failed.reason, failed.provider_code) == (
        "authorization",
        "provider_error",
        "fx_rate_unavailable",
    )
    assert world.db.committed.attempts == []
    payment = only(world)
    assert (payment.status, payment.settlement_currency) == (PaymentStatus.FAILED, "XOF")


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The service's JSON log lines (the platform's logging set-up, every level), captured."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    configure_logging(service="payment-svc", level="DEBUG", fmt="json")
    out = io.StringIO()
    capture = logging.StreamHandler(out)
    capture.setFormatter(root.handlers[0].formatter)
    root.addHandler(capture)
    try:
        yield out
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**config)


@pytest.mark.parametrize("token", [PAN, "4111111111111111", "tok_4111-1111-1111-1111"])
async def test_a_card_number_as_provider_token_is_refused_never_stored_nor_logged(
    world: World, json_logs: io.StringIO, token: str
) -> None:
    event = order(payment={"provider_token": token})
    await world.db.run(placed(world, event))
    (failed,) = world.db.events(event.order_id)
    assert isinstance(failed, PaymentFailed)
    assert (failed.reason, failed.provider_code) == ("declined", "card_data_refused")
    payment = only(world)
    assert payment.status is PaymentStatus.FAILED
    assert payment.provider_token == REDACTED_TOKEN
    assert world.db.committed.attempts == []  # never sent to the provider
    assert "4111" not in repr(world.db.committed)
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert any(line["event"].startswith("provider token refused") for line in lines), lines
    assert not looks_like_pan(json_logs.getvalue())
    assert "1111" not in json_logs.getvalue()


async def test_a_provider_token_is_stored_as_it_came(world: World) -> None:
    event = order(payment={"provider_token": "tok_mastercard_4242"})
    await world.db.run(placed(world, event))
    assert only(world).provider_token == "tok_mastercard_4242"


# --- retries: one payment, one reference, one refund at the provider --------------------------


async def test_a_retried_order_placed_asks_about_the_same_payment(world: World) -> None:
    event = order(payment={"method": "bank_wire", "provider": "bank", "provider_token": "x"})
    with pytest.raises(CommitFailed):
        await world.db.run(placed(world, event), commit_fails=True)
    assert world.db.last is not None
    (lost,) = world.db.last.state.payments.values()
    await world.db.run(placed(world, event))
    payment = only(world)
    assert payment.id == lost.id == idempotency.payment_id(event.order_id)
    assert payment.provider_reference == lost.provider_reference
    assert payment.action is not None
    assert lost.action is not None
    assert payment.action.payment_reference == lost.action.payment_reference
    (action,) = world.db.events(event.order_id)
    assert isinstance(action, PaymentActionRequired)


async def test_a_retried_card_payment_keeps_its_provider_reference(world: World) -> None:
    event = order()
    with pytest.raises(CommitFailed):
        await world.db.run(placed(world, event), commit_fails=True)
    assert world.db.last is not None
    (lost,) = world.db.last.state.payments.values()
    await world.db.run(placed(world, event))
    assert only(world).provider_reference == lost.provider_reference is not None
    assert names(world.db.events(event.order_id)) == ["PaymentAuthorized", "PaymentSettled"]
    (authorized,) = [e for e in world.db.events(event.order_id) if isinstance(e, PaymentAuthorized)]
    assert authorized.payment_id == lost.id


async def test_a_cancellation_refund_retried_after_a_failed_commit_is_paid_once(
    world: World,
) -> None:
    event = order()
    await world.db.run(placed(world, event))
    payment = only(world)

    def cancelled(tx: Tx) -> Awaitable[None]:
        return on_order_cancelled(tx, event.order_id, world.svc)

    with pytest.raises(CommitFailed):
        await world.db.run(cancelled, commit_fails=True)
    assert len(world.cards.refunds_of(payment.id)) == 1  # the provider did refund
    await world.db.run(cancelled)  # the consumer runs the handler again
    await world.db.run(cancelled)  # and the event is delivered once more
    (paid,) = world.cards.refunds_of(payment.id)
    assert paid.amount == Decimal("36.00")
    assert isinstance(paid.outcome, RefundAccepted)
    (refund,) = world.db.committed.refunds.values()
    assert (
        refund.id == paid.refund_id == idempotency.policy_refund_id(payment.id, "order_cancelled")
    )
    assert refund.provider_reference == paid.outcome.reference
    refunded = [e for e in world.db.events(event.order_id) if isinstance(e, PaymentRefunded)]
    assert [r.refund_id for r in refunded] == [refund.id]
    assert only(world).status is PaymentStatus.REFUNDED


async def test_a_refund_request_retried_with_its_key_is_paid_once(world: World) -> None:
    event = order()
    await world.db.run(placed(world, event))
    payment = only(world)

    def refund(key: str, amount: str = "5.00") -> Callable[[Tx], Awaitable[Refund]]:
        return lambda tx: request_refund(
            tx,
            world.svc,
            payment_id=payment.id,
            merchant_id=CNY_MERCHANT,
            amount=Decimal(amount),
            currency="USD",
            reason="goodwill",
            idempotency_scope=f"merchant:{CNY_MERCHANT}",
            idempotency_key=key,
        )

    with pytest.raises(CommitFailed):
        await world.db.run(refund("key-1"), commit_fails=True)
    first = await world.db.run(refund("key-1"))
    again = await world.db.run(refund("key-1"))  # after the commit: the refund made
    assert again == first
    assert [r.refund_id for r in world.cards.refunds_of(payment.id)] == [first.id]
    other = await world.db.run(refund("key-2"))  # another key: another refund
    assert other.id != first.id
    assert [r.amount for r in world.cards.refunds_of(payment.id)] == [Decimal("5.00")] * 2
    assert only(world).refunded == Decimal("10.00")
    assert len([e for e in world.db.events(event.order_id) if isinstance(e, PaymentRefunded)]) == 2
    settled = [e for e in world.db.events(event.order_id) if isinstance(e, PaymentSettled)]
    assert len(settled) == 1


async def test_the_sandbox_refuses_a_known_refund_id_for_another_amount(world: World) -> None:
    event = order()
    await world.db.run(placed(world, event))
    payment = only(world)
    refund_id = uuid4()
    conn = cast(AsyncConnection, FakeConn(State()))
    first = await world.cards.refund(conn, payment, refund_id=refund_id, amount=Decimal(5), at=NOW)
    same = await world.cards.refund(conn, payment, refund_id=refund_id, amount=Decimal(5), at=NOW)
    other = await world.cards.refund(conn, payment, refund_id=refund_id, amount=Decimal(6), at=NOW)
    assert isinstance(first, RefundAccepted)
    assert same == first
    assert isinstance(other, RefundRejected)
    assert other.code == "idempotency_key_reused"
    assert len(world.cards.refunds_of(payment.id)) == 1
