"""ETA windows: transit-time estimates from the prior or from delivered parcels, as dates.

An estimate is in whole days: p50 rounded half up, p90 rounded up (never below p50). Once a lane
service has `min_samples` deliveries in its recent window, the estimate comes from them
("observed"); until then from the data file's prior ("prior").
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from shipping_svc.domain.catalog import TransitTime


class Basis(StrEnum):
    """Where an estimate comes from."""

    PRIOR = "prior"
    OBSERVED = "observed"


@dataclass(frozen=True, slots=True)
class Observed:
    """Transit-time statistics of a lane service over its recent deliveries."""

    sample_size: int
    p50_days: float
    p90_days: float


@dataclass(frozen=True, slots=True)
class Estimate:
    """Days from dispatch to delivery: half of parcels by p50, nine in ten by p90."""

    p50_days: int
    p90_days: int
    basis: Basis
    sample_size: int = 0


@dataclass(frozen=True, slots=True)
class Window:
    """Delivery dates: p50 and p90."""

    p50: date
    p90: date


def whole_days(p50: float, p90: float) -> tuple[int, int]:
    """p50 rounded half up and p90 rounded up, at least one day, p90 never below p50."""
    low = max(1, math.floor(p50 + 0.5))
    return low, max(low, math.ceil(p90 - 1e-9))


def estimate(prior: TransitTime, observed: Observed | None, *, min_samples: int) -> Estimate:
    """The estimate for a lane service: observed once it has enough deliveries, else the prior."""
    if observed is not None and observed.sample_size >= min_samples:
        p50, p90 = whole_days(observed.p50_days, observed.p90_days)
        return Estimate(p50, p90, Basis.OBSERVED, observed.sample_size)
    p50, p90 = whole_days(prior.p50_days, prior.p90_days)
    return Estimate(p50, p90, Basis.PRIOR, observed.sample_size if observed else 0)


def quantiles(days: Sequence[float]) -> Observed:
    """p50 and p90 of transit times (linear interpolation between order statistics)."""
    if not days:
        raise ValueError("no transit times")
    if len(days) == 1:
        return Observed(1, days[0], days[0])
    cuts = statistics.quantiles(days, n=10, method="inclusive")
    return Observed(len(days), cuts[4], cuts[8])


def window(ship_date: date, est: Estimate, *, widen_days: int = 0, delay_days: int = 0) -> Window:
    """The dates of an estimate for a parcel leaving on `ship_date`.

    `widen_days` (a capacity backlog) pushes p90 only: the parcel waits, and how long it then
    takes is less sure. `delay_days` (a customs hold) moves both.
    """
    p50 = ship_date + timedelta(days=est.p50_days + delay_days)
    p90 = ship_date + timedelta(days=est.p90_days + widen_days + delay_days)
    return Window(p50, p90)


def moved_materially(old: Window, new: Window, *, threshold_days: int) -> bool:
    """Whether a window moved by at least `threshold_days` at either end."""
    return (
        abs((new.p50 - old.p50).days) >= threshold_days
        or abs((new.p90 - old.p90).days) >= threshold_days
    )
