"""The payment API's dependencies, as Annotated aliases for route signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.service_layer.context import Services
from xborder_platform.http.auth import Principal, require_api_key
from xborder_platform.http.idempotency import IdempotencyKey, IdempotencyStore
from xborder_platform.http.idempotency_routes import idempotency_key, idempotency_store
from xborder_platform.uow import UnitOfWork, get_unit_of_work


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for the read-only endpoints."""
    async with request.app.state.engine.connect() as conn:
        yield conn


def services(request: Request) -> Services:
    """The use cases' collaborators, built by the composition root."""
    found: Services = request.app.state.payment_services
    return found


#: A storefront key (its own merchant's payments) or an operator key (every merchant's).
ApiKey = Annotated[Principal, Depends(require_api_key("storefront", "operator"))]
OperatorKey = Annotated[Principal, Depends(require_api_key("operator"))]
Uow = Annotated[UnitOfWork, Depends(get_unit_of_work)]
IdemKey = Annotated[IdempotencyKey, Depends(idempotency_key)]
IdemStore = Annotated[IdempotencyStore, Depends(idempotency_store)]
ReadConn = Annotated[AsyncConnection, Depends(read_connection)]
Svc = Annotated[Services, Depends(services)]


def merchant_scope(principal: Principal) -> str | None:
    """The merchant a key may see (None: every merchant, for operators)."""
    return principal.merchant_id if principal.role == "storefront" else None
