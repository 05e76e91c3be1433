"""Transit-time statistics per lane service, learned from every delivery, and the ETA revisions
of parcels still in flight when a lane's window moves materially."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.orders_repo import lock_orders_if_free
from shipping_svc.adapters.shipments_repo import (
    revision_candidates,
    save_shipment,
    shipment_for_order,
)
from shipping_svc.adapters.tracking_repo import (
    add_observation,
    recent_transit_days,
    save_stats,
)
from shipping_svc.domain.eta import Estimate, estimate, moved_materially, quantiles, window
from shipping_svc.domain.shipment import Shipment
from shipping_svc.domain.tracking import IN_FLIGHT
from shipping_svc.service_layer import integration
from shipping_svc.service_layer.context import Emit, ShippingContext

log = structlog.get_logger(__name__)

_SECONDS_PER_DAY = 86_400


async def record_delivery(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, shipment: Shipment
) -> Estimate | None:
    """Learn from a delivered parcel; revise the parcels in flight if the window moved."""
    if shipment.dispatched_at is None or shipment.delivered_at is None:
        return None
    days = (shipment.delivered_at - shipment.dispatched_at).total_seconds() / _SECONDS_PER_DAY
    if days < 0:
        log.warning("delivery before dispatch ignored", shipment_id=str(shipment.id))
        return None
    added = await add_observation(
        conn,
        service_key=shipment.service_key,
        shipment_id=shipment.id,
        transit_days=days,
        delivered_at=shipment.delivered_at,
    )
    if not added:
        return None
    recent = await recent_transit_days(
        conn, service_key=shipment.service_key, window=ctx.policy.stats_window
    )
    observed = quantiles(recent)
    await save_stats(conn, service_key=shipment.service_key, observed=observed)
    service = ctx.catalog.version(shipment.service_key, ctx.clock.now().date())
    if service is None:
        return None
    est = estimate(service.transit, observed, min_samples=ctx.policy.stats_min_samples)
    await revise_in_flight(ctx, conn, emit, shipment, est)
    return est


async def revise_in_flight(
    ctx: ShippingContext, conn: AsyncConnection, emit: Emit, delivered: Shipment, est: Estimate
) -> int:
    """Move the windows of the service's parcels in flight whose estimate is now off.

    Orders another transaction holds are skipped (never waited for, so two deliveries cannot
    deadlock); they are picked up by a later delivery on the lane.
    """
    policy = ctx.policy
    candidates = await revision_candidates(
        conn,
        service_key=delivered.service_key,
        p50_days=est.p50_days,
        p90_days=est.p90_days,
        threshold_days=policy.revision_threshold_days,
        exclude_order=delivered.order_id,
        limit=policy.revision_batch,
    )
    locked = await lock_orders_if_free(conn, candidates)
    now = ctx.clock.now()
    revised = 0
    for order_id in candidates:
        if order_id not in locked:
            continue
        shipment = await shipment_for_order(conn, order_id)
        if shipment is None or shipment.status not in IN_FLIGHT:
            continue
        previous = shipment.window
        new = window(
            shipment.ship_date,
            est,
            widen_days=shipment.widen_days,
            delay_days=shipment.delay_days,
        )
        shipment.transit_p50_days, shipment.transit_p90_days = est.p50_days, est.p90_days
        shipment.eta_basis = est.basis
        shipment.eta_p50, shipment.eta_p90 = new.p50, new.p90
        await save_shipment(conn, shipment)
        if moved_materially(previous, new, threshold_days=policy.revision_threshold_days):
            emit(
                integration.estimate_revised(
                    shipment, previous=previous, reason="lane_statistics", at=now
                )
            )
            revised += 1
    return revised
