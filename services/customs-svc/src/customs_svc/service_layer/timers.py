"""What the clock triggers: hold deadlines, and the sandbox authority's due decisions.

Everything due is stored in the database (a hold's respond-by, `decision_due_at`,
`review_due_at`), so a restart loses nothing: the next scan finds it. Each item runs in its own
transaction under the order's lock and re-checks its state, so several instances may scan.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters import repository as repo
from customs_svc.domain.declaration import DeclarationStatus, HoldStatus
from customs_svc.service_layer.context import CustomsContext
from customs_svc.service_layer.decisions import apply_decision, expire_hold
from customs_svc.service_layer.ports import Emit
from xborder_platform.uow import UnitOfWorkFactory


async def run_due(ctx: CustomsContext, uow_factory: UnitOfWorkFactory) -> int:
    """Apply everything due now; the number of items handled."""
    async with uow_factory() as uow:
        deadlines, decisions, reviews = await repo.due(
            uow.conn, now=ctx.clock.now(), limit=ctx.policy.timer_batch_size
        )
    handled = 0
    for row in deadlines:
        async with uow_factory() as uow:
            if await expire_hold(ctx, uow.conn, uow.emit, row.id):
                handled += 1
            await uow.commit()
    if ctx.sandbox is None:
        return handled
    for row in decisions:
        async with uow_factory() as uow:
            await _sandbox_first(ctx, uow.conn, uow.emit, row.id)
            await uow.commit()
            handled += 1
    for row in reviews:
        async with uow_factory() as uow:
            await _sandbox_review(ctx, uow.conn, uow.emit, row.id)
            await uow.commit()
            handled += 1
    return handled


def _goods_verdict(
    ctx: CustomsContext, decl: Any, order: Any
) -> tuple[str | None, tuple[str, ...]]:
    """The first prohibited item's rule, and the documents restricted items need."""
    direction: Literal["import", "export"] = "export" if decl.checkpoint == "export" else "import"
    rules = ctx.data.book.goods_rules(decl.country, ctx.clock.now().date(), direction=direction)
    prohibited: str | None = None
    documents: list[str] = []
    for item in repo.consignment_of(order).items:
        for rule in (r for r in rules if r.matches(item.hs_code)):
            if rule.prohibited and prohibited is None:
                prohibited = f"{rule.description} ({rule.ref.id}, HS {item.hs_code})"
            documents += [d for d in rule.documents if d not in documents]
    return prohibited, tuple(documents)


async def _sandbox_first(
    ctx: CustomsContext, conn: AsyncConnection, emit: Emit, declaration_id: UUID
) -> None:
    assert ctx.sandbox is not None
    found = await repo.get_declaration(conn, declaration_id)
    order = await repo.lock_order(conn, found.order_id) if found else None
    if found is None or order is None or found.status != DeclarationStatus.FILED:
        await repo.update_declaration(conn, declaration_id, decision_due_at=None)
        return
    now = ctx.clock.now()
    prohibited, restricted = _goods_verdict(ctx, found, order)
    req = ctx.data.book.requirements_for(found.country, now.date())
    decision = ctx.sandbox.first_decision(
        declaration_id=found.id, order_id=found.order_id, checkpoint=found.checkpoint,
        country=found.country, prohibited=prohibited, restricted_documents=restricted,
        hold_documents=req.hold_documents if req else ("commercial_invoice",),
        respond_days=req.respond_days if req else Decimal(10), now=now,
    )  # fmt: skip
    receipt = await apply_decision(ctx, conn, emit, authority=found.authority, decision=decision)
    if receipt.result != "applied":
        await repo.update_declaration(conn, declaration_id, decision_due_at=None)


async def _sandbox_review(
    ctx: CustomsContext, conn: AsyncConnection, emit: Emit, hold_id: UUID
) -> None:
    assert ctx.sandbox is not None
    hold = await repo.get_hold(conn, hold_id)
    if hold is not None and hold.status == HoldStatus.SUBMITTED:
        decl = await repo.get_declaration(conn, hold.declaration_id)
        assert decl is not None
        decision = ctx.sandbox.review_decision(
            hold_id=hold.id, declaration_id=decl.id, order_id=decl.order_id,
            checkpoint=decl.checkpoint, country=decl.country, now=ctx.clock.now(),
        )  # fmt: skip
        await apply_decision(ctx, conn, emit, authority=decl.authority, decision=decision)
    await repo.update_hold(conn, hold_id, review_due_at=None)
