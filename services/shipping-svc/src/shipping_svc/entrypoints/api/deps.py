"""Dependencies of the routes, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shipping_svc.service_layer.context import ShippingContext
from xborder_platform.http import Principal, require_api_key
from xborder_platform.uow import UnitOfWork, get_unit_of_work


def shipping_context(request: Request) -> ShippingContext:
    """The service's use-case context (built by the composition root)."""
    ctx = request.app.state.shipping
    assert isinstance(ctx, ShippingContext)
    return ctx


Ctx = Annotated[ShippingContext, Depends(shipping_context)]
Uow = Annotated[UnitOfWork, Depends(get_unit_of_work)]
#: A storefront or operator key.
Caller = Annotated[Principal, Depends(require_api_key("storefront", "operator"))]


def merchant_scope(principal: Principal) -> str | None:
    """The merchant a storefront key is limited to; None for an operator (sees all)."""
    return principal.merchant_id if principal.role == "storefront" else None
