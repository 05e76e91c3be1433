"""Amounts at their currency's precision: ISO 4217 minor units, rounded half to even."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from xborder_events.currencies import MINOR_UNITS


def quantize(amount: Decimal, currency: str) -> Decimal:
    """`amount` with exactly the currency's minor units (banker's rounding if it had more)."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), rounding=ROUND_HALF_EVEN)
