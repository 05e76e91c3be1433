"""Checkout arithmetic: Decimal in the currency's minor units."""

from decimal import Decimal

import pytest

from order_svc.domain.money import checkout_totals, fits_minor_units, minor_unit, quantize


def test_totals_under_ddp_add_up_in_minor_units() -> None:
    totals = checkout_totals(
        currency="USD",
        lines=[(2, Decimal("12.5")), (3, Decimal("0.99"))],
        shipping=Decimal("7.9"),
        duties_and_taxes=Decimal("3.10"),
    )
    assert (totals.goods, totals.shipping, totals.duties_and_taxes) == (
        Decimal("27.97"),
        Decimal("7.90"),
        Decimal("3.10"),
    )
    assert str(totals.grand_total) == "38.97"


def test_totals_under_dap_charge_no_duties() -> None:
    totals = checkout_totals(
        currency="JPY", lines=[(1, Decimal("1500"))], shipping=Decimal("800"), duties_and_taxes=None
    )
    assert totals.duties_and_taxes is None
    assert str(totals.grand_total) == "2300"


@pytest.mark.parametrize(
    ("amount", "currency", "fits"),
    [("12.50", "USD", True), ("12.505", "USD", False), ("100.0", "JPY", True),
     ("100.5", "JPY", False), ("1.005", "KWD", True), ("1.0005", "KWD", False)],
)  # fmt: skip
def test_amounts_must_fit_the_minor_units(amount: str, currency: str, fits: bool) -> None:
    assert fits_minor_units(Decimal(amount), currency) is fits


def test_quantize_rounds_half_to_even() -> None:
    assert minor_unit("KWD") == Decimal("0.001")
    assert quantize(Decimal("0.125"), "USD") == Decimal("0.12")
    assert quantize(Decimal("0.135"), "USD") == Decimal("0.14")
