"""Exchange rates for thresholds and fixed amounts: seed sets (source, as of) and snapshots.

A set quotes every currency against one base (1 base = rate currency). A conversion between two
currencies crosses through the base. A quote records the snapshot it used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from customs_svc.domain.money import quantize


class CurrencyNotSupported(ValueError):
    """No exchange rate is known for the currency."""


@dataclass(frozen=True, slots=True)
class FxSet:
    """Rates of one date from one source: 1 `base` = rates[c] of currency c."""

    id: str
    base: str
    as_of: datetime
    source: str
    rates: dict[str, Decimal]
    illustrative: bool = True

    def rate(self, source: str, target: str) -> Decimal:
        """How many units of `target` one unit of `source` buys (unrounded)."""
        for code in (source, target):
            if code != self.base and code not in self.rates:
                raise CurrencyNotSupported(f"no exchange rate for {code} in {self.id}")
        from_base = Decimal(1) if source == self.base else self.rates[source]
        to_base = Decimal(1) if target == self.base else self.rates[target]
        return to_base / from_base

    def exact(self, amount: Decimal, source: str, target: str) -> Decimal:
        """`amount` of `source` in `target`, unrounded (what a threshold is compared with).

        Multiplies before it divides, so a value that is exactly a threshold converts exactly
        (CLP 38,745 is USD 41 at 945 CLP/USD, not 40.99999...).
        """
        if source == target:
            return amount
        self.rate(source, target)  # refuses an unknown currency
        from_base = Decimal(1) if source == self.base else self.rates[source]
        to_base = Decimal(1) if target == self.base else self.rates[target]
        return amount * to_base / from_base

    def convert(self, amount: Decimal, source: str, target: str) -> Decimal:
        """`amount` of `source` in `target`, rounded half-even to target's minor units."""
        if source == target:
            return quantize(amount, target)
        return quantize(amount * self.rate(source, target), target)

    def supports(self, currency: str) -> bool:
        """Whether the set can convert the currency."""
        return currency == self.base or currency in self.rates


@dataclass(frozen=True, slots=True)
class FxTable:
    """Every seed set, oldest first."""

    sets: Sequence[FxSet]

    def at(self, instant: datetime) -> FxSet:
        """The latest set quoted at or before `instant` (the oldest one before any)."""
        known = [s for s in self.sets if s.as_of <= instant]
        return known[-1] if known else self.sets[0]
