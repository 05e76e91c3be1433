"""Money rules: ISO 4217 minor units and the one rounding rule payment-svc uses.

Every amount is a `Decimal` in one currency. An amount that comes out of arithmetic (a converted
amount, a fee) is rounded once, to the currency's minor units, half to even (banker's rounding:
0.125 EUR becomes 0.12, 0.135 EUR becomes 0.14), so that rounding errors do not drift one way
over many payments.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from xborder_events.currencies import MINOR_UNITS

ROUNDING = ROUND_HALF_EVEN
ZERO = Decimal(0)


class UnknownCurrency(ValueError):
    """A code that is not an ISO 4217 currency in circulation."""


def minor_units(currency: str) -> int:
    """Decimal places of `currency`: JPY 0, EUR 2, KWD 3."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(f"{currency} is not an ISO 4217 currency in circulation") from None


def exponent(currency: str) -> Decimal:
    """The smallest unit of `currency` as a Decimal exponent: JPY 1, EUR 0.01, KWD 0.001."""
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded to the minor units of `currency`, half to even."""
    return amount.quantize(exponent(currency), rounding=ROUNDING)


def fits(amount: Decimal, currency: str) -> bool:
    """Whether `amount` has no more decimal places than `currency` allows."""
    return quantize(amount, currency) == amount


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    """`percent` % of `amount`, rounded to the minor units of `currency`."""
    return quantize(amount * percent / Decimal(100), currency)
