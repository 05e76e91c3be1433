"""Which service a confirmed order is booked on, and at what price.

The order was paid before it reaches shipping, so a quote that cannot be honoured never stops
the booking: the parcel ships on the quoted service if it still can, otherwise on the lane's
default, at the current price, and the shipment records why (`quote_status` other than
"honoured" sets the quote_mismatch flag). Only a lane no service can carry the parcel on ends
in a rejected booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from shipping_svc.domain.catalog import Catalog, LaneKey, Service


class QuoteStatus(StrEnum):
    """How the booking relates to the quote the order named."""

    HONOURED = "honoured"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class QuoteRef:
    """What a stored quote promised."""

    service_key: str
    lane: LaneKey
    weight_grams: int
    price: Decimal
    currency: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Choice:
    """The service to book, its price and how that relates to the quote."""

    service: Service
    price: Decimal | None
    currency: str
    quote_status: QuoteStatus


def choose_service(
    catalog: Catalog,
    *,
    lane: LaneKey,
    weight_grams: int,
    quote: QuoteRef | None,
    placed_at: datetime,
    day: date,
    currency: str,
) -> Choice | None:
    """The booking for an order; None when no service on the lane can carry the parcel."""
    if quote is None:
        return _fallback(catalog, lane, weight_grams, day, currency, QuoteStatus.UNKNOWN)
    if quote.lane != lane:
        return _fallback(catalog, lane, weight_grams, day, currency, QuoteStatus.MISMATCH)
    service = catalog.version(quote.service_key, day)
    if service is None or weight_grams > service.max_weight_grams:
        return _fallback(catalog, lane, weight_grams, day, currency, QuoteStatus.MISMATCH)
    if quote.expires_at < placed_at:
        return _priced(service, weight_grams, quote.currency, QuoteStatus.EXPIRED)
    if weight_grams > quote.weight_grams:
        return _priced(service, weight_grams, quote.currency, QuoteStatus.MISMATCH)
    return Choice(service, quote.price, quote.currency, QuoteStatus.HONOURED)


def _priced(service: Service, weight: int, currency: str, status: QuoteStatus) -> Choice:
    return Choice(service, service.price_for(weight, currency), currency, status)


def _fallback(
    catalog: Catalog,
    lane: LaneKey,
    weight: int,
    day: date,
    currency: str,
    status: QuoteStatus,
) -> Choice | None:
    currency = currency if currency in catalog.currencies else catalog.currencies[0]
    for service in catalog.services_on(lane, day):
        if weight <= service.max_weight_grams:
            return _priced(service, weight, currency, status)
    return None


def backlog_widening(ship_date: date, today: date, *, per_day: int) -> int:
    """Extra p90 days for a parcel that waits `ship_date - today` days for capacity."""
    return max(0, (ship_date - today).days) * per_day


def deferral_days(days: int) -> list[timedelta]:
    """The offsets from today to try, in order, when looking for capacity."""
    return [timedelta(days=k) for k in range(days + 1)]
