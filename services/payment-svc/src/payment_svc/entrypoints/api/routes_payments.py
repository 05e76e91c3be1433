"""The payments API, v1: read payments and refund them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse, Response

from payment_svc.entrypoints.api.card_guard import refuse_card_data
from payment_svc.entrypoints.api.convert import payment_out
from payment_svc.entrypoints.api.deps import (
    ApiKey,
    IdemKey,
    IdemStore,
    ReadConn,
    Svc,
    Uow,
    merchant_scope,
)
from payment_svc.entrypoints.api.schemas import PaymentOut, PaymentPage, RefundOut, RefundRequest
from payment_svc.service_layer.refunding import request_refund
from payment_svc.service_layer.views import list_payments, payment_details
from xborder_platform.http.idempotency import StoredResponse
from xborder_platform.http.openapi import problem_responses

router = APIRouter(
    prefix="/v1/payments", tags=["payments"], dependencies=[Depends(refuse_card_data)]
)


@router.get(
    "/{payment_id}",
    response_model=PaymentOut,
    summary="Get a payment",
    responses=problem_responses(401, 403, 404),
)
async def get_payment(payment_id: UUID, principal: ApiKey, conn: ReadConn) -> PaymentOut:
    """A payment with its status, amounts, settlement (FX snapshot included), pending action,
    refunds and provider attempts. A storefront key sees its own merchant's payments only."""
    details = await payment_details(conn, payment_id, merchant_id=merchant_scope(principal))
    return payment_out(details)


@router.get(
    "",
    response_model=PaymentPage,
    summary="List payments",
    responses=problem_responses(400, 401, 403, 422),
)
async def get_payments(
    principal: ApiKey,
    conn: ReadConn,
    order_id: Annotated[UUID | None, Query(description="Only this order's payment.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> PaymentPage:
    """Payments newest first (a storefront key: its merchant's), optionally of one order."""
    page, next_cursor = await list_payments(
        conn,
        merchant_id=merchant_scope(principal),
        order_id=order_id,
        limit=limit,
        cursor=cursor,
    )
    items = [payment_out(await payment_details(conn, p.id, merchant_id=None)) for p in page]
    return PaymentPage(items=items, next_cursor=next_cursor)


@router.post(
    "/{payment_id}/refunds",
    status_code=201,
    response_model=RefundOut,
    summary="Refund a payment",
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
async def refund(
    payment_id: UUID,
    body: Annotated[RefundRequest, Body()],
    principal: ApiKey,
    key: IdemKey,
    store: IdemStore,
    uow: Uow,
    svc: Svc,
) -> Response:
    """Refund part or all of what was captured and not refunded yet (never more).

    The refund is made at once; if the provider refuses it, it is recorded as failed (status
    `failed`, RefundFailed published) and answered with 201 all the same. Requires an
    `Idempotency-Key`: a retry gets the first answer again.
    """
    async with uow:
        replay = await store.begin(uow.conn, scope=principal.scope, key=key)
        if replay is not None:
            return replay.to_response()
        made = await request_refund(
            uow,
            svc,
            payment_id=payment_id,
            merchant_id=merchant_scope(principal),
            amount=body.amount.amount,
            currency=body.amount.currency,
            reason=body.reason,
            idempotency_scope=principal.scope,
            idempotency_key=key.key,
        )
        details = await payment_details(uow.conn, payment_id, merchant_id=None)
        out = next(r for r in payment_out(details).refunds if r.id == made.id)
        response = JSONResponse(out.model_dump(mode="json"), status_code=201)
        await store.complete(
            uow.conn, scope=principal.scope, key=key, response=StoredResponse.of(response)
        )
        await uow.commit()
    return response
