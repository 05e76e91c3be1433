"""shipping-svc's HTTP routes: thin, from request to use case to response."""

from __future__ import annotations

import base64
import binascii
import time
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request

from shipping_svc.domain.catalog import LaneKey
from shipping_svc.domain.signing import HEADER as SIGNATURE_HEADER
from shipping_svc.entrypoints.api.deps import Caller, Ctx, Uow, merchant_scope
from shipping_svc.entrypoints.api.schemas import (
    EtaOut,
    LaneOut,
    MoneyOut,
    RateOut,
    RatesOut,
    ScanReceiptOut,
    ShipmentOut,
    ShipmentPage,
    TrackingOut,
    UnavailableOut,
    webhook_body_schema,
)
from shipping_svc.service_layer import cancellation, views
from shipping_svc.service_layer.rates import Rates, quote_rates
from shipping_svc.service_layer.tracking import receive_carrier_webhook
from xborder_events.currencies import MINOR_UNITS
from xborder_platform.errors import Invalid
from xborder_platform.http import idempotent, problem_responses

router = APIRouter(prefix="/v1")

Country = Annotated[str, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2.")]


@router.get(
    "/rates",
    response_model=RatesOut,
    responses=problem_responses(401, 403, 422),
    summary="Rates, ETA windows and quote ids for every service of a lane",
    tags=["rates"],
)
async def get_rates(
    ctx: Ctx,
    caller: Caller,
    uow: Uow,
    origin: Country,
    destination: Country,
    weight_grams: Annotated[int, Query(gt=0, le=1_000_000, description="Parcel weight.")],
    value: Annotated[
        str, Query(pattern=r"^\d{1,12}(\.\d{1,4})?$", description='Declared value, e.g. "25.00".')
    ],
    currency: Annotated[str, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217.")],
) -> RatesOut:
    """Price every service of the lane; each rate's quote id books it when the order is placed."""
    amount = _money(value, currency)
    async with uow:
        rates = await quote_rates(
            ctx,
            uow.conn,
            lane=LaneKey(origin, destination),
            weight_grams=weight_grams,
            value=amount,
            currency=currency,
            merchant_id=merchant_scope(caller),
        )
        await uow.commit()
    return _rates_out(ctx, rates)


def _money(value: str, currency: str) -> Decimal:
    if currency not in MINOR_UNITS:
        raise Invalid(f"{currency} is not an ISO 4217 currency in circulation.", field="currency")
    amount = Decimal(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MINOR_UNITS[currency]:
        raise Invalid(
            f"{currency} has {MINOR_UNITS[currency]} decimal places; {value} has more.",
            field="value",
        )
    return amount


def _rates_out(ctx: Ctx, rates: Rates) -> RatesOut:
    def carrier_name(code: str) -> str:
        return ctx.catalog.carriers[code].name

    return RatesOut(
        lane=LaneOut(origin=rates.lane.origin, destination=rates.lane.destination),
        weight_grams=rates.weight_grams,
        quoted_at=rates.quoted_at.isoformat(),
        expires_at=rates.expires_at.isoformat(),
        rates=[
            RateOut(
                quote_id=str(r.quote_id),
                carrier=r.service.carrier,
                carrier_name=carrier_name(r.service.carrier),
                service_code=r.service.code,
                service_name=r.service.name,
                service_level=r.service.level.value,
                tracking=r.service.tracking.value,
                price=MoneyOut(amount=format(r.price, "f"), currency=r.currency),
                eta=EtaOut(
                    p50_days=r.estimate.p50_days,
                    p90_days=r.estimate.p90_days,
                    p50_date=r.window.p50.isoformat(),
                    p90_date=r.window.p90.isoformat(),
                    basis=r.estimate.basis.value,
                    sample_size=r.estimate.sample_size,
                ),
                default=r.default,
            )
            for r in rates.rates
        ],
        unavailable=[
            UnavailableOut(
                carrier=u.service.carrier,
                service_code=u.service.code,
                service_name=u.service.name,
                reason=u.reason,
            )
            for u in rates.unavailable
        ],
    )


@router.get(
    "/lanes",
    summary="The lanes served today and their services",
    responses=problem_responses(401, 403),
    tags=["rates"],
)
async def get_lanes(ctx: Ctx, caller: Caller) -> list[dict[str, Any]]:
    """Every lane with its services in force today (no prices: ask /v1/rates)."""
    today = ctx.clock.now().date()
    return [
        {
            "origin": key.origin,
            "destination": key.destination,
            "requires_delivery_tracking": lane.requires_delivery_tracking,
            "note": lane.note,
            "services": [
                {
                    "carrier": s.carrier,
                    "code": s.code,
                    "name": s.name,
                    "level": s.level.value,
                    "tracking": s.tracking.value,
                    "default": s.default,
                    "max_weight_grams": s.max_weight_grams,
                    "daily_capacity": s.daily_capacity,
                }
                for s in ctx.catalog.services_on(key, today)
            ],
        }
        for key, lane in sorted(ctx.catalog.lanes.items(), key=lambda kv: str(kv[0]))
    ]


@router.get(
    "/shipments/{shipment_id}",
    response_model=ShipmentOut,
    responses=problem_responses(401, 403, 404),
    tags=["shipments"],
)
async def get_shipment(shipment_id: UUID, caller: Caller, uow: Uow) -> dict[str, Any]:
    """A shipment with its status, ETA window and timeline."""
    async with uow:
        return await views.shipment_view(uow.conn, shipment_id, merchant_id=merchant_scope(caller))


@router.get(
    "/shipments",
    response_model=ShipmentPage,
    responses=problem_responses(400, 401, 403, 422),
    tags=["shipments"],
)
async def list_shipments(
    caller: Caller,
    uow: Uow,
    order_id: Annotated[UUID | None, Query(description="Only the order's shipment.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Shipments, oldest first (a storefront key sees only its merchant's)."""
    async with uow:
        items, last = await views.shipments_page(
            uow.conn,
            merchant_id=merchant_scope(caller),
            order_id=order_id,
            after=_decode_cursor(cursor) if cursor else None,
            limit=limit,
        )
    next_cursor = _encode_cursor(last.booked_at, last.id) if last is not None else None
    return {"items": items, "next_cursor": next_cursor}


def _encode_cursor(at: datetime, shipment_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{shipment_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        at, shipment_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), UUID(shipment_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("The cursor is not one this API returned.", field="cursor") from None


@router.post(
    "/shipments/{shipment_id}/cancel",
    response_model=ShipmentOut,
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    tags=["shipments"],
    dependencies=[Depends(idempotent(required=False))],
)
async def cancel_shipment(shipment_id: UUID, ctx: Ctx, caller: Caller, uow: Uow) -> dict[str, Any]:
    """Cancel a booking before dispatch (ShipmentCancelled); 409 once the parcel has left."""
    merchant = merchant_scope(caller)
    async with uow:
        await cancellation.cancel_shipment(
            ctx, uow.conn, uow.emit, shipment_id=shipment_id, merchant_id=merchant
        )
        await uow.commit()
        return await views.shipment_view(uow.conn, shipment_id, merchant_id=merchant)


@router.get(
    "/tracking/{tracking_number}",
    response_model=TrackingOut,
    responses=problem_responses(401, 403, 404),
    tags=["tracking"],
)
async def get_tracking(
    tracking_number: Annotated[str, Path(min_length=1, max_length=64)], caller: Caller, uow: Uow
) -> dict[str, Any]:
    """The normalised timeline a buyer's tracking page shows (no personal data)."""
    async with uow:
        return await views.tracking_view(
            uow.conn, tracking_number, merchant_id=merchant_scope(caller)
        )


@router.post(
    "/carriers/{carrier}/tracking",
    response_model=ScanReceiptOut,
    responses=problem_responses(400, 401, 404, 413, 422),
    tags=["carriers"],
    summary="A carrier's tracking event (HMAC-signed; idempotent per carrier event id)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": webhook_body_schema()}},
        },
        "parameters": [
            {
                "name": SIGNATURE_HEADER,
                "in": "header",
                "required": True,
                "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>",
                "schema": {"type": "string"},
            }
        ],
    },
)
async def carrier_tracking(
    carrier: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)],
    request: Request,
    ctx: Ctx,
) -> ScanReceiptOut:
    """Verify, normalise and apply one scan; a repeated event id is answered `duplicate`."""
    receipt = await receive_carrier_webhook(
        ctx,
        request.app.state.unit_of_work,
        carrier=carrier,
        body=await request.body(),
        signature=request.headers.get(SIGNATURE_HEADER),
        wall_clock_s=int(time.time()),
        traceparent=request.headers.get("traceparent"),
    )
    return ScanReceiptOut(
        outcome=receipt.outcome,
        shipment_id=str(receipt.shipment_id),
        tracking_number=receipt.tracking_number,
        normalised=receipt.normalised,
        shipment_status=receipt.shipment_status,
        reason=receipt.reason,
    )
