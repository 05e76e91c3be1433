"""Request and response bodies of the payment API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xborder_events import Money
from xborder_events.base import CurrencyCode, PositiveDecimalString, UtcDatetime

RefundReason = Literal["goodwill", "order_cancelled", "parcel_returned", "parcel_confiscated"]
#: A signed decimal (ledger entries move money out of an account as negative amounts).
SignedAmount = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["-12.50"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FxSnapshotOut(BaseModel):
    """The rate a conversion used: 1 source_currency = rate target_currency."""

    rate: str
    source_currency: str
    target_currency: str
    as_of: datetime
    provider: str


class ActionOut(BaseModel):
    """What the payment waits for."""

    action: Literal["redirect", "authenticate", "await_funds"]
    amount_due: Money = Field(description="What the buyer still has to pay or approve.")
    approval_url: str | None = None
    payment_reference: str | None = Field(
        default=None, description="The RF reference a bank wire must quote."
    )
    payment_reference_display: str | None = Field(
        default=None, description="The reference in groups of four, as shown to the buyer."
    )
    expires_at: datetime


class FailureOut(BaseModel):
    """Why the payment failed."""

    stage: Literal["authorization", "capture"]
    reason: str
    provider_code: str | None = None
    detail: str | None = None


class BreakdownOut(BaseModel):
    """What the grand total is made of, as the order stated it."""

    goods: Money
    shipping: Money
    duties_and_taxes: Money | None
    incoterm: Literal["DDP", "DAP"]


class SettlementOut(BaseModel):
    """The merchant's side: what it is owed, in its settlement currency."""

    currency: str
    amount: Money | None = Field(description="Owed to the merchant: net of fees and duties.")
    fx: FxSnapshotOut | None = None


class RefundOut(BaseModel):
    """A refund, made or failed."""

    id: UUID
    reason: RefundReason
    status: Literal["succeeded", "failed"]
    amount: Money
    settlement_amount: Money | None = Field(
        default=None, description="What it cost the merchant, in the settlement currency."
    )
    fx: FxSnapshotOut | None = None
    provider_reference: str | None = None
    failure: str | None = None
    detail: str | None = None
    requested_by: Literal["event", "api"]
    created_at: datetime


class AttemptOut(BaseModel):
    """One call to the provider, or one of its webhooks, and the outcome."""

    operation: str
    outcome: str
    provider_code: str | None = None
    detail: str | None = None
    at: datetime


class PaymentOut(BaseModel):
    """A payment, in the order's currency, settled in the merchant's."""

    id: UUID
    order_id: UUID
    merchant_id: str
    method: str
    provider: str
    status: str
    amount: Money
    breakdown: BreakdownOut
    captured: Money
    refunded: Money
    refundable: Money
    fees: Money
    settlement: SettlementOut
    provider_reference: str | None = None
    action: ActionOut | None = None
    failure: FailureOut | None = None
    refunds: list[RefundOut] = Field(default_factory=list)
    attempts: list[AttemptOut] = Field(default_factory=list)
    created_at: datetime
    authorized_at: datetime | None = None
    settled_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime | None = None


