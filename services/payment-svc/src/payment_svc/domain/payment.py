"""The payment aggregate: its status machine and the ledger transaction of each step.

    pending --> requires_action --> authorized --> settled --> partially_refunded --> refunded
       |  \\---------------------/     |    \\                          \\-------------/
       |   awaiting_funds (wires) ------+-----> settled
       +--> failed | voided  (from pending, requires_action, awaiting_funds, authorized)

Every step that moves money returns the balanced `Transaction` that records it; the caller
stores the payment and the transaction together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal
from uuid import UUID

from payment_svc.domain import ledger
from payment_svc.domain.errors import (
    CurrencyMismatch,
    FeesExceedAmount,
    InvalidAmount,
    InvalidTransition,
    PaymentNotCaptured,
    RefundExceedsRefundable,
)
from payment_svc.domain.fx import FxQuote
from payment_svc.domain.ledger import Journal, Transaction, TransactionKind
from payment_svc.domain.money import ZERO, fits

Stage = Literal["authorization", "capture"]
FailureReason = Literal[
    "declined",
    "insufficient_funds",
    "authentication_failed",
    "fraud_suspected",
    "expired",
    "provider_error",
]
ActionKind = Literal["redirect", "authenticate", "await_funds"]


class PaymentStatus(StrEnum):
    """Where a payment is."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    AWAITING_FUNDS = "awaiting_funds"
    AUTHORIZED = "authorized"
    SETTLED = "settled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"
    VOIDED = "voided"


#: Statuses from which a payment can still fail or be voided.
OPEN = frozenset(
    {
        PaymentStatus.PENDING,
        PaymentStatus.REQUIRES_ACTION,
        PaymentStatus.AWAITING_FUNDS,
        PaymentStatus.AUTHORIZED,
    }
)
#: Statuses in which money was captured.
CAPTURED = frozenset(
    {PaymentStatus.SETTLED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)


class Receipt(StrEnum):
    """What a bank wire that arrived did to its payment."""

    PARTIAL = "partial"
    EXACT = "exact"
    OVERPAID = "overpaid"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True, kw_only=True)
class Breakdown:
    """What the grand total is made of, in the order's currency."""

    goods: Decimal
    shipping: Decimal
    duties: Decimal
    incoterm: Literal["DDP", "DAP"]

    @property
    def total(self) -> Decimal:
        """Goods + shipping + prepaid duties."""
        return self.goods + self.shipping + self.duties


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingAction:
    """What the payment waits for."""

    action: ActionKind
    expires_at: datetime
    approval_url: str | None = None
    payment_reference: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """Why a payment failed."""

    stage: Stage
    reason: FailureReason
    code: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundPlan:
    """A refund split by where its money comes back from."""

    total: Decimal
    merchant_part: Decimal
    duties_part: Decimal


