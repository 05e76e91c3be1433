"""The webhook-endpoints API: register, list, change, delete endpoints; rotate secrets; list and
redeliver deliveries. Storefront keys act for their merchant; operator keys name the merchant.

Another merchant's endpoint or delivery answers 404, as if it did not exist.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the routes built in
# `webhook_router`, and one of them names a local alias, which only works when evaluated.

import json
import uuid
from collections.abc import Collection, Sequence
from datetime import timedelta
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from xborder_platform.errors import Conflict, NotFound
from xborder_platform.http.auth import Principal, ensure_merchant, require_api_key
from xborder_platform.http.idempotency import IdempotencyKey, IdempotencyStore, StoredResponse
from xborder_platform.http.idempotency_routes import idempotency_key, idempotency_store
from xborder_platform.http.openapi import problem_responses
from xborder_platform.webhooks import store
from xborder_platform.webhooks.destinations import DestinationPolicy, DestinationRefused
from xborder_platform.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPage,
    EndpointPatch,
    SecretRotated,
)
from xborder_platform.webhooks.settings import WebhookSettings
from xborder_platform.webhooks.signing import SecretBox, generate_secret

ApiKey = Annotated[Principal, Depends(require_api_key("storefront", "operator"))]
Cursor = Annotated[str | None, Query(max_length=512, description="From next_cursor.")]
Limit = Annotated[int, Query(ge=1, le=200)]
IdemKey = Annotated[IdempotencyKey, Depends(idempotency_key)]
IdemStore = Annotated[IdempotencyStore, Depends(idempotency_store)]


def _invalid(loc: tuple[str, ...], msg: str, kind: str = "value_error") -> RequestValidationError:
    return RequestValidationError([{"loc": loc, "msg": msg, "type": kind, "input": None}])


def _merchant_for(principal: Principal, requested: str | None, *, where: str) -> str:
    """The merchant acted for: a storefront key's own; an operator key must name it."""
    if requested is None:
        if principal.merchant_id is None:
            raise _invalid((where, "merchant_id"), "required with an operator key", "missing")
        return principal.merchant_id
    ensure_merchant(principal, requested)
    return requested


def _engine(request: Request) -> AsyncEngine:
    """The service's engine (set up by the service app factory)."""
    engine: AsyncEngine = request.app.state.engine
    return engine


Engine = Annotated[AsyncEngine, Depends(_engine)]


async def _owned(conn: AsyncConnection, principal: Principal, endpoint_id: uuid.UUID) -> Row[Any]:
    """The endpoint if the caller may see it; 404 otherwise."""
    scope = principal.merchant_id if principal.role == "storefront" else None
    row = await store.get_endpoint(conn, endpoint_id, merchant_id=scope)
    if row is None:
        raise NotFound("No such webhook endpoint.", endpoint_id=str(endpoint_id))
    return row


def _kept(response: JSONResponse, *, sealed_secret: str) -> StoredResponse:
    """The answer to keep for replays: the secret in it sealed as the endpoint's is at rest."""
    body = json.loads(bytes(response.body))
    body["secret"] = sealed_secret
    return _with_body(StoredResponse.of(response), body)


def _unsealed(stored: StoredResponse, box: SecretBox) -> Response:
    """A kept answer replayed: the same as the first, its secret opened again."""
    body = json.loads(stored.body)
    if isinstance(body, dict) and isinstance(body.get("secret"), str):
        body["secret"] = box.open(body["secret"])
    return _with_body(stored, body).to_response()


def _with_body(stored: StoredResponse, body: object) -> StoredResponse:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    headers = [(k, v) for k, v in stored.headers if k.lower() != "content-length"]
    headers.append(("content-length", str(len(content))))
    return StoredResponse(status=stored.status, headers=tuple(headers), body=content)


