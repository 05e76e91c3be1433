"""Merchants' settlement currencies, with effective dates (data: `data/merchants.toml`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True, kw_only=True)
class SettlementTerms:
    """A merchant is settled in `currency` from `effective_from` on."""

    merchant_id: str
    currency: str
    effective_from: date


class MerchantDirectory:
    """Which currency each merchant is settled in; unknown merchants get the default."""

    def __init__(self, terms: Sequence[SettlementTerms], *, default_currency: str) -> None:
        self._terms = sorted(terms, key=lambda t: (t.merchant_id, t.effective_from))
        self.default_currency = default_currency

    def settlement_currency(self, merchant_id: str, *, on: date) -> str:
        """The currency `merchant_id` is settled in on `on`."""
        found = [t for t in self._terms if t.merchant_id == merchant_id and t.effective_from <= on]
        return found[-1].currency if found else self.default_currency

    @property
    def currencies(self) -> frozenset[str]:
        """Every settlement currency in use, the default included."""
        return frozenset({self.default_currency, *(t.currency for t in self._terms)})
