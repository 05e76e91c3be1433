"""Authority decisions and hold deadlines: the one path every outcome takes.

Decisions arrive from the signed webhook or from the sandbox's timer and are applied here, once
per (authority, decision id). A decision that no longer fits the declaration (a release after a
return, a second hold) is recorded as ignored and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters import repository as repo
from customs_svc.domain.declaration import (
    OPEN_HOLDS,
    Decision,
    DeclarationStatus,
    HoldStatus,
    Outcome,
    after_decision,
    hold_status_after,
)
from customs_svc.service_layer import integration
from customs_svc.service_layer.context import CustomsContext
from customs_svc.service_layer.errors import DeclarationNotFound, InvalidDecision
from customs_svc.service_layer.ports import Emit

_OPEN = [s.value for s in OPEN_HOLDS]


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of a decision."""

    result: Literal["applied", "duplicate", "ignored"]
    declaration_id: UUID
    status: str
    detail: str | None = None


async def apply_decision(
    ctx: CustomsContext, conn: AsyncConnection, emit: Emit, *, authority: str, decision: Decision
) -> Receipt:
    """Apply an authority's decision to its declaration, once."""
    found = await repo.get_declaration(conn, decision.declaration_id)
    if found is None:
        raise DeclarationNotFound(f"no declaration {decision.declaration_id}")
    if found.authority != authority:
        raise InvalidDecision(
            f"declaration {found.id} is filed with {found.authority or 'no authority yet'}, "
            f"not {authority}"
        )
    order = await repo.lock_order(conn, found.order_id)
    decl = await repo.get_declaration(conn, found.id, lock=True)
    assert decl is not None
    fresh = await repo.record_decision(
        conn, authority=authority, decision_id=decision.decision_id,
        declaration_id=decl.id, outcome=decision.outcome,
    )  # fmt: skip
    if not fresh:
        return Receipt("duplicate", decl.id, decl.status)
    new = after_decision(DeclarationStatus(decl.status), decision.outcome, decl.checkpoint)
    if new is None:
        await repo.set_decision_result(
            conn, authority=authority, decision_id=decision.decision_id, result="ignored"
        )
        return Receipt("ignored", decl.id, decl.status, f"the declaration is {decl.status}")
    if decision.outcome == "hold":
        await _hold(ctx, conn, emit, decl, decision)
    else:
        await _conclude(conn, emit, decl, order, decision.outcome, decision=decision)
    await repo.update_declaration(
        conn, decl.id, status=new, decided_at=decision.decided_at, decision_due_at=None,
        authority_reference=decision.reference or decl.authority_reference,
    )  # fmt: skip
    return Receipt("applied", decl.id, new)


async def _hold(
    ctx: CustomsContext, conn: AsyncConnection, emit: Emit, decl: Any, decision: Decision
) -> None:
    req = ctx.data.book.requirements_for(decl.country, decision.decided_at.date())
    days = req.respond_days if req else Decimal(10)
    respond_by = decision.respond_by or ctx.authority.respond_by(
        country=decl.country, held_at=decision.decided_at, days=days
    )
    if respond_by <= decision.decided_at:
        raise InvalidDecision("respond_by must be later than the decision")
    hold = {
        "id": uuid4(), "declaration_id": decl.id, "order_id": decl.order_id,
        "merchant_id": decl.merchant_id, "checkpoint": decl.checkpoint, "country": decl.country,
        "reason": decision.reason or "documents_required", "detail": decision.detail,
        "required_documents": list(
            decision.required_documents or (req.hold_documents if req else ("commercial_invoice",))
        ),
        "held_at": decision.decided_at, "respond_by": respond_by,
        "missed_deadline": req.missed_deadline if req else "return", "status": HoldStatus.OPEN,
    }  # fmt: skip
    await repo.insert_hold(conn, hold)
    emit(integration.held(hold))


async def _conclude(
    conn: AsyncConnection,
    emit: Emit,
    decl: Any,
    order: Any,
    outcome: Outcome,
    *,
    decision: Decision | None = None,
    at: datetime | None = None,
) -> None:
    """Close the open hold, if any, and emit the outcome's event."""
    at = decision.decided_at if decision else at
    assert at is not None
    hold_id = None
    for hold in await repo.holds_of(conn, decl.id, statuses=_OPEN):
        hold_id = hold.id
        await repo.update_hold(conn, hold.id, status=hold_status_after(outcome), resolved_at=at,
                               review_due_at=None)  # fmt: skip
    reason = decision.reason if decision else "missed_deadline"
    detail = decision.detail if decision else "no documents before the respond-by time"
    if outcome == "clear" and decl.checkpoint == "export":
        reference = decision.reference if decision else None
        emit(integration.export_cleared(decl, reference=reference, at=at))
    elif outcome == "clear":
        emit(integration.parcel_released(decl, incoterm=order.incoterm, currency=order.currency,
                                         assessment=decl.assessment, at=at))  # fmt: skip
    elif outcome == "return":
        emit(integration.return_ordered(decl, hold_id=hold_id, at=at, detail=detail,
                                        reason=reason or "documents_rejected"))  # fmt: skip
    else:
        emit(integration.confiscated(decl, hold_id=hold_id, at=at, detail=detail,
                                     reason=reason or "documents_rejected"))  # fmt: skip


async def expire_hold(
    ctx: CustomsContext, conn: AsyncConnection, emit: Emit, hold_id: UUID
) -> bool:
    """A hold whose respond-by passed without documents: return or confiscation, per its rule."""
    found = await repo.get_hold(conn, hold_id)
    if found is None:
        return False
    order = await repo.lock_order(conn, found.order_id)
    hold = await repo.get_hold(conn, hold_id)
    now = ctx.clock.now()
    if hold is None or hold.status != HoldStatus.OPEN or hold.respond_by > now:
        return False
    decl = await repo.get_declaration(conn, hold.declaration_id, lock=True)
    assert decl is not None
    outcome: Outcome = "confiscate" if hold.missed_deadline == "confiscate" else "return"
    await _conclude(conn, emit, decl, order, outcome, at=now)
    status = (
        DeclarationStatus.CONFISCATED if outcome == "confiscate" else DeclarationStatus.RETURNED
    )
    await repo.update_declaration(
        conn, decl.id, status=status, decided_at=now, decision_due_at=None
    )
    return True
