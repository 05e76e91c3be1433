"""Pre-screening: every failure reason, and a clean order passing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from customs_svc.adapters.rules_data import load_rules
from customs_svc.domain.landed_cost import Consignment, Item, assess
from customs_svc.domain.precheck import OrderFacts, QuoteFacts, precheck

DATA = load_rules()
PLACED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def order(
    destination: str = "DE",
    *,
    hs: str = "392690",
    price: str = "25.00",
    incoterm: str = "DDP",
    tax_id: str | None = None,
    currency: str = "EUR",
) -> OrderFacts:
    c = Consignment(destination, currency, Decimal("4.90"),
                    (Item(hs, "CN", Decimal(price), 2, 80, sku="SKU-1"),))  # fmt: skip
    return OrderFacts(uuid4(), "m-1", PLACED, "CN", incoterm, c, None, uuid4(), tax_id)


def quote_for(o: OrderFacts, **changes: object) -> tuple[OrderFacts, QuoteFacts]:
    """A matching quote, and the order charging exactly its total."""
    total = assess(DATA.book, DATA.fx, o.consignment, on=PLACED.date(), at=PLACED).total
    q = QuoteFacts(o.quote_id, "m-1", PLACED + timedelta(hours=1), o.consignment, total)  # type: ignore[arg-type]
    return replace(o, duties_and_taxes=total), replace(q, **changes)  # type: ignore[arg-type]


def codes(o: OrderFacts, q: QuoteFacts | None) -> list[str]:
    return [f.code for f in precheck(DATA.book, DATA.fx, o, q, on=PLACED.date())]


def test_a_clean_ddp_order_with_its_quote_passes() -> None:
    assert codes(*quote_for(order())) == []


def test_a_dap_order_without_a_quote_skips_the_quote_checks() -> None:
    o = replace(order(incoterm="DAP"), quote_id=None)
    assert codes(o, None) == []


@pytest.mark.parametrize(
    ("o", "code"),
    [
        (order(hs="930630"), "prohibited_goods"),
        (order("BR", hs="854340", currency="USD", tax_id="529.982.247-25"), "prohibited_goods"),
        (order("GB", hs="821193", currency="GBP"), "restricted_goods"),
        (order(hs="770100"), "invalid_hs_code"),
        (order("ZZ"), "unsupported_destination"),
        (order("BR", currency="USD"), "missing_buyer_identifier"),
        (order("BR", currency="USD", tax_id="123.456.789-00"), "invalid_buyer_identifier"),
        (order("BR", price="1600.00", currency="USD", tax_id="52998224725"), "value_above_limit"),
        (order(currency="ISK"), "unsupported_currency"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_goods_destination_and_buyer_reasons(o: OrderFacts, code: str) -> None:
    assert code in codes(replace(o, incoterm="DAP", quote_id=None), None)


def test_a_missing_quote_fails() -> None:
    assert codes(order(), None) == ["quote_not_found"]


def test_another_merchants_quote_counts_as_missing() -> None:
    assert codes(*quote_for(order(), merchant_id="m-2")) == ["quote_not_found"]


def test_an_expired_quote_fails_under_ddp() -> None:
    o, q = quote_for(order(), expires_at=PLACED - timedelta(seconds=1))
    assert codes(o, q) == ["quote_expired"]


def test_a_quote_with_other_duties_fails() -> None:
    o, q = quote_for(order())
    assert codes(replace(o, duties_and_taxes=q.total + Decimal("0.01")), q) == ["quote_mismatch"]


def test_a_quote_for_other_items_fails() -> None:
    o, q = quote_for(order())
    other = replace(q.consignment, items=(replace(q.consignment.items[0], quantity=3),))
    assert codes(o, replace(q, consignment=other)) == ["quote_mismatch"]


def test_a_quote_for_another_destination_fails() -> None:
    o, q = quote_for(order())
    assert codes(o, replace(q, consignment=replace(q.consignment, destination="FR"))) == [
        "quote_mismatch"
    ]
