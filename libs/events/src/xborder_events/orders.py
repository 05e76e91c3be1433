"""Events order-svc publishes on `xborder.orders.v1`: the order's own decisions.

order-svc owns the order state machine. It opens the lifecycle with OrderPlaced and closes it
with exactly one of OrderCompleted, OrderCancelled, OrderReturned or OrderConfiscated.
"""

from decimal import Decimal
from typing import Annotated, ClassVar, Literal, Self
from uuid import UUID

from pydantic import Field, model_validator

from xborder_events.base import (
    CountryCode,
    CurrencyCode,
    Event,
    HsCode,
    Incoterm,
    LongText,
    Money,
    PaymentMethod,
    ShortText,
    UtcDatetime,
    ValueObject,
    same_currency,
)
from xborder_events.topics import ORDERS


class OrderEvent(Event):
    """Base of the events order-svc publishes."""

    topic: ClassVar[str] = ORDERS
    producer: ClassVar[str] = "order-svc"


class Address(ValueObject):
    """Where the parcel goes. Personal data: keep it only as long as delivery needs it."""

    name: ShortText
    line1: ShortText
    line2: ShortText | None = None
    city: ShortText
    region: ShortText | None = None
    postal_code: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    country: CountryCode
    phone: Annotated[str, Field(min_length=3, max_length=32)] | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)] | None = None


class OrderItem(ValueObject):
    """One order line, with what customs needs to classify and value it."""

    sku: ShortText
    description: LongText
    hs_code: HsCode
    origin_country: CountryCode
    quantity: int = Field(gt=0, le=100_000)
    unit_price: Money
    weight_grams: int = Field(gt=0, description="Weight of one unit, packaging included.")

    @property
    def line_total(self) -> Decimal:
        """quantity x unit price, in the unit price's currency."""
        return self.quantity * self.unit_price.amount


class OrderTotals(ValueObject):
    """What the buyer is charged at checkout, in the order's currency."""

    items: Money = Field(description="The sum of quantity x unit price over the items.")
    shipping: Money
    duties_and_taxes: Money | None = Field(
        default=None, description="Charged at checkout under DDP; None under DAP."
    )
    grand_total: Money

    @model_validator(mode="after")
    def _adds_up(self) -> Self:
        same_currency(self.items, self.shipping, self.duties_and_taxes, self.grand_total)
        duties = self.duties_and_taxes.amount if self.duties_and_taxes else Decimal(0)
        expected = self.items.amount + self.shipping.amount + duties
        if self.grand_total.amount != expected:
            raise ValueError(f"grand_total must be items + shipping + duties_and_taxes: {expected}")
        return self


class PaymentInstruction(ValueObject):
    """How the buyer pays: a method and the provider's token for it. Never card data."""

    method: PaymentMethod
    provider: ShortText = Field(description='The payment provider, e.g. "adyen" or "alipay".')
    provider_token: Annotated[str, Field(min_length=1, max_length=512)] = Field(
        description="The provider's token (or transfer reference) for the buyer's instrument."
    )


