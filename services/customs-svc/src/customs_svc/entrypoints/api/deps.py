"""The routes' dependencies, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from customs_svc.service_layer.context import CustomsContext
from xborder_platform.http import (
    IdempotencyKey,
    IdempotencyStore,
    Principal,
    idempotency_key,
    idempotency_store,
    require_api_key,
)
from xborder_platform.uow import UnitOfWork, get_unit_of_work


def get_context(request: Request) -> CustomsContext:
    """The service's context, set up at start-up."""
    ctx: CustomsContext = request.app.state.customs
    return ctx


Ctx = Annotated[CustomsContext, Depends(get_context)]
Caller = Annotated[Principal, Depends(require_api_key("storefront", "operator"))]
Uow = Annotated[UnitOfWork, Depends(get_unit_of_work)]
IdemKey = Annotated[IdempotencyKey, Depends(idempotency_key)]
IdemStore = Annotated[IdempotencyStore, Depends(idempotency_store)]


def merchant_of(principal: Principal) -> str | None:
    """The merchant a storefront key is limited to; None for an operator (sees all)."""
    return principal.merchant_id if principal.role == "storefront" else None
