"""Lanes, carriers and their services, as loaded from the lane data file.

A service is one carrier product on one lane (e.g. CN to US, IBexpress "US Priority Line"). It
has a version per effective period: prices, capacity and the transit-time prior may change on a
date without changing the service's identity (its key), under which statistics accumulate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from shipping_svc.domain.tracking import ScanStatus


class TrackingQuality(StrEnum):
    """How far a buyer can follow the parcel: to the door (full), part of the way, or not."""

    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class ServiceLevel(StrEnum):
    """The carrier's tier for the service."""

    ECONOMY = "economy"
    STANDARD = "standard"
    EXPRESS = "express"


_TRACKING_ORDER = {TrackingQuality.FULL: 0, TrackingQuality.PARTIAL: 1, TrackingQuality.NONE: 2}


@dataclass(frozen=True, slots=True)
class LaneKey:
    """Origin and destination countries (ISO 3166-1 alpha-2)."""

    origin: str
    destination: str

    def __str__(self) -> str:
        return f"{self.origin}-{self.destination}"


@dataclass(frozen=True, slots=True)
class TransitTime:
    """Days from dispatch to delivery: the fastest, the median and the 90th percentile."""

    min_days: float
    p50_days: float
    p90_days: float


@dataclass(frozen=True, slots=True)
class Carrier:
    """A carrier and its own tracking vocabulary (raw code to normalised status)."""

    code: str
    name: str
    tracking_prefix: str
    codes: Mapping[str, ScanStatus]
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def normalise(self, raw_code: str) -> ScanStatus | None:
        """The normalised status of a raw code; None when the code is not in the vocabulary."""
        return self.codes.get(raw_code.strip().upper())

    def describe(self, raw_code: str) -> str | None:
        """The carrier's own words for a raw code, if the vocabulary has them."""
        return self.descriptions.get(raw_code.strip().upper())

    def codes_for(self, status: ScanStatus) -> tuple[str, ...]:
        """The raw codes that mean `status`, in the data file's order."""
        return tuple(code for code, meaning in self.codes.items() if meaning is status)


@dataclass(frozen=True, slots=True)
class Lane:
    """A route the service ships on."""

    key: LaneKey
    requires_delivery_tracking: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class Service:
    """One version of a carrier service on a lane."""

    key: str
    lane: LaneKey
    carrier: str
    code: str
    name: str
    level: ServiceLevel
    tracking: TrackingQuality
    default: bool
    effective_from: date
    effective_to: date | None
    daily_capacity: int
    band_limits_grams: tuple[int, ...]
    prices: Mapping[str, tuple[Decimal, ...]]
    transit: TransitTime
    #: How the sandbox network moves parcels (the prior unless the data file says otherwise).
    sandbox_transit: TransitTime

    @property
    def max_weight_grams(self) -> int:
        """The heaviest parcel the service takes."""
        return self.band_limits_grams[-1]

    def active_on(self, day: date) -> bool:
        """Whether this version is in force on `day` (effective_to is exclusive)."""
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    def price_for(self, weight_grams: int, currency: str) -> Decimal | None:
        """The price of a parcel in `currency`; None if it is too heavy or not priced so."""
        table = self.prices.get(currency)
        if table is None:
            return None
        for limit, price in zip(self.band_limits_grams, table, strict=True):
            if weight_grams <= limit:
                return price
        return None


def service_key(lane: LaneKey, carrier: str, code: str) -> str:
    """The identity of a service across its versions, e.g. "CN-US/ibexpress/us-priority"."""
    return f"{lane}/{carrier}/{code}"


@dataclass(frozen=True)
class Catalog:
    """Every lane, carrier and service version, with the look-ups quoting and booking need."""

    currencies: tuple[str, ...]
    carriers: Mapping[str, Carrier]
    lanes: Mapping[LaneKey, Lane]
    services: Sequence[Service]
    _by_lane: dict[LaneKey, list[Service]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for service in self.services:
            self._by_lane.setdefault(service.lane, []).append(service)

    def lane(self, origin: str, destination: str) -> Lane | None:
        """The lane between two countries, if it is served at all."""
        return self.lanes.get(LaneKey(origin, destination))

    def services_on(self, lane: LaneKey, day: date) -> list[Service]:
        """The services in force on `day`, the lane's default first, then best tracking, price."""
        active = [s for s in self._by_lane.get(lane, []) if s.active_on(day)]
        return sorted(active, key=self._rank)

    def default_service(self, lane: LaneKey, day: date) -> Service | None:
        """The service a booking without a usable quote gets."""
        services = self.services_on(lane, day)
        return services[0] if services else None

    def version(self, key: str, day: date) -> Service | None:
        """The version of service `key` in force on `day`, else its latest version."""
        versions = [s for s in self.services if s.key == key]
        for service in versions:
            if service.active_on(day):
                return service
        return max(versions, key=lambda s: s.effective_from, default=None)

    def _rank(self, service: Service) -> tuple[int, int, Decimal]:
        first_currency = self.currencies[0]
        cheapest = service.prices[first_currency][0]
        return (0 if service.default else 1, _TRACKING_ORDER[service.tracking], cheapest)