class OrderPlaced(OrderEvent):
    """A storefront placed an order; it opens the lifecycle.

    payment-svc authorizes and captures the payment; customs-svc pre-screens the goods for the
    destination and checks the landed-cost quote; shipping-svc keeps the ship-to details for the
    booking that follows OrderConfirmed.
    """

    event_name: ClassVar[str] = "OrderPlaced"

    merchant_id: ShortText
    merchant_order_ref: ShortText | None = None
    placed_at: UtcDatetime
    buyer_country: CountryCode
    ship_from_country: CountryCode
    ship_to_country: CountryCode
    ship_to: Address
    currency: CurrencyCode = Field(description="The buyer's currency: every price and total.")
    incoterm: Incoterm
    items: tuple[OrderItem, ...] = Field(min_length=1, max_length=500)
    totals: OrderTotals
    payment: PaymentInstruction
    shipping_quote_id: UUID
    landed_cost_quote_id: UUID | None = Field(default=None, description="Required under DDP.")
    buyer_tax_id: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        default=None,
        description="The buyer's tax id where the destination requires one at import (e.g. a "
        "Brazilian CPF). Personal data: for customs clearance only.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ship_to.country != self.ship_to_country:
            raise ValueError("ship_to.country must equal ship_to_country")
        prices = [item.unit_price for item in self.items]
        if same_currency(*prices, self.totals.grand_total) != self.currency:
            raise ValueError(f"every price and total must be in the order currency {self.currency}")
        if self.totals.items.amount != sum((i.line_total for i in self.items), Decimal(0)):
            raise ValueError("totals.items must be the sum of quantity x unit_price")
        if self.incoterm == "DDP" and (
            self.landed_cost_quote_id is None or self.totals.duties_and_taxes is None
        ):
            raise ValueError("a DDP order needs landed_cost_quote_id and totals.duties_and_taxes")
        if self.incoterm == "DAP" and self.totals.duties_and_taxes is not None:
            raise ValueError("a DAP order charges no duties_and_taxes at checkout")
        return self

    @property
    def weight_grams(self) -> int:
        """The parcel's weight: the sum over the items."""
        return sum(item.weight_grams * item.quantity for item in self.items)


class OrderConfirmed(OrderEvent):
    """Payment captured and customs pre-check passed: the order may ship.

    shipping-svc books the carrier, taking the order's details from the OrderPlaced that precedes
    this event on the same partition.
    """

    event_name: ClassVar[str] = "OrderConfirmed"

    confirmed_at: UtcDatetime
    payment_id: UUID = Field(description="The payment that was captured (see PaymentSettled).")
    shipping_quote_id: UUID


class OrderCancelled(OrderEvent):
    """The order will not ship. payment-svc voids or refunds; shipping-svc cancels any shipment."""

    event_name: ClassVar[str] = "OrderCancelled"

    reason: Literal[
        "payment_failed",
        "customs_precheck_failed",
        "buyer_request",
        "merchant_request",
        "carrier_unavailable",
    ]
    detail: LongText | None = None
    cancelled_at: UtcDatetime


class OrderCompleted(OrderEvent):
    """The parcel was delivered; the order is closed. Consumed by finance and analytics."""

    event_name: ClassVar[str] = "OrderCompleted"

    delivered_at: UtcDatetime
    completed_at: UtcDatetime


class OrderReturned(OrderEvent):
    """The parcel went back to the merchant; the order is closed as Returned.

    order-svc emits it once the parcel is back (ParcelReturnedToSender) and payment-svc has
    answered with the refund's outcome (PaymentRefunded or RefundFailed), in either order.
    `refund_amount` is what was refunded to the buyer (None: nothing was, e.g. the refund
    failed); it is a record for finance and analytics, not a request to refund again.
    """

    event_name: ClassVar[str] = "OrderReturned"

    reason: Literal["customs_return_ordered", "refused_by_buyer", "undeliverable"]
    refund_amount: Money | None = None
    returned_at: UtcDatetime


class OrderConfiscated(OrderEvent):
    """Customs confiscated the parcel; the order is closed as Confiscated.

    order-svc emits it once the parcel was seized (ParcelConfiscated) and payment-svc has
    answered with the refund's outcome (PaymentRefunded or RefundFailed), in either order.
    `refund_amount` is what was refunded to the buyer (None: nothing was, e.g. the refund
    failed); it is a record for finance and analytics, not a request to refund again.
    """

    event_name: ClassVar[str] = "OrderConfiscated"

    detail: LongText | None = None
    refund_amount: Money | None = None
    confiscated_at: UtcDatetime


#: Every event of this module, for the registry.
EVENTS: tuple[type[Event], ...] = (
    OrderPlaced,
    OrderConfirmed,
    OrderCancelled,
    OrderCompleted,
    OrderReturned,
    OrderConfiscated,
)
