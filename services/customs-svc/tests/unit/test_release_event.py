"""ParcelReleased reports what is owed at import, never what the seller collected at checkout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from customs_svc.adapters.rules_data import load_rules
from customs_svc.domain.landed_cost import Consignment, Item, assess
from customs_svc.service_layer.integration import parcel_released
from customs_svc.service_layer.serialize import landed_cost_json

DATA = load_rules()
AT = datetime(2025, 12, 1, tzinfo=UTC)
ON = date(2026, 7, 1)


@dataclass(frozen=True)
class Decl:
    order_id: uuid.UUID
    id: uuid.UUID
    country: str


def assessment(destination: str, currency: str, *items: tuple[str, str], shipping: str = "5.00"
               ) -> dict[str, Any]:  # fmt: skip
    lines = tuple(Item(hs, "CN", Decimal(price), 1, 300, sku=f"SKU-{n}")
                  for n, (hs, price) in enumerate(items))  # fmt: skip
    c = Consignment(destination, currency, Decimal(shipping), lines)
    return landed_cost_json(assess(DATA.book, DATA.fx, c, on=ON, at=AT))


def released(country: str, incoterm: str, currency: str, a: dict[str, Any] | None) -> Any:
    decl = Decl(uuid.uuid4(), uuid.uuid4(), country)
    return parcel_released(decl, incoterm=incoterm, currency=currency, assessment=a, at=AT)


@pytest.mark.parametrize(
    ("country", "currency", "price", "checkout"),
    [("GB", "GBP", "40.00", "9.00"),  # UK VAT at the point of sale: 20% x (40 + 5)
     ("DE", "EUR", "40.00", "12.12"),  # EUR 3 flat duty + IOSS VAT 19% x (40 + 5 + 3) = 9.12
     ("AU", "AUD", "40.00", "4.50"),  # GST at the point of sale: 10% x 45
     ("BR", "USD", "40.00", "20.06")],  # 20% x 45 = 9.00, ICMS (45 + 9) x 0.17 / 0.83 = 11.06
)  # fmt: skip
@pytest.mark.parametrize("incoterm", ["DAP", "DDP"])
def test_what_was_collected_at_checkout_is_not_owed_again(
    country: str, currency: str, price: str, checkout: str, incoterm: str
) -> None:
    a = assessment(country, currency, ("392690", price))
    assert a["due_at_checkout"] == a["total"] == checkout
    assert a["due_at_import"] == "0.00"
    event = released(country, incoterm, currency, a)
    assert event.owed_by == ("buyer" if incoterm == "DAP" else "seller")
    assert event.duties.amount == event.taxes.amount == event.total.amount == 0
    assert event.assessments == ()


def test_above_the_threshold_duty_and_tax_are_owed_at_import() -> None:
    a = assessment("GB", "GBP", ("392690", "135.01"))
    # CIF 140.01: duty 6% = 8.40; VAT 20% x (140.01 + 8.40) = 29.68
    assert [(ln["kind"], ln["amount"], ln["collected_at"]) for ln in a["lines"]] == [
        ("duty", "8.40", "import"), ("vat", "29.68", "import")]  # fmt: skip
    event = released("GB", "DAP", "GBP", a)
    assert event.owed_by == "buyer"
    assert (event.duties.amount, event.taxes.amount, event.total.amount) == (
        Decimal("8.40"), Decimal("29.68"), Decimal("38.08"))  # fmt: skip
    assert [x.kind for x in event.assessments] == ["duty", "vat"]
    assert "[GB-DUTY-CH]" in (event.assessments[0].description or "")


def test_fees_count_with_duties_and_a_stored_line_without_a_channel_is_an_import_line() -> None:
    a = assessment("US", "USD", ("392690", "10.00"), shipping="0.00")  # duty 0.53 + fee 2.69
    event = released("US", "DDP", "USD", a)
    assert (event.duties.amount, event.taxes.amount) == (Decimal("3.22"), Decimal(0))
    legacy = {**a, "lines": [{k: v for k, v in ln.items() if k != "collected_at"}
                             for ln in a["lines"]]}  # fmt: skip
    assert released("US", "DDP", "USD", legacy).total.amount == Decimal("3.22")
    nothing = released("US", "DAP", "USD", None)
    assert nothing.total.amount == 0
    assert nothing.total.currency == "USD"
