"""What payment-svc checks of an order before it charges anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from payment_svc.domain.money import ZERO, fits


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One order line: quantity x unit price, in `currency`."""

    quantity: int
    unit_price: Decimal
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """The totals an order states, in `currency`."""

    currency: str
    items: Decimal
    shipping: Decimal
    duties: Decimal | None
    grand_total: Decimal
    incoterm: str
    #: The currencies the totals were stated in (all must be `currency`).
    stated_in: frozenset[str] = frozenset()


def verify_totals(lines: Sequence[Line], totals: Totals) -> list[str]:
    """Every way the totals disagree with the lines or each other (empty: they agree)."""
    problems: list[str] = []
    c = totals.currency
    if any(line.currency != c for line in lines) or totals.stated_in - {c}:
        problems.append(f"every price and total must be in the order currency {c}")
    amounts = {
        "items": totals.items,
        "shipping": totals.shipping,
        "duties_and_taxes": totals.duties,
        "grand_total": totals.grand_total,
    }
    for name, value in amounts.items():
        if value is not None and (value < 0 or not fits(value, c)):
            problems.append(f"{name} {value} is not a non-negative amount of {c}")
    items = sum((line.quantity * line.unit_price for line in lines), ZERO)
    if items != totals.items:
        problems.append(f"items {totals.items} is not the sum of the lines, {items}")
    expected = totals.items + totals.shipping + (totals.duties or ZERO)
    if expected != totals.grand_total:
        problems.append(f"grand_total {totals.grand_total} is not items+shipping+duties {expected}")
    if totals.incoterm == "DDP" and totals.duties is None:
        problems.append("a DDP order states the duties and taxes prepaid at checkout")
    if totals.incoterm == "DAP" and totals.duties not in (None, ZERO):
        problems.append("a DAP order charges no duties at checkout")
    if totals.grand_total <= 0:
        problems.append("there is nothing to pay: the grand total must be positive")
    return problems