class PaymentPage(BaseModel):
    """A page of payments, newest first."""

    items: list[PaymentOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class RefundRequest(_In):
    """A refund of part or all of what was captured and not refunded yet."""

    amount: Money = Field(description="In the payment's currency; at most what is refundable.")
    reason: RefundReason = "goodwill"


class StatementLineIn(_In):
    """One credit on the collection account."""

    line_id: str = Field(min_length=1, max_length=128, description="Unique per line, forever.")
    reference: str = Field(min_length=1, max_length=64, description="As the payer quoted it.")
    amount: Money = Field(description="The amount credited: more than zero.")
    booked_at: UtcDatetime

    @field_validator("amount")
    @classmethod
    def _credited(cls, value: Money) -> Money:
        if value.amount <= 0:
            raise ValueError("a credit line brings more than nothing")
        return value


class StatementIn(_In):
    """A bank statement's credit lines."""

    statement_id: str = Field(min_length=1, max_length=128)
    lines: list[StatementLineIn] = Field(min_length=1, max_length=1000)


class LineOut(BaseModel):
    """What one line did."""

    line_id: str
    result: Literal["matched", "partial", "overpaid", "returned", "unknown_reference", "duplicate"]
    payment_id: UUID | None = None
    payment_status: str | None = None
    applied: Money | None = Field(default=None, description="Credited to the payment.")
    returned: Money | None = Field(default=None, description="Sent back to the payer.")
    outstanding: Money | None = Field(default=None, description="Still due (partial payments).")


class StatementOut(BaseModel):
    """The statement's lines, matched."""

    statement_id: str
    lines: list[LineOut]


class WebhookOut(BaseModel):
    """What a webhook delivery did."""

    status: Literal["processed", "duplicate", "ignored"]
    payment_id: UUID | None = None
    detail: str | None = None


class RateIn(_In):
    """1 base = rate quote, as quoted by source at as_of."""

    base: CurrencyCode
    quote: CurrencyCode
    rate: PositiveDecimalString
    as_of: UtcDatetime
    source: str = Field(min_length=1, max_length=64, examples=["ecb"])


class RatesIn(_In):
    """Rates to add (a rate, once published, is never changed)."""

    rates: list[RateIn] = Field(min_length=1, max_length=1000)


class RatesAdded(BaseModel):
    """How many rates were new, and how many were known already with the same value."""

    added: int
    unchanged: int


class RateOut(BaseModel):
    """A rate."""

    base: str
    quote: str
    rate: str
    as_of: datetime
    source: str


class RateList(BaseModel):
    """The latest rate of each pair at an instant."""

    at: datetime
    rates: list[RateOut]


class ConversionOut(BaseModel):
    """An amount converted with the rate in force at an instant."""

    amount: Money
    converted: Money
    fx: FxSnapshotOut


class BalanceOut(BaseModel):
    """An account's movements in one currency."""

    currency: str
    debits: str = Field(description="Moved into the account.")
    credits: str = Field(description="Moved out of the account.")
    balance: SignedAmount


class EntryOut(BaseModel):
    """One ledger entry: positive into the account, negative out of it."""

    id: int
    transaction_id: UUID
    payment_id: UUID | None
    kind: str
    account: str
    currency: str
    amount: SignedAmount
    posted_at: datetime


class AccountOut(BaseModel):
    """An account's balances and its latest entries."""

    account: str
    balances: list[BalanceOut]
    entries: list[EntryOut]
    next_cursor: str | None


class SumsOut(BaseModel):
    """Movements per currency code, as signed decimal strings (absent: nothing moved).

    Each figure is the net amount that moved into the account named, so a refund made on a
    later day than its capture shows there as a negative merchant_payable.
    """

    captured: dict[str, SignedAmount] = Field(description="Captured from buyers.")
    refunded: dict[str, SignedAmount] = Field(description="Paid back to buyers.")
    fees: dict[str, SignedAmount] = Field(description="Kept by providers.")
    duties_payable: dict[str, SignedAmount] = Field(description="Prepaid duties held.")
    merchant_payable: dict[str, SignedAmount] = Field(description="Owed to merchants.")
    unapplied: dict[str, SignedAmount] = Field(description="Wired funds not applied (yet).")
    returned_to_payer: dict[str, SignedAmount] = Field(description="Wired funds sent back.")
    net: dict[str, SignedAmount] = Field(description="Sum of all the entries per currency.")
    balanced: bool = Field(description="Whether the entries sum to zero in every currency.")


class PaymentReconciliation(SumsOut):
    """One payment's movements on the day."""

    payment_id: UUID
    order_id: UUID | None
    merchant_id: str | None


class ReconciliationOut(BaseModel):
    """A day's movements per payment (a page) and in total."""

    date: date
    payments: list[PaymentReconciliation]
    totals: SumsOut
    ledger_balanced: bool = Field(description="Whether the whole ledger, all time, balances.")
    next_cursor: str | None
