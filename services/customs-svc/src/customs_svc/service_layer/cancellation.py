"""On OrderCancelled: close the order's declarations and holds; nothing more is decided."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters import repository as repo
from customs_svc.domain.declaration import FINAL, OPEN_HOLDS, DeclarationStatus, HoldStatus
from customs_svc.service_layer.context import CustomsContext
from xborder_events.orders import OrderCancelled


async def on_order_cancelled(
    ctx: CustomsContext, conn: AsyncConnection, event: OrderCancelled
) -> None:
    """Mark the order cancelled; close its undecided declarations and their holds."""
    order = await repo.lock_order(conn, event.order_id)
    if order is None or order.cancelled_at is not None:
        return
    now = ctx.clock.now()
    await repo.update_order(conn, order.order_id, cancelled_at=event.cancelled_at)
    for decl in await repo.declarations_of(conn, order.order_id):
        if DeclarationStatus(decl.status) in FINAL:
            continue
        await repo.update_declaration(conn, decl.id, status=DeclarationStatus.CLOSED,
                                      decided_at=now, decision_due_at=None)  # fmt: skip
        for hold in await repo.holds_of(conn, decl.id, statuses=[s.value for s in OPEN_HOLDS]):
            await repo.update_hold(conn, hold.id, status=HoldStatus.CANCELLED, resolved_at=now,
                                   review_due_at=None)  # fmt: skip
