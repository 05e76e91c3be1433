"""Events payment-svc publishes on `xborder.payments.v1`: money taken, settled, failed, returned.

The buyer pays in the order's currency; the merchant is settled in theirs. Every conversion
carries the FX snapshot it used, so finance can reconcile the ledger against the provider.
"""

from typing import ClassVar, Literal, Self
from uuid import UUID

from pydantic import Field, model_validator

from xborder_events.base import (
    CurrencyCode,
    Event,
    LongText,
    Money,
    PaymentMethod,
    PositiveDecimalString,
    ShortText,
    UtcDatetime,
    ValueObject,
)
from xborder_events.topics import PAYMENTS


class PaymentEvent(Event):
    """Base of the events payment-svc publishes."""

    topic: ClassVar[str] = PAYMENTS
    producer: ClassVar[str] = "payment-svc"


class FxSnapshot(ValueObject):
    """The exchange rate a conversion used: 1 unit of source_currency = rate target_currency."""

    rate: PositiveDecimalString
    source_currency: CurrencyCode
    target_currency: CurrencyCode
    as_of: UtcDatetime = Field(description="When the provider quoted the rate.")
    provider: ShortText = Field(description='Where the rate came from, e.g. "ecb".')


class PaymentAuthorized(PaymentEvent):
    """The provider authorized the buyer's payment. order-svc records it on the timeline."""

    event_name: ClassVar[str] = "PaymentAuthorized"

    payment_id: UUID
    method: PaymentMethod
    provider: ShortText
    provider_reference: ShortText = Field(description="The provider's id for the authorization.")
    amount: Money = Field(description="The amount authorized, in the buyer's currency.")
    authorized_at: UtcDatetime


class PaymentSettled(PaymentEvent):
    """The payment was captured and converted to the merchant's settlement currency.

    order-svc counts it towards OrderConfirmed; finance reconciles against it.
    """

    event_name: ClassVar[str] = "PaymentSettled"

    payment_id: UUID
    amount: Money = Field(description="The amount captured, in the buyer's currency.")
    settlement_amount: Money = Field(description="The amount owed to the merchant.")
    fx: FxSnapshot
    settled_at: UtcDatetime
    fees: Money | None = Field(
        default=None,
        description="The provider's fees (a cross-border fee included), in the buyer's "
        "currency; borne by the merchant, so settlement_amount is net of them.",
    )
    duties_payable: Money | None = Field(
        default=None,
        description="Duties and taxes prepaid by the buyer under DDP, in the buyer's currency, "
        "held for the customs authority; settlement_amount is net of them.",
    )

    @model_validator(mode="after")
    def _fx_matches(self) -> Self:
        if self.fx.source_currency != self.amount.currency:
            raise ValueError("fx.source_currency must be the currency of amount")
        if self.fx.target_currency != self.settlement_amount.currency:
            raise ValueError("fx.target_currency must be the currency of settlement_amount")
        return self

    @model_validator(mode="after")
    def _charges_in_amount_currency(self) -> Self:
        for name, value in (("fees", self.fees), ("duties_payable", self.duties_payable)):
            if value is not None and value.currency != self.amount.currency:
                raise ValueError(f"{name} must be in the currency of amount")
        return self


class PaymentFailed(PaymentEvent):
    """The payment could not be authorized or captured. order-svc cancels the order."""

    event_name: ClassVar[str] = "PaymentFailed"

    payment_id: UUID
    stage: Literal["authorization", "capture"]
    reason: Literal[
        "declined",
        "insufficient_funds",
        "authentication_failed",
        "fraud_suspected",
        "expired",
        "provider_error",
    ]
    provider_code: ShortText | None = Field(default=None, description="The provider's own code.")
    detail: LongText | None = None
    failed_at: UtcDatetime


class PaymentRefunded(PaymentEvent):
    """Money went back to the buyer after a cancellation, a return or a confiscation.

    order-svc records it on the timeline; finance reconciles it.
    """

    event_name: ClassVar[str] = "PaymentRefunded"

    payment_id: UUID
    refund_id: UUID
    reason: Literal["order_cancelled", "parcel_returned", "parcel_confiscated", "goodwill"]
    amount: Money = Field(description="The amount refunded, in the buyer's currency.")
    settlement_amount: Money | None = Field(
        default=None, description="What it costs the merchant, in the settlement currency."
    )
    fx: FxSnapshot | None = None
    provider_reference: ShortText | None = None
    refunded_at: UtcDatetime

    @model_validator(mode="after")
    def _fx_matches(self) -> Self:
        if self.fx is None:
            return self
        if self.fx.source_currency != self.amount.currency:
            raise ValueError("fx.source_currency must be the currency of amount")
        if self.settlement_amount and self.fx.target_currency != self.settlement_amount.currency:
            raise ValueError("fx.target_currency must be the currency of settlement_amount")
        return self


class PaymentActionRequired(PaymentEvent):
    """The payment waits on the buyer: a redirect to approve it (PayPal, Alipay), a step-up
    authentication (cards), or a bank wire to arrive. order-svc shows it; the storefront acts on
    it (redirects the buyer, shows the payment reference)."""

    event_name: ClassVar[str] = "PaymentActionRequired"

    payment_id: UUID
    method: PaymentMethod
    action: Literal["redirect", "authenticate", "await_funds"]
    amount: Money = Field(description="The amount awaited, in the buyer's currency.")
    approval_url: str | None = Field(
        default=None, max_length=2000, description="Where to send the buyer (redirect flows)."
    )
    payment_reference: ShortText | None = Field(
        default=None, description="The reference a bank wire must quote (await_funds)."
    )
    expires_at: UtcDatetime | None = Field(
        default=None, description="When the payment fails if the buyer has not acted."
    )
    required_at: UtcDatetime


class RefundFailed(PaymentEvent):
    """A refund could not be made; finance follows it up by hand. order-svc records it."""

    event_name: ClassVar[str] = "RefundFailed"

    payment_id: UUID
    refund_id: UUID
    reason: Literal["order_cancelled", "parcel_returned", "parcel_confiscated", "goodwill"]
    amount: Money = Field(description="The amount that could not be refunded.")
    failure: Literal["provider_error", "exceeds_captured", "payment_not_captured", "expired"]
    detail: LongText | None = None
    failed_at: UtcDatetime


#: Every event of this module, for the registry.
EVENTS: tuple[type[Event], ...] = (
    PaymentAuthorized,
    PaymentActionRequired,
    PaymentSettled,
    PaymentFailed,
    PaymentRefunded,
    RefundFailed,
)
