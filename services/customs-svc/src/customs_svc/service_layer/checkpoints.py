"""The two checkpoints: export on ParcelDispatched, import on ParcelArrivedAtDestination.

Each opens the order's declaration for that checkpoint (once: a repeated scan changes nothing),
files it with the country's authority and, at import, assesses duties and taxes under the
rules in force that day. A parcel that reaches a checkpoint before customs has seen its order
(topics are not ordered between each other) waits as `pending` and is filed with the order.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import uuid4

import structlog
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters import repository as repo
from customs_svc.domain.declaration import DeclarationStatus
from customs_svc.domain.landed_cost import LandedCostError, assess
from customs_svc.service_layer.context import CustomsContext
from customs_svc.service_layer.serialize import landed_cost_json
from xborder_events.shipping import ParcelArrivedAtDestination, ParcelDispatched

log = structlog.get_logger(__name__)


async def on_parcel_dispatched(
    ctx: CustomsContext, conn: AsyncConnection, event: ParcelDispatched
) -> None:
    """The carrier took the parcel: file the export declaration (the decision comes later)."""
    await _open(ctx, conn, event, "export")


async def on_parcel_arrived(
    ctx: CustomsContext, conn: AsyncConnection, event: ParcelArrivedAtDestination
) -> None:
    """The parcel reached the destination: assess and file the import declaration."""
    await _open(ctx, conn, event, "import")


async def _open(
    ctx: CustomsContext,
    conn: AsyncConnection,
    event: ParcelDispatched | ParcelArrivedAtDestination,
    checkpoint: Literal["export", "import"],
) -> None:
    order = await repo.lock_order(conn, event.order_id)
    declaration_id = uuid4()
    opened = await repo.insert_declaration(conn, {
        "id": declaration_id, "order_id": event.order_id,
        "merchant_id": order.merchant_id if order else None, "checkpoint": checkpoint,
        "status": DeclarationStatus.PENDING, "shipment_id": event.shipment_id,
        "tracking_number": event.tracking_number,
    })  # fmt: skip
    if not opened:
        return
    if order is None:
        log.warning("parcel at a checkpoint before its order", order_id=str(event.order_id),
                    checkpoint=checkpoint)  # fmt: skip
        return
    await _file(ctx, conn, order, declaration_id, checkpoint)


async def file_pending(ctx: CustomsContext, conn: AsyncConnection, order: Any) -> None:
    """File the declarations that waited for this order."""
    pending = await repo.declarations_of(conn, order.order_id, statuses=["pending"])
    for decl in pending:
        await _file(ctx, conn, order, decl.id, decl.checkpoint)


def _assessment(ctx: CustomsContext, order: Row[Any]) -> dict[str, Any] | None:
    now = ctx.clock.now()
    try:
        lc = assess(ctx.data.book, ctx.data.fx, repo.consignment_of(order), on=now.date(), at=now)
    except LandedCostError as exc:
        log.warning("import declaration without an assessment", order_id=str(order.order_id),
                    reason=str(exc))  # fmt: skip
        return None
    return landed_cost_json(lc)


async def _file(
    ctx: CustomsContext, conn: AsyncConnection, order: Any, declaration_id: Any, checkpoint: str
) -> None:
    now = ctx.clock.now()
    country = order.ship_from if checkpoint == "export" else order.destination
    authority = ctx.data.authority_for(country)
    await repo.update_declaration(
        conn,
        declaration_id,
        status=DeclarationStatus.FILED,
        country=country,
        authority=authority.code if authority else f"{country.lower()}-customs",
        merchant_id=order.merchant_id,
        assessment=_assessment(ctx, order) if checkpoint == "import" else None,
        filed_at=now,
    )
    await ctx.authority.filed(conn, declaration_id=declaration_id, country=country, at=now)
