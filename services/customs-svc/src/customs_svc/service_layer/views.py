"""Read side: declarations with their holds and documents, and the operators' hold queue."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters import repository as repo
from customs_svc.service_layer.documents import document_view
from customs_svc.service_layer.errors import DeclarationNotFound
from xborder_platform.errors import Invalid

Cursor = tuple[datetime, UUID]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def encode_cursor(at: datetime, key: UUID) -> str:
    """An opaque cursor after (at, key)."""
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> Cursor | None:
    """The position an opaque cursor names; 422 when it is not one of ours."""
    if cursor is None:
        return None
    try:
        at, key = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), UUID(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor is not a cursor this service gave") from None


def hold_view(hold: Any, documents: list[Any]) -> dict[str, Any]:
    """A hold with its documents and what is still missing."""
    provided = {d.document_type for d in documents}
    return {
        "hold_id": str(hold.id),
        "declaration_id": str(hold.declaration_id),
        "order_id": str(hold.order_id),
        "checkpoint": hold.checkpoint,
        "country": hold.country,
        "reason": hold.reason,
        "detail": hold.detail,
        "status": hold.status,
        "required_documents": hold.required_documents,
        "missing_documents": [t for t in hold.required_documents if t not in provided],
        "held_at": hold.held_at.isoformat(),
        "respond_by": hold.respond_by.isoformat(),
        "on_missed_deadline": hold.missed_deadline,
        "submitted_at": _iso(hold.submitted_at),
        "resolved_at": _iso(hold.resolved_at),
        "documents": [document_view(d) for d in documents],
    }


def declaration_summary(decl: Any) -> dict[str, Any]:
    """A declaration without its holds."""
    return {
        "declaration_id": str(decl.id),
        "order_id": str(decl.order_id),
        "checkpoint": decl.checkpoint,
        "country": decl.country,
        "authority": decl.authority,
        "status": decl.status,
        "shipment_id": str(decl.shipment_id),
        "tracking_number": decl.tracking_number,
        "authority_reference": decl.authority_reference,
        "assessment": decl.assessment,
        "created_at": decl.created_at.isoformat(),
        "filed_at": _iso(decl.filed_at),
        "decided_at": _iso(decl.decided_at),
        "decision_due_at": _iso(decl.decision_due_at),
    }


async def declaration(
    conn: AsyncConnection, declaration_id: UUID, *, merchant_id: str | None
) -> dict[str, Any]:
    """A declaration with its holds, their documents and the decisions received."""
    decl = await repo.get_declaration(conn, declaration_id)
    if decl is None or (merchant_id is not None and decl.merchant_id != merchant_id):
        raise DeclarationNotFound(f"no declaration {declaration_id}")
    holds = await repo.holds_of(conn, decl.id)
    docs = await repo.documents_of(conn, [h.id for h in holds])
    decisions = await repo.decisions_of(conn, decl.id)
    return {
        **declaration_summary(decl),
        "holds": [hold_view(h, [d for d in docs if d.hold_id == h.id]) for h in holds],
        "decisions": [
            {
                "authority": d.authority,
                "decision_id": d.decision_id,
                "outcome": d.outcome,
                "result": d.result,
                "received_at": d.received_at.isoformat(),
            }
            for d in decisions
        ],
    }


async def declarations(
    conn: AsyncConnection,
    *,
    order_id: UUID | None,
    merchant_id: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Declarations oldest first, a page at a time."""
    rows = await repo.list_declarations(
        conn, order_id=order_id, merchant_id=merchant_id, limit=limit + 1,
        cursor=decode_cursor(cursor),
    )  # fmt: skip
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "items": [declaration_summary(d) for d in page],
        "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    }


async def holds(
    conn: AsyncConnection,
    *,
    status: str | None,
    merchant_id: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Holds oldest first (the operators' work queue), a page at a time."""
    rows = await repo.list_holds(
        conn, status=status, merchant_id=merchant_id, limit=limit + 1,
        cursor=decode_cursor(cursor),
    )  # fmt: skip
    page = rows[:limit]
    docs = await repo.documents_of(conn, [h.id for h in page]) if page else []
    more = len(rows) > limit
    return {
        "items": [hold_view(h, [d for d in docs if d.hold_id == h.id]) for h in page],
        "next_cursor": encode_cursor(page[-1].held_at, page[-1].id) if more else None,
    }
