"""Response bodies of the order API (v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from order_svc.domain.status import OrderStatus
from xborder_events import Money


class BuyerOut(BaseModel):
    """The buyer, as the storefront gave it; the tax id is never shown again."""

    name: str
    email: str
    phone: str | None
    country: str
    tax_id_on_file: bool


class ShipToOut(BaseModel):
    """The ship-to address."""

    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country: str
    phone: str | None


class ItemOut(BaseModel):
    """One order line with its total."""

    line: int
    sku: str
    title: str
    hs_code: str
    origin_country: str
    quantity: int
    unit_price: Money
    weight_grams: int
    line_total: Money


class TotalsOut(BaseModel):
    """What the buyer is charged at checkout."""

    goods: Money
    shipping: Money
    duties_and_taxes: Money | None = Field(description="DDP only.")
    grand_total: Money


class OrderView(BaseModel):
    """An order: what was bought, its totals, its status and the latest facts about it."""

    id: UUID
    merchant_id: str
    merchant_order_ref: str | None
    status: OrderStatus
    cancellable: bool = Field(description="True until the parcel is dispatched.")
    created_at: datetime
    updated_at: datetime
    currency: str
    incoterm: Literal["DDP", "DAP"]
    buyer: BuyerOut
    ship_from_country: str
    ship_to: ShipToOut
    items: list[ItemOut]
    totals: TotalsOut
    shipping_quote_id: UUID
    landed_cost_quote_id: UUID | None
    payment: dict[str, Any] = Field(
        description="Method, provider and the latest from payment-svc: status "
        "(action_required, authorized, settled, failed), amounts, FX, the action the buyer "
        "must take, the failure, refunds."
    )
    shipment: dict[str, Any] = Field(
        description="The latest from shipping-svc: carrier, service, tracking number, ETA "
        "window, the last carrier scan, failed delivery attempts, delivery."
    )
    customs: dict[str, Any] = Field(
        description="The latest from customs-svc: pre-check, export clearance, holds (with "
        "required documents and deadlines), import release with duties and taxes, a return "
        "order or a confiscation."
    )


class OrderSummary(BaseModel):
    """An order in a list."""

    id: UUID
    merchant_id: str
    merchant_order_ref: str | None
    status: OrderStatus
    grand_total: Money
    created_at: datetime
    updated_at: datetime


class OrderPage(BaseModel):
    """One page of orders, newest first."""

    items: list[OrderSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class TimelineEntryOut(BaseModel):
    """One event that touched the order."""

    event_id: UUID
    type: str = Field(description='The event\'s name, e.g. "PaymentSettled".')
    event_type: str = Field(description='The CloudEvents type, e.g. "xborder.PaymentSettled.v1".')
    source: str = Field(description='The service that published it, e.g. "payment-svc".')
    occurred_at: datetime = Field(description="When the publisher says it happened.")
    recorded_at: datetime = Field(description="When order-svc recorded it.")
    status: OrderStatus = Field(description="The order's status once it was handled.")
    outcome: Literal["applied", "waiting", "late", "impossible", "recorded", "emitted"] = Field(
        description="applied: moved the status; waiting: kept until the status reaches it; "
        "late: the status was already past it; impossible: no transition can use it (counted); "
        "recorded: informational; emitted: order-svc's own event."
    )


class Timeline(BaseModel):
    """Every event that touched the order, oldest first."""

    order_id: UUID
    entries: list[TimelineEntryOut]
