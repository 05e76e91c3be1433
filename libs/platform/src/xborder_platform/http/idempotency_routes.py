"""Idempotency keys in routes: the header, the `idempotent()` dependency and its middleware.

With `idempotent()`, a route's answer is recorded in transactions of the kit's own: the key is
claimed before the handler runs (and committed, so a concurrent duplicate gets 409), and the
answer the client receives, whatever produced it (the handler, an error handler, the generic
500), is stored before its last byte is sent. A request that fails validation never ran: its
key is given back. Errors raised by dependencies solved after this one count as answers.

A handler that writes its own state uses `idempotency_key` and `IdempotencyStore` instead, to
claim the key and store its answer in its own transaction:

    @router.post("/orders", status_code=201, responses=PROBLEM_RESPONSES)
    async def place_order(
        body: PlaceOrder, principal: StorefrontKey, key: IdemKey, store: IdemStore, uow: Uow
    ) -> Response:
        async with uow:
            replay = await store.begin(uow.conn, scope=principal.scope, key=key)
            if replay is not None:
                return replay.to_response()
            ...  # write the order on uow.conn; uow.emit(OrderPlaced(...))
            response = JSONResponse(view, status_code=201)
            await store.complete(
                uow.conn, scope=principal.scope, key=key,
                response=StoredResponse.of(response),
            )
            await uow.commit()
        return response
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the dependency built
# in `idempotent()`, and one of them names a local variable, which only works when evaluated.
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xborder_platform.http.auth import Principal, require_api_key
from xborder_platform.http.idempotency import (
    DEFAULT_TTL,
    HEADER,
    MAX_KEY_LENGTH,
    IdempotencyKey,
    IdempotencyStore,
    StoredResponse,
    request_hash,
)
from xborder_platform.http.problems import HTTPProblem, unexpected_problem

log = structlog.get_logger(__name__)

_SCOPE_KEY = "xborder.idempotency"
_HEADER_DOC = (
    "A unique value (a UUID, say) per operation: a retry with the same value and body gets the "
    f"first answer again instead of repeating the operation. At most {MAX_KEY_LENGTH} characters."
)


async def read_idempotency_key(request: Request, *, required: bool = True) -> IdempotencyKey | None:
    """The request's key and fingerprint; 400 when it is required and missing, or malformed."""
    value = request.headers.get(HEADER)
    if value is None:
        if not required:
            return None
        raise HTTPProblem(
            400,
            slug="idempotency-key-missing",
            title="Idempotency-Key header required",
            detail="This request creates something: send an Idempotency-Key header "
            "(a new unique value per operation) so that it can be retried safely.",
        )
    if not value.strip() or len(value) > MAX_KEY_LENGTH:
        raise HTTPProblem(
            400,
            slug="idempotency-key-invalid",
            title="Invalid Idempotency-Key header",
            detail=f"The Idempotency-Key must have 1 to {MAX_KEY_LENGTH} characters.",
        )
    return IdempotencyKey(
        key=value,
        method=request.method,
        path=request.url.path,
        request_hash=request_hash(await request.body()),
    )


async def idempotency_key(
    request: Request,
    _documented: Annotated[
        str | None, Header(alias=HEADER, description=f"Required. {_HEADER_DOC}")
    ] = None,
) -> IdempotencyKey:
    """Dependency: the request's (required) idempotency key, for handlers that use the store."""
    key = await read_idempotency_key(request, required=True)
    assert key is not None
    return key


def idempotency_store(request: Request) -> IdempotencyStore:
    """Dependency: the app's idempotency store (set up by `install_idempotency`)."""
    store = getattr(request.app.state, "idempotency_store", None)
    if not isinstance(store, IdempotencyStore):
        raise RuntimeError("install_idempotency(app) was not called")
    return store


class IdempotentReplay(Exception):
    """Raised by `idempotent()` to answer with a stored response."""

    def __init__(self, response: StoredResponse) -> None:
        super().__init__("replayed")
        self.response = response


@dataclass
class _Pending:
    """What the middleware needs to record the answer to a claimed key."""

    engine: AsyncEngine | None = None
    store: IdempotencyStore | None = None
    scope: str = ""
    key: IdempotencyKey | None = None
    handler_ran: bool = True
    finished: bool = False

    async def finish(self, response: StoredResponse) -> None:
        if self.finished or self.key is None or self.engine is None or self.store is None:
            return
        self.finished = True
        try:
            async with self.engine.begin() as conn:
                if self.handler_ran:
                    await self.store.complete(
                        conn, scope=self.scope, key=self.key, response=response
                    )
                else:
                    await self.store.release(conn, scope=self.scope, key=self.key)
        except Exception:
            log.exception("could not record the idempotent answer", key=self.key.key)


async def principal_scope(principal: Annotated[Principal, Depends(require_api_key())]) -> str:
    """Dependency: the authenticated caller's idempotency scope (its merchant, or its key)."""
    return principal.scope


def idempotent(
    scope: Callable[..., Awaitable[str]] = principal_scope, *, required: bool = True
) -> Callable[..., AsyncIterator[IdempotencyKey | None]]:
    """A dependency making a route idempotent per key within `scope` (a dependency for a str)."""

    async def dependency(
        request: Request,
        scope_name: Annotated[str, Depends(scope)],
        _documented: Annotated[
            str | None,
            Header(alias=HEADER, description=("Required. " if required else "") + _HEADER_DOC),
        ] = None,
    ) -> AsyncIterator[IdempotencyKey | None]:
        key = await read_idempotency_key(request, required=required)
        if key is None:
            yield None
            return
        pending = request.scope.get(_SCOPE_KEY)
        if not isinstance(pending, _Pending):
            raise RuntimeError("install_idempotency(app) was not called")
        store = idempotency_store(request)
        engine: AsyncEngine = request.app.state.engine
        async with engine.begin() as conn:
            replay = await store.begin(conn, scope=scope_name, key=key)
        if replay is not None:
            raise IdempotentReplay(replay)
        pending.engine, pending.store, pending.scope, pending.key = engine, store, scope_name, key
        try:
            yield key
        except RequestValidationError:
            pending.handler_ran = False
            raise

    return dependency


class IdempotencyMiddleware:
    """Record the answer to a request whose key `idempotent()` claimed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending = _Pending()
        scope[_SCOPE_KEY] = pending
        status = 500
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []

        async def record(message: Message) -> None:
            nonlocal status
            if pending.key is not None and not pending.finished:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    headers.extend(
                        (k.decode("latin-1"), v.decode("latin-1"))
                        for k, v in message.get("headers", [])
                    )
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        # Stored before the last byte leaves: a retry never finds it unrecorded.
                        await pending.finish(
                            StoredResponse(status, tuple(headers), b"".join(chunks))
                        )
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            if pending.key is not None and not pending.finished:
                # The answer broke off after it started; what the caller saw is a failure.
                await pending.finish(StoredResponse.of(unexpected_problem(scope)))


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    return exc.response.to_response()


def install_idempotency(app: FastAPI, *, ttl: timedelta = DEFAULT_TTL) -> IdempotencyStore:
    """Set up idempotency keys on `app`: the store, the recording middleware, the replay."""
    store = IdempotencyStore(ttl=ttl)
    app.state.idempotency_store = store
    app.add_exception_handler(IdempotentReplay, _replay)
    app.add_middleware(IdempotencyMiddleware)
    return store
