"""Money rules: Decimal only, quantized to ISO 4217 minor units with ROUND_HALF_EVEN."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from xborder_events.currencies import MINOR_UNITS

ZERO = Decimal(0)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency, e.g. 0.01 for EUR, 1 for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def quantize(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half-even to the currency's minor units."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)


def fits_minor_units(amount: Decimal, currency: str) -> bool:
    """Whether `amount` has no more decimal places than the currency has."""
    exponent = amount.as_tuple().exponent
    return isinstance(exponent, int) and -exponent <= MINOR_UNITS[currency]
