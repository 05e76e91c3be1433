"""Checkout arithmetic: Decimal only, in the order currency's ISO 4217 minor units.

Rounding rule: amounts are quantized to the currency's minor units with ROUND_HALF_EVEN. Every
input amount must already fit the minor units (a request with "12.345" USD is refused), so
sums and products of them are exact and the quantization never changes a value; it only fixes
the number of decimal places ("25" becomes "25.00").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from xborder_events.currencies import MINOR_UNITS


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`: Decimal("0.01") for USD, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def quantize(amount: Decimal, currency: str) -> Decimal:
    """`amount` with exactly the currency's decimal places (ROUND_HALF_EVEN)."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)


def fits_minor_units(amount: Decimal, currency: str) -> bool:
    """True when `amount` has no non-zero digit beyond the currency's minor units."""
    return quantize(amount, currency) == amount


@dataclass(frozen=True)
class Totals:
    """What the buyer is charged at checkout, in `currency`."""

    currency: str
    goods: Decimal
    shipping: Decimal
    duties_and_taxes: Decimal | None
    grand_total: Decimal


def checkout_totals(
    *,
    currency: str,
    lines: Iterable[tuple[int, Decimal]],
    shipping: Decimal,
    duties_and_taxes: Decimal | None,
) -> Totals:
    """Goods (sum of quantity x unit price), shipping, duties and taxes (DDP only), and the sum.

    `lines` are (quantity, unit price) pairs; `duties_and_taxes` is None under DAP.
    """
    goods = quantize(sum((qty * price for qty, price in lines), Decimal(0)), currency)
    shipping = quantize(shipping, currency)
    duties = None if duties_and_taxes is None else quantize(duties_and_taxes, currency)
    grand = quantize(goods + shipping + (duties or Decimal(0)), currency)
    return Totals(currency, goods, shipping, duties, grand)
