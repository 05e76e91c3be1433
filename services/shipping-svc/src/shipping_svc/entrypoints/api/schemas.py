"""Response models of the HTTP API (they document the OpenAPI; routes fill them)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from shipping_svc.service_layer.tracking import CarrierWebhook


class MoneyOut(BaseModel):
    """An amount as a decimal string, in a currency."""

    amount: str = Field(examples=["7.90"])
    currency: str = Field(examples=["USD"])


class LaneOut(BaseModel):
    """Origin and destination countries."""

    origin: str
    destination: str


class EtaOut(BaseModel):
    """Delivery window: half of parcels arrive by p50, nine in ten by p90."""

    p50_days: int
    p90_days: int
    p50_date: str
    p90_date: str
    basis: Literal["prior", "observed"] = Field(
        description="observed: learned from the lane service's recent deliveries; prior: the "
        "data file's estimate, until enough deliveries were seen."
    )
    sample_size: int = Field(description="Deliveries the statistics were computed from.")


class RateOut(BaseModel):
    """One service's offer; book it by sending `quote_id` with the order."""

    quote_id: str
    carrier: str
    carrier_name: str
    service_code: str
    service_name: str
    service_level: Literal["economy", "standard", "express"]
    tracking: Literal["full", "partial", "none"]
    price: MoneyOut
    eta: EtaOut
    default: bool = Field(description="The service the lane recommends.")


class UnavailableOut(BaseModel):
    """A service of the lane that cannot take this parcel."""

    carrier: str
    service_code: str
    service_name: str
    reason: str


class RatesOut(BaseModel):
    """Every service of the lane for the parcel."""

    lane: LaneOut
    weight_grams: int
    quoted_at: str
    expires_at: str = Field(description="Quotes are honoured for orders placed before this.")
    rates: list[RateOut]
    unavailable: list[UnavailableOut]


class TimelineEntryOut(BaseModel):
    """One thing that happened to the parcel."""

    status: str = Field(
        description="A normalised status (in_transit, arrived_at_destination, "
        "out_for_delivery, delivered, delivery_failed, returned_to_sender), a milestone "
        "(booked, dispatched, export_cleared, held_at_customs, released, return_ordered, "
        "confiscated, cancelled) or `exception` for a carrier code we could not interpret."
    )
    description: str
    occurred_at: str
    source: Literal["carrier", "customs", "shipping"]
    carrier_status: str | None
    implied: bool = Field(description="Reached without a scan of its own (a later scan says so).")
    location: dict[str, Any] | None
    exception: bool


class ShipmentOut(BaseModel):
    """A shipment as the merchant or an operator sees it."""

    id: str
    order_id: str
    merchant_id: str
    status: str
    status_reason: str | None
    carrier: str | None
    service: dict[str, Any]
    lane: LaneOut
    tracking_number: str | None
    weight_grams: int
    price: MoneyOut | None
    quote_id: str | None
    quote_status: Literal["honoured", "expired", "unknown", "mismatch"]
    quote_mismatch: bool
    dispatch_date: str
    eta: dict[str, Any]
    booked_at: str
    dispatched_at: str | None
    delivered_at: str | None
    closed_at: str | None
    timeline: list[TimelineEntryOut] | None = None


class ShipmentPage(BaseModel):
    """A page of shipments, oldest first."""

    items: list[ShipmentOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class TrackingOut(BaseModel):
    """The buyer-facing tracking of a parcel; no personal data."""

    tracking_number: str
    carrier: str
    service: str
    tracking_quality: str
    status: str
    lane: LaneOut
    eta: dict[str, Any]
    dispatched_at: str | None
    delivered_at: str | None
    events: list[TimelineEntryOut]


class ScanReceiptOut(BaseModel):
    """What became of a carrier's tracking event."""

    outcome: Literal["applied", "buffered", "stale", "ignored", "exception", "duplicate"]
    shipment_id: str
    tracking_number: str
    normalised: str | None = Field(description="The normalised status; null for an unknown code.")
    shipment_status: str
    reason: str


def webhook_body_schema() -> dict[str, Any]:
    """The JSON Schema of a carrier webhook body, with nested models inlined for the OpenAPI."""
    schema = CarrierWebhook.model_json_schema()
    defs = schema.pop("$defs", {})
    text = json.dumps(schema)
    for name, definition in defs.items():
        text = text.replace(json.dumps({"$ref": f"#/$defs/{name}"}), json.dumps(definition))
    inlined: dict[str, Any] = json.loads(text)
    return inlined
