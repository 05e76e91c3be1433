"""The service's data files (merchants, fees, seed FX rates): read, validated, fail fast.

Each file is TOML, packaged with the service under `payment_svc/data/`; settings may point to
another file. A file that does not validate stops the service at start-up with a message that
names the file and the entry.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from payment_svc.domain.fees import FeeRule, FeeSchedule
from payment_svc.domain.fx import Rate
from payment_svc.domain.merchants import MerchantDirectory, SettlementTerms
from xborder_events.base import (
    CurrencyCode,
    DecimalString,
    PaymentMethod,
    PositiveDecimalString,
    UtcDatetime,
)


class DataFileError(ValueError):
    """A data file that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Merchant(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=128)]
    settlement_currency: CurrencyCode
    effective_from: date


class _MerchantsFile(_Strict):
    merchants: list[_Merchant] = Field(default_factory=list)


class _Fee(_Strict):
    method: PaymentMethod
    effective_from: date
    percent: Annotated[DecimalString, Field(le=100)]
    cross_border_percent: Annotated[DecimalString, Field(le=100)] = Decimal(0)
    fixed: dict[CurrencyCode, DecimalString] = Field(default_factory=dict)


class _FeesFile(_Strict):
    fees: list[_Fee] = Field(min_length=1)


class _RateSet(_Strict):
    base: CurrencyCode
    as_of: UtcDatetime
    source: Annotated[str, Field(min_length=1, max_length=64)]
    rates: dict[CurrencyCode, PositiveDecimalString] = Field(min_length=1)


class _RatesFile(_Strict):
    sets: list[_RateSet] = Field(default_factory=list)


def _read(path: Path | None, packaged: str) -> tuple[str, dict[str, Any]]:
    try:
        if path is None:
            name = f"payment_svc/data/{packaged}"
            text = (resources.files("payment_svc") / "data" / packaged).read_text("utf-8")
        else:
            name = str(path)
            text = path.read_text("utf-8")
        return name, tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataFileError(f"{path or packaged}: cannot be read: {exc}") from None


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], name: str, data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DataFileError(f"{name}: {where}: {first['msg']}") from None


def load_merchants(path: Path | None, *, default_currency: str) -> MerchantDirectory:
    """The merchants' settlement terms."""
    name, data = _read(path, "merchants.toml")
    parsed = _validated(_MerchantsFile, name, data)
    seen: set[tuple[str, date]] = set()
    terms = []
    for m in parsed.merchants:
        if (m.id, m.effective_from) in seen:
            raise DataFileError(f"{name}: {m.id} has two entries from {m.effective_from}")
        seen.add((m.id, m.effective_from))
        terms.append(
            SettlementTerms(
                merchant_id=m.id, currency=m.settlement_currency, effective_from=m.effective_from
            )
        )
    return MerchantDirectory(terms, default_currency=default_currency)


def load_fees(path: Path | None) -> FeeSchedule:
    """The provider fee schedule; every payment method must have a rule."""
    name, data = _read(path, "fees.toml")
    parsed = _validated(_FeesFile, name, data)
    rules = [
        FeeRule(
            method=f.method,
            effective_from=f.effective_from,
            percent=f.percent,
            cross_border_percent=f.cross_border_percent,
            fixed=dict(f.fixed),
        )
        for f in parsed.fees
    ]
    schedule = FeeSchedule(rules)
    missing = {"card", "international_card", "bank_wire", "paypal", "alipay"} - schedule.methods
    if missing:
        raise DataFileError(f"{name}: no fee rule for {', '.join(sorted(missing))}")
    return schedule


def load_rates(path: Path | None) -> list[Rate]:
    """The seed exchange rates."""
    name, data = _read(path, "fx_rates.toml")
    parsed = _validated(_RatesFile, name, data)
    rates: list[Rate] = []
    for index, rate_set in enumerate(parsed.sets):
        for quote, value in rate_set.rates.items():
            if quote == rate_set.base:
                raise DataFileError(f"{name}: sets.{index}: {quote} is quoted against itself")
            rates.append(
                Rate(
                    base=rate_set.base,
                    quote=quote,
                    rate=value,
                    as_of=rate_set.as_of,
                    source=rate_set.source,
                )
            )
    return rates
