"""The order API, v1: place, read, list, follow and cancel orders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime

from order_svc.adapters.repository import SqlOrderRepository
from order_svc.adapters.webhooks import WebhookNotifier
from order_svc.domain.errors import OrderNotFound
from order_svc.domain.model import Order
from order_svc.domain.status import OrderStatus
from order_svc.entrypoints.api.convert import order_view, to_new_order
from order_svc.entrypoints.api.deps import ApiKey, IdemKey, IdemStore, Metrics, ReadConn, Uow
from order_svc.entrypoints.api.requests import (
    NOT_CARD_DATA,
    CancelRequest,
    PlaceOrderRequest,
)
from order_svc.entrypoints.api.responses import (
    OrderPage,
    OrderSummary,
    OrderView,
    Timeline,
    TimelineEntryOut,
)
from order_svc.service_layer.handlers import cancel_order, place_order
from order_svc.views import Cursor, InvalidCursor, OrderFilter, list_orders, timeline
from xborder_events import Money
from xborder_platform.http.auth import Principal, ensure_merchant
from xborder_platform.http.card_data import card_data_guard
from xborder_platform.http.idempotency import StoredResponse
from xborder_platform.http.openapi import problem_responses

#: Card data is refused in every body (422 card-data-refused, naming the field) before anything
#: else reads it: no idempotency key is claimed, nothing is stored.
router = APIRouter(
    prefix="/v1/orders",
    tags=["orders"],
    dependencies=[Depends(card_data_guard(values_ignored_at=NOT_CARD_DATA))],
)


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid(loc: tuple[str, ...], msg: str, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": msg, "type": kind, "input": None}])


def _merchant_for(principal: Principal, requested: str | None) -> str:
    """The merchant an order is placed for: a storefront key's own; an operator names it."""
    if requested is None:
        if principal.merchant_id is None:
            raise _invalid(("body", "merchant_id"), "required with an operator key", "missing")
        return principal.merchant_id
    ensure_merchant(principal, requested)
    return requested


def _json(order: Order, *, status_code: int = 200) -> JSONResponse:
    return JSONResponse(order_view(order).model_dump(mode="json"), status_code=status_code)


@router.post(
    "",
    status_code=201,
    response_model=OrderView,
    summary="Place an order",
    responses=problem_responses(400, 401, 403, 409, 413, 422),
)
async def place(
    principal: ApiKey,
    key: IdemKey,
    body: Annotated[PlaceOrderRequest, Body()],
    store: IdemStore,
    uow: Uow,
    metrics: Metrics,
) -> Response:
    """Price the order (goods, shipping, duties and taxes under DDP, grand total), store it and
    announce OrderPlaced. The quotes are checked later, by payment-svc and customs-svc.

    A retry with the same `Idempotency-Key` and body gets the first answer again; the same key
    with another body gets 422.
    """
    merchant_id = _merchant_for(principal, body.merchant_id)
    if errors := body.problems():
        raise RequestValidationError(errors)
    new = to_new_order(body, merchant_id=merchant_id)
    async with uow:
        replay = await store.begin(uow.conn, scope=principal.scope, key=key)
        if replay is not None:
            return replay.to_response()
        order = await place_order(
            new,
            orders=SqlOrderRepository(uow.conn),
            emit=uow.emit,
            metrics=metrics,
            now=_now(),
            notify=WebhookNotifier(uow.conn),
        )
        response = _json(order, status_code=201)
        response.headers["Location"] = f"/v1/orders/{order.id}"
        await store.complete(
            uow.conn, scope=principal.scope, key=key, response=StoredResponse.of(response)
        )
        await uow.commit()
    return response


@router.get(
    "",
    response_model=OrderPage,
    summary="List orders, newest first",
    responses=problem_responses(401, 403, 422),
)
async def list_(
    principal: ApiKey,
    conn: ReadConn,
    merchant_id: Annotated[str | None, Query(max_length=128)] = None,
    status: OrderStatus | None = None,
    created_after: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=512, description="From next_cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPage:
    """A storefront key sees its own merchant's orders; an operator key every merchant's,
    filtered by `merchant_id` if given."""
    if merchant_id is not None:
        ensure_merchant(principal, merchant_id)
    try:
        after = Cursor.decode(cursor) if cursor else None
    except InvalidCursor as exc:
        raise _invalid(("query", "cursor"), str(exc)) from exc
    where = OrderFilter(
        merchant_id=merchant_id or principal.merchant_id,
        status=status,
        created_after=created_after,
    )
    rows, next_cursor = await list_orders(conn, where=where, cursor=after, limit=limit)
    items = [
        OrderSummary(
            id=r.id,
            merchant_id=r.merchant_id,
            merchant_order_ref=r.merchant_order_ref,
            status=OrderStatus(r.status),
            grand_total=Money(amount=r.grand_total, currency=r.currency),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    return OrderPage(items=items, next_cursor=next_cursor.encode() if next_cursor else None)


async def _readable(conn: ReadConn, principal: Principal, order_id: UUID, *, lines: bool) -> Order:
    order = await SqlOrderRepository(conn).get(order_id, with_lines=lines)
    if order is None:
        raise OrderNotFound(order_id)
    ensure_merchant(principal, order.merchant_id)
    return order


@router.get(
    "/{order_id}",
    response_model=OrderView,
    summary="Read an order",
    responses=problem_responses(401, 403, 404, 422),
)
async def read(principal: ApiKey, conn: ReadConn, order_id: UUID) -> Response:
    """Status, totals, items, and the latest payment, shipment and customs facts."""
    return _json(await _readable(conn, principal, order_id, lines=True))


@router.get(
    "/{order_id}/timeline",
    response_model=Timeline,
    summary="Every event that touched an order",
    responses=problem_responses(401, 403, 404, 422),
)
async def read_timeline(principal: ApiKey, conn: ReadConn, order_id: UUID) -> Timeline:
    """The events of the order (its own included) in the order order-svc handled them, with
    each one's type, publishing service, time and what it did to the status."""
    await _readable(conn, principal, order_id, lines=False)
    rows = await timeline(conn, order_id)
    return Timeline(
        order_id=order_id,
        entries=[
            TimelineEntryOut(
                event_id=r.event_id,
                type=r.name,
                event_type=r.event_type,
                source=r.source,
                occurred_at=r.occurred_at,
                recorded_at=r.recorded_at,
                status=OrderStatus(r.status),
                outcome=r.outcome,
            )
            for r in rows
        ],
    )


@router.post(
    "/{order_id}/cancel",
    response_model=OrderView,
    summary="Cancel an order before dispatch",
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
async def cancel(
    principal: ApiKey, order_id: UUID, body: CancelRequest, uow: Uow, metrics: Metrics
) -> Response:
    """Allowed until the carrier takes the parcel (announces OrderCancelled: payment-svc voids
    or refunds, shipping-svc cancels the booking); 409 afterwards. Cancelling a cancelled
    order answers the order again and announces nothing."""
    async with uow:
        order = await cancel_order(
            order_id,
            reason=body.reason,
            detail=body.detail,
            authorize=lambda o: ensure_merchant(principal, o.merchant_id),
            orders=SqlOrderRepository(uow.conn),
            emit=uow.emit,
            metrics=metrics,
            now=_now(),
            notify=WebhookNotifier(uow.conn),
        )
        await uow.commit()
    return _json(order)
