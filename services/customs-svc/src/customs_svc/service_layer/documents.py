"""Documents for a hold: stored with their SHA-256; a complete set goes to the authority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.adapters import repository as repo
from customs_svc.domain.declaration import HoldStatus
from customs_svc.service_layer import integration
from customs_svc.service_layer.context import CustomsContext
from customs_svc.service_layer.errors import DeclarationNotFound, NoOpenHold
from customs_svc.service_layer.ports import Emit


@dataclass(frozen=True, slots=True)
class Upload:
    """A checked upload: its type, the name it came with, its content and what it is."""

    document_type: str
    filename: str | None
    content: bytes
    media_type: str
    sha256: str


def document_view(doc: Any) -> dict[str, Any]:
    """A stored document, without its content."""
    return {
        "document_id": str(doc.id),
        "document_type": doc.document_type,
        "filename": doc.filename,
        "media_type": doc.media_type,
        "size_bytes": doc.size_bytes,
        "sha256": doc.sha256,
        "uploaded_at": doc.uploaded_at.isoformat(),
    }


async def _open_hold(conn: AsyncConnection, declaration_id: UUID) -> Any:
    holds = await repo.holds_of(conn, declaration_id, statuses=[HoldStatus.OPEN])
    if holds:
        return holds[-1]
    reviewing = await repo.holds_of(conn, declaration_id, statuses=[HoldStatus.SUBMITTED])
    if reviewing:
        raise NoOpenHold("the hold's documents are complete; the authority is reviewing them",
                         hold_id=str(reviewing[-1].id))  # fmt: skip
    raise NoOpenHold(f"declaration {declaration_id} has no hold waiting for documents")


async def submit_document(
    ctx: CustomsContext,
    conn: AsyncConnection,
    emit: Emit,
    *,
    declaration_id: UUID,
    merchant_id: str | None,
    upload: Upload,
) -> dict[str, Any]:
    """Store a document for the declaration's open hold; submit the hold once complete."""
    decl = await repo.get_declaration(conn, declaration_id)
    if decl is None or (merchant_id is not None and decl.merchant_id != merchant_id):
        raise DeclarationNotFound(f"no declaration {declaration_id}")
    await repo.lock_order(conn, decl.order_id)
    hold = await _open_hold(conn, declaration_id)
    now = ctx.clock.now()
    await repo.insert_document(conn, {
        "id": uuid4(), "hold_id": hold.id, "declaration_id": declaration_id,
        "document_type": upload.document_type, "filename": upload.filename,
        "media_type": upload.media_type, "size_bytes": len(upload.content),
        "sha256": upload.sha256, "content": upload.content, "uploaded_at": now,
    })  # fmt: skip
    docs = await repo.documents_of(conn, [hold.id])
    provided = {d.document_type for d in docs}
    missing = [t for t in hold.required_documents if t not in provided]
    status = HoldStatus.OPEN
    if not missing:
        status = HoldStatus.SUBMITTED
        await repo.update_hold(conn, hold.id, status=status, submitted_at=now)
        emit(integration.documents_submitted(decl.order_id, hold.id, docs, at=now))
        await ctx.authority.documents_submitted(conn, hold_id=hold.id, country=hold.country, at=now)
    return {
        "document": document_view(docs[-1]),
        "hold": {
            "hold_id": str(hold.id),
            "status": status.value,
            "required_documents": hold.required_documents,
            "missing_documents": missing,
            "respond_by": hold.respond_by.isoformat(),
        },
    }
