"""The HTTP API: quotes, declarations, document uploads, the hold queue, authority webhooks."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from customs_svc.config import DOCUMENT_MAX_BYTES
from customs_svc.domain.documents import DOCUMENT_TYPES
from customs_svc.domain.signing import HEADER as SIGNATURE_HEADER
from customs_svc.entrypoints.api.deps import Caller, Ctx, IdemKey, IdemStore, Uow, merchant_of
from customs_svc.entrypoints.api.schemas import QuoteIn
from customs_svc.entrypoints.api.uploads import read_upload
from customs_svc.service_layer import quotes, views
from customs_svc.service_layer.documents import submit_document
from customs_svc.service_layer.webhooks import DecisionIn, receive_decision
from xborder_platform.http import StoredResponse, idempotent, problem_responses

router = APIRouter(prefix="/v1")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size.")]
CursorQ = Annotated[str | None, Query(max_length=200, description="`next_cursor` of a page.")]


@router.post(
    "/landed-cost/quotes",
    status_code=201,
    responses=problem_responses(400, 401, 403, 409, 413, 422),
    dependencies=[Depends(idempotent(required=False))],
    summary="Quote duties, taxes and fees for a consignment, under today's rules",
    tags=["landed cost"],
)
async def create_quote(body: QuoteIn, ctx: Ctx, caller: Caller, uow: Uow) -> dict[str, Any]:
    """Each line names its rule and effective date; the FX snapshot used is included. The quote
    expires after CUSTOMS_QUOTE_TTL_S, or when the destination's rules next change if sooner."""
    async with uow:
        view = await quotes.create_quote(
            ctx, uow.conn, body.consignment(), incoterm=body.incoterm,
            merchant_id=merchant_of(caller),
        )  # fmt: skip
        await uow.commit()
    return view


@router.get(
    "/landed-cost/quotes/{quote_id}",
    responses=problem_responses(401, 403, 404),
    summary="A landed-cost quote",
    tags=["landed cost"],
)
async def get_quote(quote_id: UUID, caller: Caller, uow: Uow) -> dict[str, Any]:
    """The quote as it was answered."""
    async with uow:
        return await quotes.get_quote(uow.conn, quote_id, merchant_id=merchant_of(caller))


@router.get(
    "/declarations/{declaration_id}",
    responses=problem_responses(401, 403, 404),
    summary="A declaration with its assessment, holds, documents and decisions",
    tags=["declarations"],
)
async def get_declaration(declaration_id: UUID, caller: Caller, uow: Uow) -> dict[str, Any]:
    """A storefront key sees its merchant's declarations only."""
    async with uow:
        return await views.declaration(uow.conn, declaration_id, merchant_id=merchant_of(caller))


@router.get(
    "/declarations",
    responses=problem_responses(401, 403, 422),
    summary="Declarations, oldest first (filter by order)",
    tags=["declarations"],
)
async def list_declarations(
    caller: Caller,
    uow: Uow,
    order_id: Annotated[UUID | None, Query()] = None,
    limit: Limit = 50,
    cursor: CursorQ = None,
) -> dict[str, Any]:
    """Pass `next_cursor` as `cursor` for the next page."""
    async with uow:
        return await views.declarations(
            uow.conn, order_id=order_id, merchant_id=merchant_of(caller), limit=limit,
            cursor=cursor,
        )  # fmt: skip


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["document_type", "file"],
                    "properties": {
                        "document_type": {"type": "string", "enum": list(DOCUMENT_TYPES)},
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": f"PDF, PNG or JPEG, at most {DOCUMENT_MAX_BYTES} "
                            "bytes; recognised by content, not by name.",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/declarations/{declaration_id}/documents",
    status_code=201,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422),
    openapi_extra=_UPLOAD_BODY,
    summary="Upload a document a hold asks for",
    tags=["declarations"],
)
async def upload_document(
    declaration_id: UUID,
    request: Request,
    ctx: Ctx,
    caller: Caller,
    key: IdemKey,
    store: IdemStore,
    uow: Uow,
) -> Response:
    """Stored with its SHA-256. When every required document is on file the hold is submitted
    (`CustomsDocumentsSubmitted`) and the authority decides again."""
    upload = await read_upload(request, max_bytes=DOCUMENT_MAX_BYTES)
    # A multipart body differs on every retry (its boundary): the retry is the same upload when
    # its type and content are.
    key = replace(key, request_hash=f"document:{upload.document_type}:{upload.sha256}")
    async with uow:
        replay = await store.begin(uow.conn, scope=caller.scope, key=key)
        if replay is not None:
            return replay.to_response()
        view = await submit_document(
            ctx, uow.conn, uow.emit, declaration_id=declaration_id,
            merchant_id=merchant_of(caller), upload=upload,
        )  # fmt: skip
        response = JSONResponse(view, status_code=201)
        await store.complete(uow.conn, scope=caller.scope, key=key,
                             response=StoredResponse.of(response))  # fmt: skip
        await uow.commit()
    return response


@router.get(
    "/holds",
    responses=problem_responses(401, 403, 422),
    summary="Holds, oldest first: the operators' work queue",
    tags=["holds"],
)
async def list_holds(
    caller: Caller,
    uow: Uow,
    status: Annotated[
        Literal["open", "submitted", "released", "returned", "confiscated", "cancelled"] | None,
        Query(description="`open`: waiting for documents."),
    ] = None,
    limit: Limit = 50,
    cursor: CursorQ = None,
) -> dict[str, Any]:
    """Each hold with its required, missing and uploaded documents and its respond-by."""
    async with uow:
        return await views.holds(
            uow.conn, status=status, merchant_id=merchant_of(caller), limit=limit, cursor=cursor
        )


@router.post(
    "/authorities/{authority}/decisions",
    responses=problem_responses(401, 404, 422),
    summary="An authority's decision on a declaration (signed webhook)",
    tags=["authorities"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": DecisionIn.model_json_schema()}},
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
async def authority_decision(
    authority: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)],
    request: Request,
    ctx: Ctx,
) -> dict[str, Any]:
    """Applied once per (authority, decision id): a repeat answers `duplicate`; a decision the
    declaration no longer admits answers `ignored`. Both change nothing."""
    receipt = await receive_decision(
        ctx,
        request.app.state.unit_of_work,
        authority=authority,
        body=await request.body(),
        signature=request.headers.get(SIGNATURE_HEADER),
        wall_clock_s=int(time.time()),
        traceparent=request.headers.get("traceparent"),
    )
    return {
        "result": receipt.result,
        "declaration_id": str(receipt.declaration_id),
        "declaration_status": receipt.status,
        "detail": receipt.detail,
    }
