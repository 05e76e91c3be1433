"""Pre-screening an order: can it go to its destination as placed, and does its quote hold?"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from customs_svc.domain.classification import cpf_valid, hs_problem
from customs_svc.domain.fx import FxTable
from customs_svc.domain.landed_cost import Consignment, LandedCostError, assess
from customs_svc.domain.rules import RuleBook


@dataclass(frozen=True, slots=True)
class Failure:
    """One reason the order cannot ship (the events' PrecheckFailure)."""

    code: str
    message: str
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What customs keeps of an OrderPlaced."""

    order_id: UUID
    merchant_id: str
    placed_at: datetime
    ship_from: str
    incoterm: str
    consignment: Consignment
    duties_and_taxes: Decimal | None
    quote_id: UUID | None
    buyer_tax_id: str | None


@dataclass(frozen=True, slots=True)
class QuoteFacts:
    """What the pre-check compares of a stored landed-cost quote."""

    quote_id: UUID
    merchant_id: str | None
    expires_at: datetime
    consignment: Consignment
    total: Decimal


def _line_key(c: Consignment) -> Counter[tuple[str, int, Decimal]]:
    return Counter((i.hs_code, i.quantity, i.unit_price) for i in c.items)


def quote_failures(order: OrderFacts, quote: QuoteFacts | None) -> list[Failure]:
    """Whether the quote exists, is unexpired (DDP) and matches the order's amounts."""
    if order.quote_id is None:
        return []
    if quote is None or quote.merchant_id not in (None, order.merchant_id):
        return [Failure("quote_not_found", f"landed-cost quote {order.quote_id} does not exist")]
    failures: list[Failure] = []
    if order.incoterm == "DDP" and quote.expires_at < order.placed_at:
        failures.append(Failure("quote_expired", f"the quote expired at {quote.expires_at}"))
    o, q = order.consignment, quote.consignment
    differences = [
        ("destination", o.destination, q.destination),
        ("currency", o.currency, q.currency),
        ("shipping cost", o.shipping, q.shipping),
    ]
    if order.incoterm == "DDP":
        differences.append(("duties and taxes", order.duties_and_taxes, quote.total))
    failures += [
        Failure("quote_mismatch", f"the order's {what} is {mine}, the quote's {theirs}")
        for what, mine, theirs in differences
        if mine != theirs
    ]
    if _line_key(o) != _line_key(q):
        failures.append(
            Failure(
                "quote_mismatch",
                "the order's items (HS code, quantity, unit price) differ from the quote's",
            )
        )
    return failures


def _buyer_failures(book: RuleBook, order: OrderFacts, on: date) -> list[Failure]:
    req = book.requirements_for(order.consignment.destination, on)
    wanted = req.buyer_identifier if req else None
    if wanted is None:
        return []
    value = order.buyer_tax_id
    if value is None:
        return [Failure("missing_buyer_identifier", f"the destination requires the buyer's "
                        f"{wanted.name}")]  # fmt: skip
    if not re.fullmatch(wanted.pattern, value) or (
        wanted.checksum == "cpf" and not cpf_valid(value)
    ):
        return [Failure("invalid_buyer_identifier", f"the buyer's {wanted.name} is not valid")]
    return []


def _goods_failures(book: RuleBook, order: OrderFacts, on: date) -> list[Failure]:
    failures: list[Failure] = []
    rules = book.goods_rules(order.consignment.destination, on, direction="import")
    for item in order.consignment.items:
        if (problem := hs_problem(item.hs_code)) is not None:
            failures.append(Failure("invalid_hs_code", problem, item.sku))
            continue
        for rule in (r for r in rules if r.matches(item.hs_code)):
            if rule.prohibited:
                failures.append(Failure("prohibited_goods", f"{rule.description} ({rule.ref.id})",
                                        item.sku))  # fmt: skip
            elif rule.refuse_at_precheck:
                failures.append(Failure("restricted_goods", f"{rule.description} ({rule.ref.id})",
                                        item.sku))  # fmt: skip
    return failures


def _assessable(book: RuleBook, fx: FxTable, order: OrderFacts, on: date) -> list[Failure]:
    try:
        assess(book, fx, order.consignment, on=on, at=order.placed_at)
    except LandedCostError as exc:
        code = "unsupported_currency" if exc.code == "currency_not_supported" else exc.code
        return [Failure(code, str(exc), exc.sku)]
    return []


def precheck(
    book: RuleBook, fx: FxTable, order: OrderFacts, quote: QuoteFacts | None, *, on: date
) -> list[Failure]:
    """Every reason the order cannot ship as placed; empty when it may."""
    destination = order.consignment.destination
    if book.regime(destination, on) is None:
        return [Failure("unsupported_destination", f"no customs rules for {destination}")]
    failures = _goods_failures(book, order, on) + _buyer_failures(book, order, on)
    if not any(f.code == "invalid_hs_code" for f in failures):
        failures += _assessable(book, fx, order, on)
    return failures + quote_failures(order, quote)
