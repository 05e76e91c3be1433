"""Provider fees, per method, with effective dates (the schedule is data: `data/fees.toml`).

fee = amount x (percent + cross_border_percent) / 100 + fixed, rounded to the minor units of
the payment's currency, half to even. `fixed` is given per currency; a currency without an entry
pays no fixed part. The fee is taken from the captured amount and borne by the merchant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from payment_svc.domain.money import ZERO, percent_of, quantize


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeRule:
    """The fee of one method from `effective_from` on."""

    method: str
    effective_from: date
    percent: Decimal
    cross_border_percent: Decimal = ZERO
    fixed: Mapping[str, Decimal] = field(default_factory=dict)

    def fee(self, amount: Decimal, currency: str) -> Decimal:
        """The fee on `amount` of `currency`."""
        rate = self.percent + self.cross_border_percent
        return percent_of(amount, rate, currency) + quantize(
            self.fixed.get(currency, ZERO), currency
        )


class NoFeeRule(LookupError):
    """The schedule has no rule for a method at a date."""


class FeeSchedule:
    """Every fee rule; the one in force is the latest effective at the payment's date."""

    def __init__(self, rules: Sequence[FeeRule]) -> None:
        self._rules = sorted(rules, key=lambda r: (r.method, r.effective_from))

    def rule(self, method: str, on: date) -> FeeRule:
        """The rule for `method` in force on `on`."""
        found = [r for r in self._rules if r.method == method and r.effective_from <= on]
        if not found:
            raise NoFeeRule(f"no fee rule for {method} on {on.isoformat()}")
        return found[-1]

    def fee(self, method: str, amount: Decimal, currency: str, *, on: date) -> Decimal:
        """The fee on a payment of `amount` by `method` on `on`."""
        return self.rule(method, on).fee(amount, currency)

    @property
    def methods(self) -> frozenset[str]:
        """The methods the schedule covers."""
        return frozenset(r.method for r in self._rules)
