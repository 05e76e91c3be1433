"""Exchange rates for conversions: the latest quoted at or before the instant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.fx_repo import FxRepository
from payment_svc.domain import fx
from payment_svc.domain.fx import FxQuote
from payment_svc.service_layer.context import Services


def rates(conn: AsyncConnection, svc: Services) -> FxRepository:
    """The rates known to the service: the seed file's and the operators'."""
    return FxRepository(conn, seed=svc.seed_rates)


async def quote_for(
    conn: AsyncConnection, svc: Services, *, source: str, target: str, at: datetime
) -> FxQuote:
    """The snapshot to convert `source` into `target` at `at`; raises `fx.NoRate`."""
    if source == target:
        return fx.identity(source, at=at)
    store = svc.stores.rates(conn, seed=svc.seed_rates)
    known = await store.rates_between({source, target, svc.pivot_currency}, at=at)
    return fx.quote(known, source=source, target=target, at=at, pivot=svc.pivot_currency)
