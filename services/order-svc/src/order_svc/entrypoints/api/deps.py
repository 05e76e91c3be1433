"""The order API's dependencies, as Annotated aliases for route signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from order_svc.service_layer.ports import TransitionMetrics
from xborder_platform.http.auth import Principal, require_api_key
from xborder_platform.http.idempotency import IdempotencyKey, IdempotencyStore
from xborder_platform.http.idempotency_routes import idempotency_key, idempotency_store
from xborder_platform.uow import UnitOfWork, get_unit_of_work


async def read_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for the read-only endpoints."""
    async with request.app.state.engine.connect() as conn:
        yield conn


def transition_metrics(request: Request) -> TransitionMetrics:
    """The app's state-machine counters."""
    metrics: TransitionMetrics = request.app.state.order_metrics
    return metrics


#: A storefront key (its own merchant's orders) or an operator key (every merchant's).
ApiKey = Annotated[Principal, Depends(require_api_key("storefront", "operator"))]
Uow = Annotated[UnitOfWork, Depends(get_unit_of_work)]
IdemKey = Annotated[IdempotencyKey, Depends(idempotency_key)]
IdemStore = Annotated[IdempotencyStore, Depends(idempotency_store)]
ReadConn = Annotated[AsyncConnection, Depends(read_connection)]
Metrics = Annotated[TransitionMetrics, Depends(transition_metrics)]
