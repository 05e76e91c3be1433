"""Carrier tracking: verify and normalise a webhook, then move the parcel as customs allows.

The HTTP route and the sandbox network both call `receive_carrier_webhook` with the raw body and
the signature header, so simulated scans take exactly the path real ones do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.orders_repo import lock_order, update_order
from shipping_svc.adapters.shipments_repo import (
    add_timeline,
    save_shipment,
    shipment_by_tracking_number,
    shipment_for_order,
)
from shipping_svc.adapters.tracking_repo import (
    StoredScan,
    buffered_scans,
    record_scan,
    set_outcome,
)
from shipping_svc.domain.shipment import OrderInfo, Shipment
from shipping_svc.domain.signing import verify
from shipping_svc.domain.tracking import (
    Decision,
    Outcome,
    ScanStatus,
    ShipmentStatus,
    decide,
)
from shipping_svc.service_layer import errors, integration
from shipping_svc.service_layer.context import Emit, ShippingContext
from shipping_svc.service_layer.statistics import record_delivery
from shipping_svc.service_layer.timeline import DEFAULT_DESCRIPTIONS, entry
from xborder_platform.uow import UnitOfWorkFactory


class WebhookLocation(BaseModel):
    """Where the scan happened."""

    model_config = ConfigDict(extra="ignore")

    country: str = Field(pattern=r"^[A-Z]{2}$")
    city: str | None = Field(default=None, min_length=1, max_length=128)
    facility: str | None = Field(default=None, min_length=1, max_length=128)


class CarrierWebhook(BaseModel):
    """One tracking event as a carrier posts it (fields we do not know are ignored)."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=128, description="Unique per carrier.")
    tracking_number: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64, description="The carrier's raw status code.")
    occurred_at: AwareDatetime
    description: str | None = Field(default=None, max_length=500)
    location: WebhookLocation | None = None


@dataclass(frozen=True, slots=True)
class ScanReceipt:
    """What became of a webhook: applied, buffered, stale, ignored, exception or duplicate."""

    outcome: str
    shipment_id: UUID
    tracking_number: str
    normalised: str | None
    shipment_status: str
    reason: str = ""


async def receive_carrier_webhook(
    ctx: ShippingContext,
    uow_factory: UnitOfWorkFactory,
    *,
    carrier: str,
    body: bytes,
    signature: str | None,
    wall_clock_s: int,
    correlation_id: str | None = None,
    traceparent: str | None = None,
) -> ScanReceipt:
    """Verify, parse, normalise and apply one carrier tracking webhook (idempotent)."""
    adapter = ctx.carriers.get(carrier)
    if adapter is None:
        raise errors.UnknownCarrier(f"No carrier {carrier!r}.", carrier=carrier)
    secrets = ctx.webhook_secrets(carrier)
    tolerance = ctx.policy.webhook_tolerance_s
    if not verify(secrets, body, signature, now=wall_clock_s, tolerance_s=tolerance):
        raise errors.InvalidSignature(
            "The X-Carrier-Signature header is missing, too old or does not sign this body."
        )
    try:
        hook = CarrierWebhook.model_validate_json(body)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()]
        raise errors.InvalidWebhook("; ".join(problems[:5])) from None
    async with uow_factory(correlation_id=correlation_id, traceparent=traceparent) as uow:
        found = await shipment_by_tracking_number(uow.conn, hook.tracking_number)
        if found is None or found.carrier != carrier:
            raise errors.UnknownTrackingNumber(
                f"{carrier} tracking number {hook.tracking_number} is not ours.",
                tracking_number=hook.tracking_number,
            )
        order = await lock_order(uow.conn, found.order_id)
        shipment = await shipment_for_order(uow.conn, found.order_id)
        assert order is not None
        assert shipment is not None
        scan = StoredScan(
            carrier=carrier,
            event_id=hook.event_id,
            shipment_id=shipment.id,
            raw_code=hook.code.strip().upper(),
            normalised=(n.value if (n := adapter.normalise(hook.code)) else None),
            description=hook.description or adapter.carrier.describe(hook.code),
            location=hook.location.model_dump(exclude_none=True) if hook.location else None,
            occurred_at=hook.occurred_at,
        )
        if not await record_scan(uow.conn, scan, tracking_number=hook.tracking_number):
            ctx.observers.scan(carrier, "duplicate")
            return _receipt("duplicate", shipment, scan)
        decision = await apply_scan(ctx, uow.conn, uow.emit, order, shipment, scan)
        await uow.commit()
    ctx.observers.scan(carrier, decision.outcome.value)
    return _receipt(decision.outcome.value, shipment, scan, decision.reason)