def webhook_router(
    *,
    event_types: Collection[str],
    settings: WebhookSettings | None = None,
    prefix: str = "/v1/webhook-endpoints",
    tags: Sequence[str] = ("webhooks",),
) -> APIRouter:
    """The webhook-endpoints routes of a service that sends `event_types`.

    `settings` default to `app.state.webhook_settings`, else to `WebhookSettings()`.
    """
    allowed = frozenset(event_types)
    if not allowed:
        raise ValueError("a webhook router needs at least one event type")
    router = APIRouter(prefix=prefix, tags=list[str | Enum](tags))

    def current(request: Request) -> WebhookSettings:
        found = settings or getattr(request.app.state, "webhook_settings", None)
        return found if isinstance(found, WebhookSettings) else WebhookSettings()

    Settings = Annotated[WebhookSettings, Depends(current)]

    def check(url: str | None, types: list[str] | None, config: WebhookSettings) -> None:
        if url is not None:
            try:
                DestinationPolicy(config.allow_list).check_url(url)
            except DestinationRefused as exc:
                raise _invalid(("body", "url"), str(exc)) from None
        unknown = sorted(set(types or ()) - allowed)
        if unknown:
            raise _invalid(
                ("body", "event_types"),
                f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}",
            )

    @router.post(
        "",
        status_code=201,
        response_model=EndpointCreated,
        summary="Register a webhook endpoint; its signing secret is shown this once",
        responses=problem_responses(400, 401, 403, 409, 422),
    )
    async def create(
        body: EndpointIn,
        principal: ApiKey,
        key: IdemKey,
        idem: IdemStore,
        engine: Engine,
        config: Settings,
    ) -> Response:
        """Needs an `Idempotency-Key`: a retry with the same key and body gets the first answer
        again, secret included (kept sealed like the endpoint's own until the key expires),
        and registers nothing more; the same key with another body gets 422."""
        merchant_id = _merchant_for(principal, body.merchant_id, where="body")
        check(body.url, body.event_types, config)
        box = SecretBox(config.secret_keys)
        async with engine.begin() as conn:
            replay = await idem.begin(conn, scope=principal.scope, key=key)
            if replay is not None:
                return _unsealed(replay, box)
            # A soft limit: two concurrent registrations may pass it by one.
            count = await store.count_endpoints(conn, merchant_id=merchant_id)
            if count >= config.max_endpoints_per_merchant:
                raise Conflict(
                    f"A merchant may have at most {config.max_endpoints_per_merchant} endpoints."
                )
            secret = generate_secret()
            sealed = box.seal(secret)
            row = await store.insert_endpoint(
                conn,
                merchant_id=merchant_id,
                url=body.url.strip(),
                event_types=body.event_types,
                description=body.description,
                enabled=body.enabled,
                sealed_secret=sealed,
            )
            created = EndpointCreated(**EndpointOut.of(row).model_dump(), secret=secret)
            response = JSONResponse(created.model_dump(mode="json"), status_code=201)
            response.headers["Location"] = f"{prefix}/{row.id}"
            await idem.complete(
                conn,
                scope=principal.scope,
                key=key,
                response=_kept(response, sealed_secret=sealed),
            )
        return response

    @router.get(
        "",
        response_model=EndpointPage,
        summary="List webhook endpoints, oldest first",
        responses=problem_responses(401, 403, 422),
    )
    async def list_(
        principal: ApiKey,
        engine: Engine,
        merchant_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> EndpointPage:
        merchant = _merchant_for(principal, merchant_id, where="query")
        try:
            async with engine.connect() as conn:
                rows, next_cursor = await store.list_endpoints(
                    conn, merchant_id=merchant, cursor=cursor, limit=limit
                )
        except store.InvalidCursor as exc:
            raise _invalid(("query", "cursor"), str(exc)) from None
        return EndpointPage(items=[EndpointOut.of(r) for r in rows], next_cursor=next_cursor)

    @router.get(
        "/{endpoint_id}",
        response_model=EndpointOut,
        summary="Get a webhook endpoint",
        responses=problem_responses(401, 403, 404, 422),
    )
    async def get(endpoint_id: uuid.UUID, principal: ApiKey, engine: Engine) -> EndpointOut:
        async with engine.connect() as conn:
            return EndpointOut.of(await _owned(conn, principal, endpoint_id))

    @router.patch(
        "/{endpoint_id}",
        response_model=EndpointOut,
        summary="Change a webhook endpoint; enabling it sends its pending deliveries in order",
        responses=problem_responses(401, 403, 404, 422),
    )
    async def patch(
        endpoint_id: uuid.UUID,
        body: EndpointPatch,
        principal: ApiKey,
        engine: Engine,
        config: Settings,
    ) -> EndpointOut:
        check(body.url, body.event_types, config)
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        if "url" in changes:
            changes["url"] = changes["url"].strip()
        async with engine.begin() as conn:
            await _owned(conn, principal, endpoint_id)
            row = await store.update_endpoint(conn, endpoint_id, changes=changes)
        if row is None:
            raise NotFound("No such webhook endpoint.", endpoint_id=str(endpoint_id))
        return EndpointOut.of(row)

    @router.delete(
        "/{endpoint_id}",
        status_code=204,
        summary="Delete a webhook endpoint with its deliveries",
        responses=problem_responses(401, 403, 404, 422),
    )
    async def delete(endpoint_id: uuid.UUID, principal: ApiKey, engine: Engine) -> Response:
        async with engine.begin() as conn:
            await _owned(conn, principal, endpoint_id)
            await store.delete_endpoint(conn, endpoint_id)
        return Response(status_code=204)

    @router.post(
        "/{endpoint_id}/rotate-secret",
        response_model=SecretRotated,
        summary="Rotate the signing secret; the old one also signs during the grace period",
        responses=problem_responses(401, 403, 404, 422),
    )
    async def rotate(
        endpoint_id: uuid.UUID, principal: ApiKey, engine: Engine, config: Settings
    ) -> SecretRotated:
        secret = generate_secret()
        async with engine.begin() as conn:
            await _owned(conn, principal, endpoint_id)
            row = await store.rotate_secret(
                conn,
                endpoint_id,
                sealed_secret=SecretBox(config.secret_keys).seal(secret),
                grace=timedelta(seconds=config.secret_grace_s),
            )
        if row is None:
            raise NotFound("No such webhook endpoint.", endpoint_id=str(endpoint_id))
        return SecretRotated(
            id=row.id, secret=secret, previous_secret_expires_at=row.previous_secret_expires_at
        )

    @router.get(
        "/{endpoint_id}/deliveries",
        response_model=DeliveryPage,
        summary="List an endpoint's deliveries with their attempts, newest first",
        responses=problem_responses(401, 403, 404, 422),
    )
    async def deliveries(
        endpoint_id: uuid.UUID,
        principal: ApiKey,
        engine: Engine,
        status: Literal["pending", "delivered"] | None = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> DeliveryPage:
        try:
            async with engine.connect() as conn:
                await _owned(conn, principal, endpoint_id)
                rows, attempts, next_cursor = await store.list_deliveries(
                    conn, endpoint_id, status=status, cursor=cursor, limit=limit
                )
        except store.InvalidCursor as exc:
            raise _invalid(("query", "cursor"), str(exc)) from None
        items = [DeliveryOut.of(row, attempts[row.seq]) for row in rows]
        return DeliveryPage(items=items, next_cursor=next_cursor)

    @router.post(
        "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
        status_code=202,
        response_model=DeliveryOut,
        summary="Send a delivery again now (after the pending ones before it)",
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def redeliver(
        endpoint_id: uuid.UUID, delivery_id: uuid.UUID, principal: ApiKey, engine: Engine
    ) -> DeliveryOut:
        async with engine.begin() as conn:
            endpoint = await _owned(conn, principal, endpoint_id)
            delivery = await store.get_delivery(conn, endpoint_id, delivery_id)
            if delivery is None:
                raise NotFound("No such delivery.", delivery_id=str(delivery_id))
            if not endpoint.enabled:
                raise Conflict(
                    'The endpoint is disabled: enable it (PATCH with {"enabled": true}) to send '
                    "its pending deliveries."
                )
            row = await store.redeliver(conn, delivery)
            attempts = await store.attempts_of(conn, [row.seq])
        return DeliveryOut.of(row, attempts[row.seq])

    return router
