"""The lane data file (TOML): its schema, its checks, and the catalog it becomes.

Validated in full at start-up; any problem stops the service with a message naming the file and
every offending entry, rather than surfacing as a wrong quote later.
"""

from __future__ import annotations

import itertools
import tomllib
from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shipping_svc.domain.catalog import (
    Carrier,
    Catalog,
    Lane,
    LaneKey,
    Service,
    ServiceLevel,
    TrackingQuality,
    TransitTime,
    service_key,
)
from shipping_svc.domain.money import quantize
from shipping_svc.domain.tracking import ScanStatus
from xborder_events.currencies import MINOR_UNITS

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]


class LaneDataError(ValueError):
    """The lane data file cannot be used; the message says where and why."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransitModel(_Model):
    """Days from dispatch to delivery."""

    min: float = Field(ge=0)
    p50: float = Field(gt=0)
    p90: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.min <= self.p50 <= self.p90:
            raise ValueError("transit must satisfy min <= p50 <= p90")
        return self

    def to_domain(self) -> TransitTime:
        """The domain value."""
        return TransitTime(self.min, self.p50, self.p90)


class CarrierModel(_Model):
    """A carrier and its tracking vocabulary."""

    code: Slug
    name: str = Field(min_length=1, max_length=128)
    tracking_prefix: str = Field(pattern=r"^[A-Z0-9]{2}$")
    codes: dict[str, tuple[ScanStatus, str]]

    @model_validator(mode="after")
    def _vocabulary(self) -> Self:
        bad = [raw for raw in self.codes if raw != raw.strip().upper() or not raw]
        if bad:
            raise ValueError(f"raw codes must be upper case without spaces around: {bad}")
        missing = set(ScanStatus) - {meaning for meaning, _ in self.codes.values()}
        if missing:
            raise ValueError(f"no raw code for {sorted(m.value for m in missing)}")
        return self


class LaneModel(_Model):
    """A lane served."""

    origin: Country
    destination: Country
    requires_delivery_tracking: bool = False
    note: str = ""


class ServiceModel(_Model):
    """One version of a carrier service on a lane."""

    lane: str = Field(pattern=r"^[A-Z]{2}-[A-Z]{2}$")
    carrier: Slug
    code: Slug
    name: str = Field(min_length=1, max_length=128)
    level: ServiceLevel
    tracking: TrackingQuality
    default: bool = False
    effective_from: date
    effective_to: date | None = None
    daily_capacity: int = Field(gt=0)
    weight_bands_grams: list[int] = Field(min_length=1)
    transit: TransitModel
    sandbox_transit: TransitModel | None = None
    prices: dict[str, list[str]]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        bands = self.weight_bands_grams
        if bands[0] <= 0 or any(b >= a for b, a in itertools.pairwise(bands)):
            raise ValueError("weight_bands_grams must be positive and strictly increasing")
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be later than effective_from")
        for currency, amounts in self.prices.items():
            if len(amounts) != len(bands):
                raise ValueError(f"prices.{currency} needs one price per weight band")
            for amount in amounts:
                _price(amount, currency)
        return self

    @property
    def lane_key(self) -> LaneKey:
        """The lane as a key."""
        origin, destination = self.lane.split("-")
        return LaneKey(origin, destination)

    def to_domain(self) -> Service:
        """The domain value."""
        lane = self.lane_key
        transit = self.transit.to_domain()
        return Service(
            key=service_key(lane, self.carrier, self.code),
            lane=lane,
            carrier=self.carrier,
            code=self.code,
            name=self.name,
            level=self.level,
            tracking=self.tracking,
            default=self.default,
            effective_from=self.effective_from,
            effective_to=self.effective_to,
            daily_capacity=self.daily_capacity,
            band_limits_grams=tuple(self.weight_bands_grams),
            prices={c: tuple(_price(a, c) for a in amounts) for c, amounts in self.prices.items()},
            transit=transit,
            sandbox_transit=self.sandbox_transit.to_domain() if self.sandbox_transit else transit,
        )


def _price(amount: str, currency: str) -> Decimal:
    if currency not in MINOR_UNITS:
        raise ValueError(f"{currency} is not an ISO 4217 currency")
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not a decimal") from None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or value <= 0:
        raise ValueError(f"price {amount!r} must be greater than zero")
    if isinstance(exponent, int) and -exponent > MINOR_UNITS[currency]:
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return quantize(value, currency)


class LaneFile(_Model):
    """The whole file."""

    schema_version: Literal[1]
    currencies: list[str] = Field(min_length=1)
    carriers: list[CarrierModel] = Field(min_length=1)
    lanes: list[LaneModel] = Field(min_length=1)
    services: list[ServiceModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems = [
            *_duplicates("carrier", [c.code for c in self.carriers]),
            *_duplicates("lane", [f"{x.origin}-{x.destination}" for x in self.lanes]),
            *(f"unknown currency {c}" for c in self.currencies if c not in MINOR_UNITS),
        ]
        carriers = {c.code for c in self.carriers}
        lanes = {f"{x.origin}-{x.destination}": x for x in self.lanes}
        for s in self.services:
            where = f"service {s.lane}/{s.carrier}/{s.code} from {s.effective_from}"
            if s.carrier not in carriers:
                problems.append(f"{where}: unknown carrier {s.carrier!r}")
            if s.lane not in lanes:
                problems.append(f"{where}: lane {s.lane} is not in [[lanes]]")
            elif s.default and lanes[s.lane].requires_delivery_tracking and s.tracking != "full":
                problems.append(
                    f"{where}: lane {s.lane} requires delivery tracking; its default service "
                    "must have tracking = full"
                )
            if set(s.prices) != set(self.currencies):
                problems.append(f"{where}: prices must be given in exactly {self.currencies}")
        problems += _overlaps(self.services)
        problems += _lane_defaults(self.services, lanes)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_catalog(self) -> Catalog:
        """The catalog the service quotes and books from."""
        return Catalog(
            currencies=tuple(self.currencies),
            carriers={
                c.code: Carrier(
                    code=c.code,
                    name=c.name,
                    tracking_prefix=c.tracking_prefix,
                    codes={raw: meaning for raw, (meaning, _) in c.codes.items()},
                    descriptions={raw: words for raw, (_, words) in c.codes.items()},
                )
                for c in self.carriers
            },
            lanes={
                LaneKey(x.origin, x.destination): Lane(
                    LaneKey(x.origin, x.destination), x.requires_delivery_tracking, x.note
                )
                for x in self.lanes
            },
            services=[s.to_domain() for s in self.services],
        )


def _duplicates(what: str, names: list[str]) -> list[str]:
    seen: set[str] = set()
    dupes = {n for n in names if n in seen or seen.add(n)}  # type: ignore[func-returns-value]
    return [f"duplicate {what} {n}" for n in sorted(dupes)]


def _overlaps(services: list[ServiceModel]) -> list[str]:
    by_key: dict[str, list[ServiceModel]] = defaultdict(list)
    for s in services:
        by_key[f"{s.lane}/{s.carrier}/{s.code}"].append(s)
    problems = []
    for key, versions in by_key.items():
        ordered = sorted(versions, key=lambda v: v.effective_from)
        for before, after in itertools.pairwise(ordered):
            if before.effective_to is None or before.effective_to > after.effective_from:
                problems.append(f"service {key}: versions overlap at {after.effective_from}")
    return problems


def _lane_defaults(services: list[ServiceModel], lanes: dict[str, LaneModel]) -> list[str]:
    problems = []
    for name in lanes:
        mine = [s for s in services if s.lane == name]
        if not mine:
            problems.append(f"lane {name} has no service")
            continue
        days = {s.effective_from for s in mine}
        for day in days:
            active = [
                s
                for s in mine
                if s.effective_from <= day and (s.effective_to is None or day < s.effective_to)
            ]
            if sum(s.default for s in active) > 1:
                problems.append(f"lane {name} has more than one default service on {day}")
    return problems


def default_lane_file() -> Path:
    """The lane data shipped with the service."""
    return Path(str(resources.files("shipping_svc") / "data" / "lanes.toml"))


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate a lane data file (the packaged one by default)."""
    path = path or default_lane_file()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LaneDataError(f"cannot read lane data {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LaneDataError(f"lane data {path} is not valid TOML: {exc}") from None
    try:
        return LaneFile.model_validate(raw).to_catalog()
    except ValidationError as exc:
        details = "\n".join(
            f"  {'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise LaneDataError(f"lane data {path} is invalid:\n{details}") from None