@dataclass(kw_only=True)
class Payment:
    """One order's payment, in the order's currency, settled in the merchant's."""

    id: UUID
    order_id: UUID
    merchant_id: str
    method: str
    provider: str
    provider_token: str
    currency: str
    amount: Decimal
    breakdown: Breakdown
    settlement_currency: str
    created_at: datetime
    status: PaymentStatus = PaymentStatus.PENDING
    provider_reference: str | None = None
    action: PendingAction | None = None
    failure: Failure | None = None
    hold_open: bool = False
    captured: Decimal = ZERO
    refunded: Decimal = ZERO
    fees: Decimal = ZERO
    duties_held: Decimal = ZERO
    received: Decimal = ZERO
    returned: Decimal = ZERO
    settlement_amount: Decimal | None = None
    fx: FxQuote | None = None
    authorized_at: datetime | None = None
    settled_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    # -- reading ---------------------------------------------------------------------------

    @property
    def refundable(self) -> Decimal:
        """Captured and not refunded yet."""
        return self.captured - self.refunded

    @property
    def unapplied(self) -> Decimal:
        """Money received by wire that is neither applied to the payment nor returned."""
        return self.received - self.returned - (self.captured if self._by_wire else ZERO)

    @property
    def outstanding(self) -> Decimal:
        """What a bank wire still has to bring."""
        return max(self.amount - self.unapplied, ZERO) if not self.captured else ZERO

    @property
    def _by_wire(self) -> bool:
        return self.method == "bank_wire"

    @property
    def clearing(self) -> ledger.Account:
        """The provider's clearing account."""
        return ledger.provider_clearing(self.provider)

    def _expect(self, allowed: frozenset[PaymentStatus] | set[PaymentStatus], step: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(f"a {self.status} payment cannot {step}")

    # -- steps -----------------------------------------------------------------------------

    def require_action(self, action: PendingAction, *, reference: str | None) -> None:
        """The provider waits for the buyer (a redirect, a step-up) or for a bank wire."""
        self._expect({PaymentStatus.PENDING}, "wait for the buyer")
        self.action = action
        self.provider_reference = reference or self.provider_reference
        self.status = (
            PaymentStatus.AWAITING_FUNDS
            if action.action == "await_funds"
            else PaymentStatus.REQUIRES_ACTION
        )

    def authorize(self, *, reference: str, at: datetime) -> Transaction:
        """The provider authorized the amount: hold it."""
        self._expect({PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION}, "be authorized")
        journal = Journal()
        journal.move(
            self.amount, self.currency, source=ledger.BUYER_FUNDS, target=ledger.AUTHORIZATION_HOLDS
        )
        self.status = PaymentStatus.AUTHORIZED
        self.provider_reference = reference
        self.action = None
        self.hold_open = True
        self.authorized_at = at
        return journal.post(TransactionKind.AUTHORIZE, payment_id=self.id, at=at)

    def receive(
        self, amount: Decimal, currency: str, *, at: datetime
    ) -> tuple[Transaction, Receipt]:
        """A bank wire quoting this payment's reference arrived."""
        if amount <= 0 or not fits(amount, currency):
            raise InvalidAmount(f"a received amount must be positive, not {amount} {currency}")
        journal = Journal()
        journal.move(amount, currency, source=ledger.BUYER_FUNDS, target=ledger.UNAPPLIED_FUNDS)
        if currency != self.currency or self.status is not PaymentStatus.AWAITING_FUNDS:
            # Nothing to apply it to: it goes back to the payer.
            journal.move(
                amount, currency, source=ledger.UNAPPLIED_FUNDS, target=ledger.PAYER_RETURNS
            )
            if currency == self.currency:
                self.received += amount
                self.returned += amount
            posted = journal.post(TransactionKind.RECEIPT, payment_id=self.id, at=at)
            return posted, Receipt.RETURNED
        self.received += amount
        held = self.unapplied
        receipt = (
            Receipt.PARTIAL
            if held < self.amount
            else Receipt.EXACT
            if held == self.amount
            else Receipt.OVERPAID
        )
        return journal.post(TransactionKind.RECEIPT, payment_id=self.id, at=at), receipt

    def settle(self, *, fee: Decimal, fx: FxQuote, at: datetime) -> Transaction:
        """Capture the amount, take the fee, hold prepaid duties, owe the merchant the rest."""
        self._check_settlement(fee, fx)
        journal = Journal()
        source = ledger.AUTHORIZATION_HOLDS if self.hold_open else ledger.UNAPPLIED_FUNDS
        c = self.currency
        journal.move(self.amount, c, source=source, target=self.clearing)
        journal.move(fee, c, source=self.clearing, target=ledger.provider_fees(self.provider))
        duties = self.breakdown.duties
        journal.move(duties, c, source=self.clearing, target=ledger.DUTIES_PAYABLE)
        net = self.amount - fee - duties
        payable = ledger.merchant_payable(self.merchant_id)
        settlement = fx.convert(net)
        if c == self.settlement_currency:
            journal.move(net, c, source=self.clearing, target=payable)
        else:
            journal.move(net, c, source=self.clearing, target=ledger.FX_CONVERSION)
            journal.move(
                settlement, self.settlement_currency, source=ledger.FX_CONVERSION, target=payable
            )
        if not self.hold_open:
            excess = self.received - self.returned - self.amount
            journal.move(excess, c, source=ledger.UNAPPLIED_FUNDS, target=ledger.PAYER_RETURNS)
            self.returned += excess
        self.status = PaymentStatus.SETTLED
        self.captured, self.fees, self.duties_held = self.amount, fee, duties
        self.settlement_amount, self.fx = settlement, fx
        self.hold_open, self.action = False, None
        self.authorized_at = self.authorized_at or at
        self.settled_at = at
        return journal.post(TransactionKind.CAPTURE, payment_id=self.id, at=at)

    def _check_settlement(self, fee: Decimal, fx: FxQuote) -> None:
        if self.status is PaymentStatus.AWAITING_FUNDS:
            if self.unapplied < self.amount:
                raise InvalidTransition("a bank wire settles once its funds arrived")
        else:
            self._expect({PaymentStatus.AUTHORIZED}, "be captured")
        if (fx.source_currency, fx.target_currency) != (self.currency, self.settlement_currency):
            raise CurrencyMismatch(
                f"the rate converts {fx.source_currency} to {fx.target_currency}, not "
                f"{self.currency} to {self.settlement_currency}"
            )
        if fee < 0 or not fits(fee, self.currency):
            raise InvalidAmount(f"a fee must be non-negative in {self.currency}, not {fee}")
        if fee + self.breakdown.duties > self.amount:
            raise FeesExceedAmount(
                f"fees of {fee} and duties of {self.breakdown.duties} exceed {self.amount}"
            )

    def fail(self, failure: Failure, *, at: datetime) -> Transaction | None:
        """The payment failed: release any hold and return any wired funds."""
        self._expect(OPEN, "fail")
        transaction = self._unwind(at)
        self.status = PaymentStatus.FAILED
        self.failure = failure
        self.closed_at = at
        return transaction

    def void(self, *, at: datetime) -> Transaction | None:
        """The order was cancelled before capture: release any hold and return wired funds."""
        self._expect(OPEN, "be voided")
        transaction = self._unwind(at)
        self.status = PaymentStatus.VOIDED
        self.closed_at = at
        return transaction

    def _unwind(self, at: datetime) -> Transaction | None:
        journal = Journal()
        kind = TransactionKind.RELEASE
        if self.hold_open:
            journal.move(
                self.amount,
                self.currency,
                source=ledger.AUTHORIZATION_HOLDS,
                target=ledger.BUYER_FUNDS,
            )
            self.hold_open = False
        held = self.unapplied
        if held > 0:
            kind = TransactionKind.RETURN
            journal.move(
                held, self.currency, source=ledger.UNAPPLIED_FUNDS, target=ledger.PAYER_RETURNS
            )
            self.returned += held
        self.action = None
        return None if journal.empty else journal.post(kind, payment_id=self.id, at=at)

    def plan_refund(self, amount: Decimal, *, duties: Decimal = ZERO) -> RefundPlan:
        """Split a refund of `amount`, of which `duties` (at most what is held) comes from
        prepaid duties, and the rest from the merchant's payable.

        Raises when nothing was captured or the refund exceeds captured minus refunded.
        """
        if self.status not in CAPTURED:
            raise PaymentNotCaptured(f"a {self.status} payment has nothing captured to refund")
        if amount <= 0 or not fits(amount, self.currency):
            raise InvalidAmount(
                f"a refund must be a positive amount in {self.currency}, not {amount}"
            )
        if amount > self.refundable:
            raise RefundExceedsRefundable(amount, self.refundable, self.currency)
        # Prepaid duties come back as asked, and at least for the part of the refund beyond
        # the merchant's share: what is held never exceeds what is left to refund.
        beyond_merchant = max(amount - (self.refundable - self.duties_held), ZERO)
        duties_part = min(max(duties, beyond_merchant), self.duties_held, amount)
        return RefundPlan(total=amount, merchant_part=amount - duties_part, duties_part=duties_part)

    def refund(self, plan: RefundPlan, *, fx: FxQuote, at: datetime) -> tuple[Transaction, Decimal]:
        """Pay `plan` back to the buyer; returns the transaction and what the merchant bears
        (in the settlement currency)."""
        checked = self.plan_refund(plan.total, duties=plan.duties_part)
        if checked != plan:
            raise InvalidAmount("the refund plan no longer fits the payment")
        if (fx.source_currency, fx.target_currency) != (self.currency, self.settlement_currency):
            raise CurrencyMismatch("the refund's rate must convert to the settlement currency")
        c, s = self.currency, self.settlement_currency
        journal = Journal()
        payable = ledger.merchant_payable(self.merchant_id)
        cost = fx.convert(plan.merchant_part)
        if c == s:
            journal.move(plan.merchant_part, c, source=payable, target=self.clearing)
        else:
            journal.move(cost, s, source=payable, target=ledger.FX_CONVERSION)
            journal.move(plan.merchant_part, c, source=ledger.FX_CONVERSION, target=self.clearing)
        journal.move(plan.duties_part, c, source=ledger.DUTIES_PAYABLE, target=self.clearing)
        journal.move(plan.total, c, source=self.clearing, target=ledger.BUYER_REFUNDS)
        self.refunded += plan.total
        self.duties_held -= plan.duties_part
        self.status = (
            PaymentStatus.REFUNDED
            if self.refunded == self.captured
            else PaymentStatus.PARTIALLY_REFUNDED
        )
        return journal.post(TransactionKind.REFUND, payment_id=self.id, at=at), cost
