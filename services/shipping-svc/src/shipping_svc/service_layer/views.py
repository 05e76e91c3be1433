"""Read side: shipments and the buyer-facing tracking timeline, as plain dictionaries."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.shipments_repo import (
    list_shipments,
    shipment_by_id,
    shipment_by_tracking_number,
    timeline,
)
from shipping_svc.domain.shipment import Shipment
from shipping_svc.service_layer import errors


def _money(shipment: Shipment) -> dict[str, str] | None:
    if shipment.price is None or shipment.price_currency is None:
        return None
    return {"amount": format(shipment.price, "f"), "currency": shipment.price_currency}


def _eta(shipment: Shipment) -> dict[str, Any]:
    return {
        "p50": shipment.eta_p50.isoformat(),
        "p90": shipment.eta_p90.isoformat(),
        "basis": shipment.eta_basis.value,
        "transit_p50_days": shipment.transit_p50_days,
        "transit_p90_days": shipment.transit_p90_days,
        "widened_by_capacity_days": shipment.widen_days,
        "delayed_by_customs_days": shipment.delay_days,
    }


async def _timeline(conn: AsyncConnection, shipment: Shipment) -> list[dict[str, Any]]:
    return [
        {
            "status": row.status,
            "description": row.description,
            "occurred_at": row.occurred_at.isoformat(),
            "source": row.source,
            "carrier_status": row.carrier_status,
            "implied": row.implied,
            "location": row.location,
            "exception": row.status == "exception",
        }
        for row in await timeline(conn, shipment.id)
    ]


def _summary(shipment: Shipment) -> dict[str, Any]:
    return {
        "id": str(shipment.id),
        "order_id": str(shipment.order_id),
        "merchant_id": shipment.merchant_id,
        "status": shipment.status.value,
        "status_reason": shipment.status_reason,
        "carrier": shipment.carrier or None,
        "service": {
            "key": shipment.service_key or None,
            "code": shipment.service_code or None,
            "name": shipment.service_name or None,
            "tracking": shipment.tracking_quality,
        },
        "lane": {"origin": shipment.lane.origin, "destination": shipment.lane.destination},
        "tracking_number": shipment.tracking_number,
        "weight_grams": shipment.weight_grams,
        "price": _money(shipment),
        "quote_id": str(shipment.quote_id) if shipment.quote_id else None,
        "quote_status": shipment.quote_status,
        "quote_mismatch": shipment.quote_status != "honoured",
        "dispatch_date": shipment.ship_date.isoformat(),
        "eta": _eta(shipment),
        "booked_at": shipment.booked_at.isoformat(),
        "dispatched_at": _iso(shipment.dispatched_at),
        "delivered_at": _iso(shipment.delivered_at),
        "closed_at": _iso(shipment.closed_at),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


async def shipment_view(
    conn: AsyncConnection, shipment_id: UUID, *, merchant_id: str | None
) -> dict[str, Any]:
    """One shipment with its timeline (a storefront key sees only its merchant's)."""
    shipment = await shipment_by_id(conn, shipment_id)
    if shipment is None or (merchant_id is not None and shipment.merchant_id != merchant_id):
        raise errors.ShipmentNotFound(f"No shipment {shipment_id}.")
    return {**_summary(shipment), "timeline": await _timeline(conn, shipment)}


async def shipments_page(
    conn: AsyncConnection,
    *,
    merchant_id: str | None,
    order_id: UUID | None,
    after: tuple[Any, UUID] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], Shipment | None]:
    """A page of shipments and the last one of it when more may follow."""
    found = await list_shipments(
        conn, merchant_id=merchant_id, order_id=order_id, after=after, limit=limit + 1
    )
    page = found[:limit]
    last = page[-1] if len(found) > limit else None
    return [_summary(s) for s in page], last


async def tracking_view(
    conn: AsyncConnection, tracking_number: str, *, merchant_id: str | None
) -> dict[str, Any]:
    """What a buyer's tracking page shows: status, ETA and the timeline; no personal data."""
    shipment = await shipment_by_tracking_number(conn, tracking_number)
    if shipment is None or (merchant_id is not None and shipment.merchant_id != merchant_id):
        raise errors.UnknownTrackingNumber(
            f"No parcel with tracking number {tracking_number}.", tracking_number=tracking_number
        )
    return {
        "tracking_number": tracking_number,
        "carrier": shipment.carrier,
        "service": shipment.service_name,
        "tracking_quality": shipment.tracking_quality,
        "status": shipment.status.value,
        "lane": {"origin": shipment.lane.origin, "destination": shipment.lane.destination},
        "eta": {
            "p50": shipment.eta_p50.isoformat(),
            "p90": shipment.eta_p90.isoformat(),
            "basis": shipment.eta_basis.value,
        },
        "dispatched_at": _iso(shipment.dispatched_at),
        "delivered_at": _iso(shipment.delivered_at),
        "events": await _timeline(conn, shipment),
    }
