"""Exchange rates and conversion to the merchant's settlement currency.

A rate says: 1 unit of `base` = `rate` units of `quote`, as quoted by `source` at `as_of`.
The rate used for a conversion at instant `t` is the latest one quoted at or before `t`:

1. same currency: rate 1 (source "identity");
2. otherwise the most recent of the direct pair (base = from, quote = to) and the inverse pair
   (base = to, quote = from, used as 1/rate); the direct pair wins a tie;
3. otherwise a cross rate through the pivot currency (USD by default): from -> pivot -> to.

Derived rates (an inverse, a cross) are computed with 28 significant digits and kept to
`RATE_DIGITS` (12) significant digits, half to even. A converted amount is `amount x rate`
rounded once to the target currency's minor units, half to even (see `money`). The snapshot
of the rate used (`FxQuote`) is stored with the payment or refund it priced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal

from payment_svc.domain.money import minor_units, quantize

#: Significant digits kept of a derived rate.
RATE_DIGITS = 12
_RATE_CONTEXT = Context(prec=RATE_DIGITS, rounding=ROUND_HALF_EVEN)
IDENTITY_SOURCE = "identity"


class NoRate(LookupError):
    """No rate links the two currencies at or before the instant asked for."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """A quoted rate: 1 `base` = `rate` `quote`."""

    base: str
    quote: str
    rate: Decimal
    as_of: datetime
    source: str

    def __post_init__(self) -> None:
        if self.base == self.quote:
            raise ValueError("a rate links two different currencies")
        if not self.rate.is_finite() or self.rate <= 0:
            raise ValueError("a rate must be a positive number")
        if self.as_of.tzinfo is None:
            raise ValueError("a rate's as_of must be timezone-aware")
        minor_units(self.base)
        minor_units(self.quote)


@dataclass(frozen=True, slots=True, kw_only=True)
class FxQuote:
    """The snapshot a conversion used: 1 `source_currency` = `rate` `target_currency`."""

    source_currency: str
    target_currency: str
    rate: Decimal
    as_of: datetime
    provider: str

    def convert(self, amount: Decimal) -> Decimal:
        """`amount` (in the source currency) in the target currency, rounded half to even."""
        return convert(amount, self)


def round_rate(value: Decimal) -> Decimal:
    """A derived rate kept to `RATE_DIGITS` significant digits, half to even."""
    return _RATE_CONTEXT.plus(value).normalize(_RATE_CONTEXT)


def convert(amount: Decimal, quote: FxQuote) -> Decimal:
    """`amount` x rate, rounded to the target currency's minor units, half to even."""
    return quantize(amount * quote.rate, quote.target_currency)


def identity(currency: str, *, at: datetime) -> FxQuote:
    """The snapshot of a conversion from a currency to itself."""
    return FxQuote(
        source_currency=currency,
        target_currency=currency,
        rate=Decimal(1),
        as_of=at,
        provider=IDENTITY_SOURCE,
    )


def _latest(rates: Iterable[Rate], base: str, quote: str, at: datetime) -> Rate | None:
    best: Rate | None = None
    for rate in rates:
        matches = rate.base == base and rate.quote == quote and rate.as_of <= at
        if matches and (best is None or rate.as_of > best.as_of):
            best = rate
    return best


def _pair(rates: list[Rate], source: str, target: str, at: datetime) -> FxQuote | None:
    direct = _latest(rates, source, target, at)
    inverse = _latest(rates, target, source, at)
    if direct is not None and (inverse is None or direct.as_of >= inverse.as_of):
        return FxQuote(
            source_currency=source,
            target_currency=target,
            rate=direct.rate,
            as_of=direct.as_of,
            provider=direct.source,
        )
    if inverse is not None:
        return FxQuote(
            source_currency=source,
            target_currency=target,
            rate=round_rate(Decimal(1) / inverse.rate),
            as_of=inverse.as_of,
            provider=inverse.source,
        )
    return None


def quote(
    rates: Iterable[Rate], *, source: str, target: str, at: datetime, pivot: str = "USD"
) -> FxQuote:
    """The snapshot to convert `source` into `target` at instant `at` (see the module doc)."""
    if source == target:
        return identity(source, at=at)
    known = list(rates)
    found = _pair(known, source, target, at)
    if found is not None:
        return found
    if pivot not in (source, target):
        first = _pair(known, source, pivot, at)
        second = _pair(known, pivot, target, at)
        if first is not None and second is not None:
            provider = (
                first.provider
                if first.provider == second.provider
                else f"{first.provider}+{second.provider}"
            )
            return FxQuote(
                source_currency=source,
                target_currency=target,
                rate=round_rate(first.rate * second.rate),
                as_of=min(first.as_of, second.as_of),
                provider=f"{provider} via {pivot}",
            )
    raise NoRate(f"no exchange rate from {source} to {target} at or before {at.isoformat()}")
