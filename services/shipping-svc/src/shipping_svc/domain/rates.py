"""Which services can take a parcel on a lane, and at what price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shipping_svc.domain.catalog import Catalog, LaneKey, Service


class RateRefused(Exception):
    """No rate can be given; subclasses say why."""


class LaneNotServed(RateRefused):
    """No service ships between the two countries."""

    def __init__(self, lane: LaneKey) -> None:
        super().__init__(f"No service ships from {lane.origin} to {lane.destination}.")
        self.lane = lane


class CurrencyNotOffered(RateRefused):
    """Prices are not published in the requested currency."""

    def __init__(self, currency: str, offered: tuple[str, ...]) -> None:
        super().__init__(f"Rates are not offered in {currency}; ask in one of {list(offered)}.")
        self.currency = currency
        self.offered = offered


class OverWeightLimit(RateRefused):
    """The parcel is heavier than every service on the lane takes."""

    def __init__(self, lane: LaneKey, weight_grams: int, max_weight_grams: int) -> None:
        super().__init__(
            f"A {weight_grams} g parcel is over the weight limit of every service from "
            f"{lane.origin} to {lane.destination} (the heaviest taken is {max_weight_grams} g)."
        )
        self.weight_grams = weight_grams
        self.max_weight_grams = max_weight_grams


@dataclass(frozen=True, slots=True)
class RateOption:
    """A service that takes the parcel, and its price."""

    service: Service
    price: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A service of the lane that cannot take this parcel, and why."""

    service: Service
    reason: str


def rate_options(
    catalog: Catalog, *, lane: LaneKey, weight_grams: int, currency: str, day: date
) -> tuple[list[RateOption], list[Unavailable]]:
    """Every service of the lane in force on `day`, priced, or the reason it cannot quote."""
    if catalog.lanes.get(lane) is None:
        raise LaneNotServed(lane)
    if currency not in catalog.currencies:
        raise CurrencyNotOffered(currency, catalog.currencies)
    services = catalog.services_on(lane, day)
    if not services:
        raise LaneNotServed(lane)
    options: list[RateOption] = []
    unavailable: list[Unavailable] = []
    for service in services:
        price = service.price_for(weight_grams, currency)
        if price is None:
            reason = f"over the weight limit of {service.max_weight_grams} g"
            unavailable.append(Unavailable(service, reason))
        else:
            options.append(RateOption(service, price, currency))
    if not options:
        heaviest = max(s.max_weight_grams for s in services)
        raise OverWeightLimit(lane, weight_grams, heaviest)
    return options, unavailable
