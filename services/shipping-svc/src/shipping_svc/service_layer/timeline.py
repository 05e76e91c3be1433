"""Timeline entries: what a buyer's tracking page shows, one row per thing that happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shipping_svc.domain.shipment import Shipment
from shipping_svc.domain.tracking import ScanStatus

DEFAULT_DESCRIPTIONS: dict[str, str] = {
    ScanStatus.IN_TRANSIT: "In transit",
    ScanStatus.ARRIVED_AT_DESTINATION: "Arrived in the destination country",
    ScanStatus.OUT_FOR_DELIVERY: "Out for delivery",
    ScanStatus.DELIVERED: "Delivered",
    ScanStatus.DELIVERY_FAILED: "Delivery attempt failed",
    ScanStatus.RETURNED_TO_SENDER: "Returned to sender",
}


def entry(
    shipment: Shipment,
    *,
    status: str,
    source: str,
    description: str,
    occurred_at: datetime,
    carrier_status: str | None = None,
    implied: bool = False,
    location: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One timeline row."""
    return {
        "shipment_id": shipment.id,
        "status": status,
        "source": source,
        "description": description[:500],
        "carrier_status": carrier_status,
        "implied": implied,
        "location": location,
        "occurred_at": occurred_at,
    }
