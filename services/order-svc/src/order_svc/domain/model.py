"""The order aggregate and what a storefront gives to place one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from order_svc.domain.machine import Progress
from order_svc.domain.money import Totals, checkout_totals
from order_svc.domain.status import OrderStatus

Incoterm = Literal["DDP", "DAP"]
PaymentMethod = Literal["card", "international_card", "paypal", "alipay", "bank_wire"]


@dataclass(frozen=True, kw_only=True)
class Buyer:
    """Who pays. Personal data: it stays in order-svc except what downstream needs."""

    name: str
    email: str
    country: str
    phone: str | None = None
    #: A tax id where the destination asks for one at import (a Brazilian CPF, say).
    tax_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ShipTo:
    """Where the parcel goes."""

    name: str
    line1: str
    city: str
    country: str
    line2: str | None = None
    region: str | None = None
    postal_code: str | None = None
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderLine:
    """One line of an order."""

    line_no: int
    sku: str
    title: str
    hs_code: str
    origin_country: str
    quantity: int
    unit_price: Decimal
    weight_grams: int

    @property
    def line_total(self) -> Decimal:
        """quantity x unit price."""
        return self.quantity * self.unit_price


@dataclass(frozen=True, kw_only=True)
class LandedCost:
    """customs-svc's landed-cost quote as the storefront showed it to the buyer."""

    quote_id: UUID
    duties: Decimal
    taxes: Decimal

    @property
    def total(self) -> Decimal:
        """Duties plus taxes."""
        return self.duties + self.taxes


@dataclass(frozen=True, kw_only=True)
class PaymentChoice:
    """How the buyer pays. The token is handed on to payment-svc in OrderPlaced, never stored.

    A bank wire has no token: the order's transfer reference takes its place.
    """

    method: PaymentMethod
    provider: str
    token: str | None = None


def transfer_reference(order_id: UUID) -> str:
    """The reference a buyer quotes on a bank wire for this order, e.g. "XB-3F2A9C1D0B7E"."""
    return f"XB-{order_id.hex[:12].upper()}"


@dataclass(frozen=True, kw_only=True)
class NewOrder:
    """A storefront's order, validated for shape, before it is priced and stored."""

    merchant_id: str
    merchant_order_ref: str | None
    buyer: Buyer
    ship_from_country: str
    ship_to: ShipTo
    currency: str
    incoterm: Incoterm
    lines: tuple[OrderLine, ...]
    shipping_quote_id: UUID
    shipping_price: Decimal
    landed_cost: LandedCost | None
    payment: PaymentChoice


@dataclass(frozen=True, kw_only=True)
class Order:
    """An order: what was bought, its totals, its status and the latest facts about it.

    `info` holds the latest payment, shipment and customs facts learned from events, as JSON
    objects for the order's view. `lines` is empty when the order was loaded without them.
    """

    id: UUID
    merchant_id: str
    merchant_order_ref: str | None
    buyer: Buyer
    ship_from_country: str
    ship_to: ShipTo
    currency: str
    incoterm: Incoterm
    lines: tuple[OrderLine, ...]
    totals: Totals
    payment_method: PaymentMethod
    payment_provider: str
    shipping_quote_id: UUID
    landed_cost_quote_id: UUID | None
    created_at: datetime
    updated_at: datetime
    progress: Progress = field(default_factory=Progress)
    info: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def status(self) -> OrderStatus:
        """The order's current status."""
        return self.progress.status

    def moved(
        self, progress: Progress, *, info: Mapping[str, Mapping[str, Any]], at: datetime
    ) -> Order:
        """This order with a new progress and view facts."""
        return replace(self, progress=progress, info=info, updated_at=at)


def open_order(new: NewOrder, *, order_id: UUID, now: datetime) -> Order:
    """Price a new order: totals per the checkout rules (duties and taxes under DDP only)."""
    duties = new.landed_cost.total if new.incoterm == "DDP" and new.landed_cost else None
    totals = checkout_totals(
        currency=new.currency,
        lines=[(line.quantity, line.unit_price) for line in new.lines],
        shipping=new.shipping_price,
        duties_and_taxes=duties,
    )
    return Order(
        id=order_id,
        merchant_id=new.merchant_id,
        merchant_order_ref=new.merchant_order_ref,
        buyer=new.buyer,
        ship_from_country=new.ship_from_country,
        ship_to=new.ship_to,
        currency=new.currency,
        incoterm=new.incoterm,
        lines=new.lines,
        totals=totals,
        payment_method=new.payment.method,
        payment_provider=new.payment.provider,
        shipping_quote_id=new.shipping_quote_id,
        landed_cost_quote_id=new.landed_cost.quote_id if new.landed_cost else None,
        created_at=now,
        updated_at=now,
    )


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    """One event that touched an order, as the timeline shows it."""

    event_id: UUID
    order_id: UUID
    #: The event's name, e.g. "PaymentSettled".
    name: str
    #: Its CloudEvents type, e.g. "xborder.PaymentSettled.v1".
    event_type: str
    #: The service that published it, e.g. "payment-svc".
    source: str
    occurred_at: datetime
    #: The order's status once the event was handled.
    status: OrderStatus
    #: What the event did: see `machine.Outcome`, plus "recorded" (informational events) and
    #: "emitted" (order-svc's own events).
    outcome: str
