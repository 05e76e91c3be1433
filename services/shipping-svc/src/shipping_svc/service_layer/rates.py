"""Rates: every service of a lane with its price, ETA window and a quote id to book it with."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.tracking_repo import insert_quotes, stats_for
from shipping_svc.domain import rates as domain
from shipping_svc.domain.catalog import LaneKey, Service
from shipping_svc.domain.eta import Estimate, Observed, Window, estimate, window
from shipping_svc.service_layer import errors
from shipping_svc.service_layer.context import ShippingContext


@dataclass(frozen=True, slots=True)
class QuotedRate:
    """One service's offer."""

    quote_id: uuid.UUID
    service: Service
    price: Decimal
    currency: str
    estimate: Estimate
    window: Window
    default: bool


@dataclass(frozen=True, slots=True)
class Rates:
    """The answer to a rates request."""

    lane: LaneKey
    weight_grams: int
    quoted_at: datetime
    expires_at: datetime
    rates: list[QuotedRate]
    unavailable: list[domain.Unavailable]


async def quote_rates(
    ctx: ShippingContext,
    conn: AsyncConnection,
    *,
    lane: LaneKey,
    weight_grams: int,
    value: Decimal,
    currency: str,
    merchant_id: str | None,
) -> Rates:
    """Price every service of the lane and store one quote per service."""
    now = ctx.clock.now()
    today = now.date()
    try:
        options, unavailable = domain.rate_options(
            ctx.catalog, lane=lane, weight_grams=weight_grams, currency=currency, day=today
        )
    except domain.LaneNotServed as exc:
        raise errors.LaneNotServed(
            str(exc), origin=lane.origin, destination=lane.destination
        ) from None
    except domain.CurrencyNotOffered as exc:
        raise errors.CurrencyNotOffered(str(exc), offered=list(exc.offered)) from None
    except domain.OverWeightLimit as exc:
        raise errors.OverWeightLimit(str(exc), max_weight_grams=exc.max_weight_grams) from None
    observed = await stats_for(conn, [o.service.key for o in options])
    expires_at = now + ctx.policy.quote_ttl
    tracked_only = ctx.catalog.lanes[lane].requires_delivery_tracking
    rates = [
        _rate(ctx, option, observed.get(option.service.key), today, first=i == 0)
        for i, option in enumerate(options)
    ]
    if rates and tracked_only and rates[0].service.tracking != "full":
        # A lane that needs delivery tracking never defaults to a service without it.
        rates[0] = dataclasses.replace(rates[0], default=False)
    await insert_quotes(
        conn,
        [
            {
                "id": r.quote_id,
                "merchant_id": merchant_id,
                "service_key": r.service.key,
                "effective_from": r.service.effective_from,
                "origin": lane.origin,
                "destination": lane.destination,
                "weight_grams": weight_grams,
                "declared_value": value,
                "price": r.price,
                "currency": r.currency,
                "transit_p50_days": r.estimate.p50_days,
                "transit_p90_days": r.estimate.p90_days,
                "eta_basis": r.estimate.basis.value,
                "created_at": now,
                "expires_at": expires_at,
            }
            for r in rates
        ],
    )
    return Rates(lane, weight_grams, now, expires_at, rates, unavailable)


def _rate(
    ctx: ShippingContext,
    option: domain.RateOption,
    observed: Observed | None,
    today: date,
    *,
    first: bool,
) -> QuotedRate:
    est = estimate(option.service.transit, observed, min_samples=ctx.policy.stats_min_samples)
    return QuotedRate(
        quote_id=uuid.uuid4(),
        service=option.service,
        price=option.price,
        currency=option.currency,
        estimate=est,
        window=window(today, est),
        # The lane's default comes first (catalog order); a lane that names none gets the
        # best-tracked, cheapest service.
        default=first,
    )
