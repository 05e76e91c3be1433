"""Plans of simulated parcel journeys: which scans, with which raw codes, how many days in.

Transit times are drawn from a shifted log-normal fitted to the lane service's (min, p50, p90):
`min + LogNormal` whose median is p50 - min and whose 90th percentile is p90 - min. Its long
right tail gives the swings of weeks the Brazil and Russia lanes are known for; draws are capped
at min + 3 x (p90 - min) so no parcel travels for ever.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from shipping_svc.domain.catalog import Carrier, Service, TransitTime
from shipping_svc.domain.tracking import ScanStatus

_Z90 = 1.2815515655446004
#: The code a sandbox parcel is scanned with when it gets a code outside the vocabulary.
UNKNOWN_CODE = "SBX-UNMAPPED-99"


@dataclass(frozen=True, slots=True)
class PlannedScan:
    """One scan, `offset_days` after the leg starts."""

    offset_days: float
    raw_code: str
    country: str


def draw_transit_days(rng: random.Random, transit: TransitTime) -> float:
    """A transit time in days from the distribution of `transit`."""
    spread_50 = transit.p50_days - transit.min_days
    spread_90 = transit.p90_days - transit.min_days
    if spread_90 <= 0:
        return transit.min_days
    median = max(spread_50, spread_90 / 20)
    sigma = max(math.log(spread_90 / median) / _Z90, 0.01)
    drawn = rng.lognormvariate(math.log(median), sigma)
    return transit.min_days + min(drawn, 3 * spread_90)


def _code(carrier: Carrier, status: ScanStatus, index: int = 0) -> str:
    codes = carrier.codes_for(status)
    return codes[min(index, len(codes) - 1)]


def plan_forward(
    rng: random.Random,
    carrier: Carrier,
    service: Service,
    *,
    failure_rate: float,
    unknown_rate: float,
) -> list[PlannedScan]:
    """The scans from hand-over to delivery (with a failed first attempt, sometimes)."""
    days = draw_transit_days(rng, service.sandbox_transit)
    origin, destination = service.lane.origin, service.lane.destination
    scans = [
        PlannedScan(0.1 * days, _code(carrier, ScanStatus.IN_TRANSIT, 0), origin),
        PlannedScan(0.35 * days, _code(carrier, ScanStatus.IN_TRANSIT, 1), origin),
        PlannedScan(0.7 * days, _code(carrier, ScanStatus.ARRIVED_AT_DESTINATION), destination),
    ]
    if rng.random() < unknown_rate:
        scans.append(PlannedScan(0.5 * days, UNKNOWN_CODE, origin))
    failed = rng.random() < failure_rate
    out_for_delivery = _code(carrier, ScanStatus.OUT_FOR_DELIVERY)
    if failed:
        first = max(days - 1.0, 0.8 * days)
        scans += [
            PlannedScan(first - 0.2, out_for_delivery, destination),
            PlannedScan(first, _code(carrier, ScanStatus.DELIVERY_FAILED), destination),
        ]
    scans += [
        PlannedScan(days - 0.2, out_for_delivery, destination),
        PlannedScan(days, _code(carrier, ScanStatus.DELIVERED), destination),
    ]
    return sorted(scans, key=lambda s: s.offset_days)


def plan_return(
    rng: random.Random,
    carrier: Carrier,
    service: Service,
    *,
    checkpoint: Literal["export", "import"],
) -> list[PlannedScan]:
    """The scans of a return to the sender: short from export, a trip back from import."""
    origin = service.lane.origin
    if checkpoint == "export":
        days, first_scan_at = rng.uniform(1.0, 3.0), origin
    else:
        days, first_scan_at = (
            draw_transit_days(rng, service.sandbox_transit),
            service.lane.destination,
        )
    return [
        PlannedScan(0.3 * days, _code(carrier, ScanStatus.IN_TRANSIT), first_scan_at),
        PlannedScan(days, _code(carrier, ScanStatus.RETURNED_TO_SENDER), origin),
    ]
