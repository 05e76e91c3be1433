"""The one place shipping's state becomes public events (libs/events models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from shipping_svc.domain.eta import Window
from shipping_svc.domain.shipment import Shipment
from shipping_svc.domain.tracking import ScanStatus
from xborder_events.base import Event, Money
from xborder_events.shipping import (
    DeliveryEstimateRevised,
    EtaWindow,
    Lane,
    ParcelArrivedAtDestination,
    ParcelDelivered,
    ParcelDeliveryFailed,
    ParcelDispatched,
    ParcelInTransit,
    ParcelOutForDelivery,
    ParcelReturnedToSender,
    ParcelTrackingEvent,
    ShipmentCancelled,
    ShipmentCreated,
    TrackingLocation,
)

_TRACKING_EVENTS: dict[ScanStatus, type[ParcelTrackingEvent]] = {
    ScanStatus.IN_TRANSIT: ParcelInTransit,
    ScanStatus.ARRIVED_AT_DESTINATION: ParcelArrivedAtDestination,
    ScanStatus.OUT_FOR_DELIVERY: ParcelOutForDelivery,
    ScanStatus.DELIVERED: ParcelDelivered,
    ScanStatus.DELIVERY_FAILED: ParcelDeliveryFailed,
    ScanStatus.RETURNED_TO_SENDER: ParcelReturnedToSender,
}

RevisionReason = Literal["lane_statistics", "capacity_exceeded", "customs_hold", "carrier_delay"]


def eta(window: Window) -> EtaWindow:
    """A window as the events carry it."""
    return EtaWindow(p50=window.p50, p90=window.p90)


def location(value: dict[str, Any] | None) -> TrackingLocation | None:
    """A stored location as the events carry it (None when it is not usable)."""
    if not value or not isinstance(value.get("country"), str):
        return None
    try:
        return TrackingLocation.model_validate(
            {k: v for k, v in value.items() if k in ("country", "city", "facility")}
        )
    except ValueError:
        return None


def shipment_created(shipment: Shipment, *, at: datetime) -> ShipmentCreated:
    """The booking was made."""
    assert shipment.tracking_number is not None
    price = (
        Money(amount=shipment.price, currency=shipment.price_currency)
        if shipment.price is not None and shipment.price_currency
        else None
    )
    return ShipmentCreated(
        order_id=shipment.order_id,
        shipment_id=shipment.id,
        tracking_number=shipment.tracking_number,
        carrier=shipment.carrier,
        service=shipment.service_name,
        lane=Lane(
            origin_country=shipment.lane.origin, destination_country=shipment.lane.destination
        ),
        eta=eta(shipment.window),
        weight_grams=shipment.weight_grams,
        created_at=at,
        dispatch_date=shipment.ship_date,
        price=price,
        tracking_quality=shipment.tracking_quality,
        eta_basis=shipment.eta_basis.value,
        quote_status=shipment.quote_status,
    )


def dispatched(shipment: Shipment, *, at: datetime) -> ParcelDispatched:
    """The carrier took the parcel."""
    assert shipment.tracking_number is not None
    return ParcelDispatched(
        order_id=shipment.order_id,
        shipment_id=shipment.id,
        tracking_number=shipment.tracking_number,
        occurred_at=at,
        location=TrackingLocation(country=shipment.lane.origin),
    )


def tracking_event(
    shipment: Shipment,
    status: ScanStatus,
    *,
    occurred_at: datetime,
    where: dict[str, Any] | None,
    carrier_status: str | None,
) -> Event:
    """The public event of one normalised status the parcel reached."""
    assert shipment.tracking_number is not None
    return _TRACKING_EVENTS[status](
        order_id=shipment.order_id,
        shipment_id=shipment.id,
        tracking_number=shipment.tracking_number,
        occurred_at=occurred_at,
        location=location(where),
        carrier_status=carrier_status,
    )


def estimate_revised(
    shipment: Shipment, *, previous: Window, reason: RevisionReason, at: datetime
) -> DeliveryEstimateRevised:
    """The parcel's window moved."""
    assert shipment.tracking_number is not None
    return DeliveryEstimateRevised(
        order_id=shipment.order_id,
        shipment_id=shipment.id,
        tracking_number=shipment.tracking_number,
        previous=eta(previous),
        revised=eta(shipment.window),
        reason=reason,
        revised_at=at,
    )


def cancelled(
    shipment: Shipment,
    *,
    reason: Literal["order_cancelled", "carrier_rejected", "merchant_request"],
    at: datetime,
) -> ShipmentCancelled:
    """The booking was cancelled (or could not be made)."""
    return ShipmentCancelled(
        order_id=shipment.order_id,
        shipment_id=shipment.id,
        tracking_number=shipment.tracking_number,
        reason=reason,
        cancelled_at=at,
    )