def _receipt(outcome: str, shipment: Shipment, scan: StoredScan, reason: str = "") -> ScanReceipt:
    return ScanReceipt(
        outcome=outcome,
        shipment_id=shipment.id,
        tracking_number=shipment.tracking_number or "",
        normalised=scan.normalised,
        shipment_status=shipment.status.value,
        reason=reason,
    )


async def apply_scan(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    order: OrderInfo,
    shipment: Shipment,
    scan: StoredScan,
) -> Decision:
    """Apply, buffer or record one new scan; the order must be locked."""
    if scan.normalised is None:
        words = f": {scan.description}" if scan.description else ""
        await add_timeline(
            conn,
            [
                entry(
                    shipment,
                    status="exception",
                    source="carrier",
                    description=f"Unrecognised carrier status {scan.raw_code}{words}",
                    occurred_at=scan.occurred_at,
                    carrier_status=scan.raw_code,
                    location=scan.location,
                )
            ],
        )
        reason = f"{scan.raw_code} is not in {scan.carrier}'s vocabulary"
        await set_outcome(conn, scan, Outcome.EXCEPTION, reason)
        return Decision(Outcome.EXCEPTION, shipment.status, reason=reason)
    decision = decide(shipment.status, order.gates, ScanStatus(scan.normalised))
    if decision.outcome is Outcome.APPLIED:
        await _advance(ctx, conn, emit, order, shipment, decision, scan)
    elif decision.outcome is Outcome.STALE:
        await add_timeline(conn, [_scan_entry(shipment, scan, ScanStatus(scan.normalised))])
    await set_outcome(conn, scan, decision.outcome, decision.reason)
    return decision


async def apply_buffered(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    order: OrderInfo,
    shipment: Shipment,
) -> int:
    """Apply the buffered scans a gate now lets through; discard those that no longer can."""
    applied = 0
    for scan in await buffered_scans(conn, shipment.id):
        assert scan.normalised is not None
        decision = decide(shipment.status, order.gates, ScanStatus(scan.normalised))
        if decision.outcome is Outcome.BUFFERED:
            continue
        if decision.outcome is Outcome.APPLIED:
            await _advance(ctx, conn, emit, order, shipment, decision, scan)
            await set_outcome(conn, scan, Outcome.APPLIED, "applied when customs allowed it")
            applied += 1
        else:
            await set_outcome(conn, scan, Outcome.DISCARDED, decision.reason)
    return applied


def _scan_entry(
    shipment: Shipment, scan: StoredScan, status: ScanStatus, *, implied: bool = False
) -> dict[str, Any]:
    if implied:
        return entry(
            shipment,
            status=status.value,
            source="shipping",
            description=f"{DEFAULT_DESCRIPTIONS[status]} (implied by a later scan)",
            occurred_at=scan.occurred_at,
            implied=True,
        )
    return entry(
        shipment,
        status=status.value,
        source="carrier",
        description=scan.description or DEFAULT_DESCRIPTIONS[status],
        occurred_at=scan.occurred_at,
        carrier_status=scan.raw_code,
        location=scan.location,
    )


async def _advance(
    ctx: ShippingContext,
    conn: AsyncConnection,
    emit: Emit,
    order: OrderInfo,
    shipment: Shipment,
    decision: Decision,
    scan: StoredScan,
) -> None:
    rows = []
    for step in decision.steps:
        rows.append(_scan_entry(shipment, scan, step.status, implied=step.implied))
        emit(
            integration.tracking_event(
                shipment,
                step.status,
                occurred_at=scan.occurred_at,
                where=None if step.implied else scan.location,
                carrier_status=None if step.implied else scan.raw_code,
            )
        )
    await add_timeline(conn, rows)
    shipment.status = decision.status
    if shipment.status is ShipmentStatus.DELIVERED:
        shipment.delivered_at = scan.occurred_at
    if shipment.status in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER):
        await close(conn, shipment, at=ctx.clock.now())
    await save_shipment(conn, shipment)
    if shipment.status is ShipmentStatus.DELIVERED:
        await record_delivery(ctx, conn, emit, shipment)


async def close(conn: AsyncConnection, shipment: Shipment, *, at: datetime) -> None:
    """Close a shipment: the delivery address is no longer needed, so it is erased."""
    shipment.closed_at = at
    await update_order(conn, shipment.order_id, ship_to=None)


async def lock(conn: AsyncConnection, order_id: UUID) -> tuple[OrderInfo, Shipment | None] | None:
    """Lock an order and read its shipment (None when the order is unknown)."""
    order = await lock_order(conn, order_id)
    if order is None:
        return None
    return order, await shipment_for_order(conn, order_id)
