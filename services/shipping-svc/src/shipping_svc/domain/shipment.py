"""What shipping knows of an order and of its shipment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from shipping_svc.domain.catalog import LaneKey
from shipping_svc.domain.eta import Basis, Estimate, Window
from shipping_svc.domain.tracking import Gates, ShipmentStatus


@dataclass(slots=True)
class OrderInfo:
    """The order as shipping keeps it (from OrderPlaced) and what customs decided for it."""

    order_id: UUID
    merchant_id: str
    lane: LaneKey
    weight_grams: int
    declared_value: Decimal
    currency: str
    shipping_quote_id: UUID
    placed_at: datetime
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    export_cleared_at: datetime | None = None
    released_at: datetime | None = None
    return_ordered_at: datetime | None = None
    confiscated_at: datetime | None = None

    @property
    def gates(self) -> Gates:
        """What customs allows the parcel to do."""
        return Gates(
            export_cleared=self.export_cleared_at is not None,
            released=self.released_at is not None,
            return_ordered=self.return_ordered_at is not None,
        )


@dataclass(slots=True)
class Shipment:
    """One parcel booked with a carrier for an order."""

    id: UUID
    order_id: UUID
    merchant_id: str
    service_key: str
    carrier: str
    service_code: str
    service_name: str
    tracking_quality: str
    lane: LaneKey
    weight_grams: int
    price: Decimal | None
    price_currency: str | None
    quote_id: UUID | None
    quote_status: str
    tracking_number: str | None
    status: ShipmentStatus
    ship_date: date
    transit_p50_days: int
    transit_p90_days: int
    eta_basis: Basis
    widen_days: int
    delay_days: int
    eta_p50: date
    eta_p90: date
    booked_at: datetime
    status_reason: str | None = None
    dispatched_at: datetime | None = None
    delivered_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def window(self) -> Window:
        """The promised delivery window."""
        return Window(self.eta_p50, self.eta_p90)

    @property
    def estimate(self) -> Estimate:
        """The transit estimate the window was built from."""
        return Estimate(self.transit_p50_days, self.transit_p90_days, self.eta_basis)
