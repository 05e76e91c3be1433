"""The landed-cost engine, table-driven over the packaged rules: every destination the product
brief names, each threshold exactly at and one minor unit above (also in a currency other than
the threshold's), the EU change of 2026-07-01, the Russian weight rule, and which lines the
seller collects at checkout rather than customs at import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from customs_svc.adapters.rules_data import load_rules
from customs_svc.domain.landed_cost import Consignment, Item, LandedCostError, assess

DATA = load_rules()
AT = datetime(2025, 12, 1, tzinfo=UTC)  # the FX set in force: FX-SEED-2025-11-03
BEFORE_SUSPENSION = date(2025, 8, 28)
SUSPENDED = date(2025, 8, 29)
EU_EVE = date(2026, 6, 30)
EU_FLAT = date(2026, 7, 1)


@dataclass(frozen=True)
class Case:
    id: str
    destination: str
    currency: str
    items: tuple[tuple[str, str, int, int], ...]  # (hs code, unit price, quantity, grams)
    on: date
    within: bool
    lines: tuple[tuple[str, str, str], ...]  # (kind, amount, rule id)
    total: str
    shipping: str = "0.00"
    checkout: str = "0"  # of the total, what the seller collects at checkout (the rest: import)


def one(price: str, hs: str = "392690", grams: int = 100) -> tuple[tuple[str, str, int, int]]:
    return ((hs, price, 1, grams),)


CASES = [
    # United States: USD 800 de minimis until 2025-08-28, none from 2025-08-29.
    Case("US-at-800", "US", "USD", one("800.00"), BEFORE_SUSPENSION, True, (), "0.00"),
    Case("US-800.01", "US", "USD", one("800.01"), BEFORE_SUSPENSION, False,
         (("duty", "42.40", "US-DUTY-CH"),), "42.40"),
    Case("US-suspended-10", "US", "USD", one("10.00"), SUSPENDED, False,
         (("duty", "0.53", "US-DUTY-CH"), ("fee", "2.69", "US-MPF-INFORMAL")), "3.22"),
    Case("US-suspended-800", "US", "USD", one("800.00"), SUSPENDED, False,
         (("duty", "42.40", "US-DUTY-CH"), ("fee", "2.69", "US-MPF-INFORMAL")), "45.09"),
    # European Union (Germany): IOSS at EUR 150; EUR 3 per subheading from 2026-07-01.
    Case("DE-at-150", "DE", "EUR", one("150.00"), EU_EVE, True,
         (("vat", "28.50", "VAT-DE"),), "28.50", checkout="28.50"),
    Case("DE-150.01", "DE", "EUR", one("150.01"), EU_EVE, False,
         (("duty", "9.75", "EU-DUTY-CH"), ("vat", "30.35", "VAT-DE")), "40.10"),
    Case("DE-eve-of-flat-duty", "DE", "EUR",
         (("392690", "100.00", 1, 100), ("392690", "20.00", 1, 100), ("420222", "30.00", 1, 300)),
         EU_EVE, True, (("vat", "28.50", "VAT-DE"),), "28.50", checkout="28.50"),
    Case("DE-day-of-flat-duty", "DE", "EUR",
         (("392690", "100.00", 1, 100), ("392690", "20.00", 1, 100), ("420222", "30.00", 1, 300)),
         EU_FLAT, True,
         (("duty", "3.00", "EU-IOSS-150-FLAT-3"), ("duty", "3.00", "EU-IOSS-150-FLAT-3"),
          ("vat", "29.64", "VAT-DE")), "35.64", checkout="35.64"),  # with the IOSS VAT
    Case("DE-flat-duty-150.01", "DE", "EUR", one("150.01"), EU_FLAT, False,
         (("duty", "9.75", "EU-DUTY-CH"), ("vat", "30.35", "VAT-DE")), "40.10"),
    Case("FR-at-150-in-USD", "FR", "USD", one("172.91"), EU_EVE, True,
         (("vat", "34.58", "VAT-FR"),), "34.58", checkout="34.58"),
    Case("FR-above-150-in-USD", "FR", "USD", one("172.92"), EU_EVE, False,
         (("duty", "11.24", "EU-DUTY-CH"), ("vat", "36.83", "VAT-FR")), "48.07"),
    # United Kingdom: GBP 135, VAT at the point of sale below it.
    Case("GB-at-135", "GB", "GBP", one("135.00"), EU_EVE, True,
         (("vat", "27.00", "VAT-GB"),), "27.00", checkout="27.00"),
    Case("GB-135.01", "GB", "GBP", one("135.01"), EU_EVE, False,
         (("duty", "8.40", "GB-DUTY-CH"), ("vat", "29.68", "VAT-GB")), "38.08", "5.00"),
    # Russia: EUR 200 and 31 kg; 15 % of the excess value, at least EUR 2 per kg of excess.
    Case("RU-at-200-and-31kg", "RU", "EUR", one("200.00", grams=31_000), EU_EVE, True, (), "0.00"),
    Case("RU-200.01", "RU", "EUR", one("200.01", grams=31_000), EU_EVE, False,
         (("duty", "0.00", "RU-EAEU-200-31"), ("fee", "5.34", "RU-CLEARANCE-FEE")), "5.34"),
    # One gram above 31 kg: not within; 0.001 kg x EUR 2 = EUR 0.002 (0.00 in EUR; in RUB
    # 0.002 x 81.25 / 0.8675 = 0.1873 -> 0.19), plus the RUB 500 fee (EUR 5.34).
    Case("RU-31001g", "RU", "EUR", one("150.00", grams=31_001), EU_EVE, False,
         (("duty", "0.00", "RU-EAEU-200-31"), ("fee", "5.34", "RU-CLEARANCE-FEE")), "5.34"),
    Case("RU-31001g-in-RUB", "RU", "RUB", one("10000.00", grams=31_001), EU_EVE, False,
         (("duty", "0.19", "RU-EAEU-200-31"), ("fee", "500.00", "RU-CLEARANCE-FEE")), "500.19"),
    Case("RU-weight-rule", "RU", "EUR", one("150.00", grams=40_000), EU_EVE, False,
         (("duty", "18.00", "RU-EAEU-200-31"), ("fee", "5.34", "RU-CLEARANCE-FEE")), "23.34"),
    Case("RU-weight-beats-value", "RU", "EUR", one("210.00", grams=40_000), EU_EVE, False,
         (("duty", "18.00", "RU-EAEU-200-31"), ("fee", "5.34", "RU-CLEARANCE-FEE")), "23.34"),
    Case("RU-value-beats-weight", "RU", "EUR", one("300.00", grams=35_000), EU_EVE, False,
         (("duty", "15.00", "RU-EAEU-200-31"), ("fee", "5.34", "RU-CLEARANCE-FEE")), "20.34"),
    # Brazil: Remessa Conforme, 20 % up to USD 50, 60 % less USD 20 above; ICMS grossed up.
    Case("BR-at-50", "BR", "USD", one("50.00"), EU_EVE, True,
         (("duty", "10.00", "BR-REMESSA-CONFORME"), ("icms", "12.29", "ICMS-BR")), "22.29",
         checkout="22.29"),
    Case("BR-50.01", "BR", "USD", one("50.01"), EU_EVE, False,
         (("duty", "10.01", "BR-REMESSA-CONFORME"), ("icms", "12.29", "ICMS-BR")), "22.30",
         checkout="22.30"),
    Case("BR-shipping-counts", "BR", "USD", one("40.00"), EU_EVE, False,
         (("duty", "13.00", "BR-REMESSA-CONFORME"), ("icms", "13.93", "ICMS-BR")), "26.93",
         "15.00", checkout="26.93"),
    # Brazil in BRL: USD 50 is BRL 267.60 at 5.352; BRL 267.61 is USD 50.0019, above it (the
    # comparison is exact, not rounded to USD 50.00 first). At: 20% x 267.60 = 53.52, ICMS
    # (267.60 + 53.52) x 0.17 / 0.83 = 65.77. Above: 60% x 267.61 - 20 x 5.352 = 160.566 -
    # 107.04 = 53.53 (53.526), ICMS (267.61 + 53.53) x 0.17 / 0.83 = 65.78 (65.7757).
    Case("BR-at-50-in-BRL", "BR", "BRL", one("267.60"), EU_EVE, True,
         (("duty", "53.52", "BR-REMESSA-CONFORME"), ("icms", "65.77", "ICMS-BR")), "119.29",
         checkout="119.29"),
    Case("BR-above-50-in-BRL", "BR", "BRL", one("267.61"), EU_EVE, False,
         (("duty", "53.53", "BR-REMESSA-CONFORME"), ("icms", "65.78", "ICMS-BR")), "119.31",
         checkout="119.31"),
    # Australia: AUD 1,000, GST at the point of sale below it.
    Case("AU-at-1000", "AU", "AUD", one("1000.00"), EU_EVE, True,
         (("gst", "100.00", "GST-AU"),), "100.00", checkout="100.00"),
    Case("AU-1000.01", "AU", "AUD", one("1000.01"), EU_EVE, False,
         (("duty", "50.00", "AU-DUTY-CH"), ("gst", "105.00", "GST-AU"),
          ("fee", "88.00", "AU-IPC")), "243.00"),
    # Canada: CAD 20 postal threshold.
    Case("CA-at-20", "CA", "CAD", one("20.00"), EU_EVE, True, (), "0.00"),
    Case("CA-20.01", "CA", "CAD", one("20.01"), EU_EVE, False,
         (("duty", "1.30", "CA-DUTY-CH"), ("gst", "1.07", "GST-CA"),
          ("fee", "9.95", "CA-POST-HANDLING")), "12.32"),
    # UAE (illustrative): AED 1,000 on the goods relieves duty only; VAT 5% at import on
    # goods + transport + duty; duty 5% on CIF above. At: 5% x 1000.00 = 50.00. Above, with
    # AED 20 transport: duty 5% x 1020.01 = 51.00 (51.0005); VAT 5% x (1020.01 + 51.00) = 53.55.
    Case("AE-at-1000", "AE", "AED", one("1000.00"), EU_EVE, True,
         (("vat", "50.00", "VAT-AE"),), "50.00"),
    Case("AE-1000.01", "AE", "AED", one("1000.01"), EU_EVE, False,
         (("duty", "51.00", "GCC-DUTY-CH"), ("vat", "53.55", "VAT-AE")), "104.55", "20.00"),
    # Saudi Arabia (illustrative): SAR 1,000, duty only; VAT 15% at import. At: 15% x 1000.00
    # = 150.00. Above: duty 5% x 1000.01 = 50.00 (50.0005); VAT 15% x 1050.01 = 157.50.
    Case("SA-at-1000", "SA", "SAR", one("1000.00"), EU_EVE, True,
         (("vat", "150.00", "VAT-SA"),), "150.00"),
    Case("SA-1000.01", "SA", "SAR", one("1000.01"), EU_EVE, False,
         (("duty", "50.00", "GCC-DUTY-CH"), ("vat", "157.50", "VAT-SA")), "207.50"),
    # Mexico (illustrative): USD 50 relieves duty and tax; above, duty 6% on the goods and IVA
    # 16% on goods + duty. USD 50.01: 3.00 (3.0006), IVA 16% x 53.01 = 8.48. In MXN USD 50 is
    # MXN 926.00 at 18.52; MXN 926.01 (USD 50.0005) is above: duty 55.56 (55.5606), IVA 16% x
    # (926.01 + 55.56) = 157.05 (157.0512).
    Case("MX-at-50", "MX", "USD", one("50.00"), EU_EVE, True, (), "0.00"),
    Case("MX-50.01", "MX", "USD", one("50.01"), EU_EVE, False,
         (("duty", "3.00", "LATAM-DUTY-CH"), ("vat", "8.48", "IVA-MX")), "11.48"),
    Case("MX-at-50-in-MXN", "MX", "MXN", one("926.00"), EU_EVE, True, (), "0.00"),
    Case("MX-above-50-in-MXN", "MX", "MXN", one("926.01"), EU_EVE, False,
         (("duty", "55.56", "LATAM-DUTY-CH"), ("vat", "157.05", "IVA-MX")), "212.61"),
    # Chile (illustrative): USD 41 on goods + transport relieves duty only; IVA 19% at import.
    # At (36.00 + 5.00): 19% x 41.00 = 7.79. Above (36.01 + 5.00): duty 6% x 41.01 = 2.46;
    # IVA 19% x 43.47 = 8.26. In CLP (no minor units) USD 41 is CLP 38,745 at 945: IVA
    # 7,361.55 -> 7,362; CLP 38,746 is above: duty 2,324.76 -> 2,325, IVA 19% x 41,071 = 7,803.
    Case("CL-at-41", "CL", "USD", one("36.00"), EU_EVE, True,
         (("vat", "7.79", "IVA-CL"),), "7.79", "5.00"),
    Case("CL-41.01", "CL", "USD", one("36.01"), EU_EVE, False,
         (("duty", "2.46", "LATAM-DUTY-CH"), ("vat", "8.26", "IVA-CL")), "10.72", "5.00"),
    Case("CL-at-41-in-CLP", "CL", "CLP", one("38745"), EU_EVE, True,
         (("vat", "7362", "IVA-CL"),), "7362", "0"),
    Case("CL-above-41-in-CLP", "CL", "CLP", one("38746"), EU_EVE, False,
         (("duty", "2325", "LATAM-DUTY-CH"), ("vat", "7803", "IVA-CL")), "10128", "0"),
]  # fmt: skip


def consignment(case: Case) -> Consignment:
    items = tuple(
        Item(hs, "CN", Decimal(price), quantity, grams, sku=f"sku-{n}")
        for n, (hs, price, quantity, grams) in enumerate(case.items)
    )
    return Consignment(case.destination, case.currency, Decimal(case.shipping), items)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_landed_cost(case: Case) -> None:
    lc = assess(DATA.book, DATA.fx, consignment(case), on=case.on, at=AT)

    assert lc.de_minimis.within is case.within
    assert [(ln.kind, str(ln.amount), ln.rule.id) for ln in lc.lines] == list(case.lines)
    assert str(lc.total) == case.total
    assert lc.total == lc.duties + lc.taxes + lc.fees
    assert lc.collected("checkout") == Decimal(case.checkout)
    assert lc.collected("import") == lc.total - Decimal(case.checkout)
    for line in lc.lines:
        assert line.rule.in_force(case.on), line  # each line names a rule in force that day


def test_every_destination_of_the_brief_has_at_least_two_cases() -> None:
    destinations = {c.destination for c in CASES}
    assert {"US", "GB", "RU", "BR", "AU", "CA", "AE", "SA", "MX", "CL"} <= destinations
    assert {"DE", "FR"} & destinations  # the EU
    for country in ("US", "GB", "RU", "BR", "AU", "CA", "AE", "SA", "MX", "CL"):
        assert sum(c.destination == country for c in CASES) >= 2


def test_a_quote_on_the_eve_of_a_rule_change_is_valid_until_that_day() -> None:
    case = next(c for c in CASES if c.id == "DE-eve-of-flat-duty")
    assert assess(DATA.book, DATA.fx, consignment(case), on=EU_EVE, at=AT).valid_until == EU_FLAT
    later = assess(DATA.book, DATA.fx, consignment(case), on=EU_FLAT, at=AT)
    assert later.valid_until is None


def test_lines_carry_their_rule_source_and_the_fx_snapshot_is_recorded() -> None:
    case = next(c for c in CASES if c.id == "FR-above-150-in-USD")
    lc = assess(DATA.book, DATA.fx, consignment(case), on=EU_EVE, at=AT)
    duty = lc.lines[0]
    assert duty.rule.illustrative
    assert duty.rule.effective_from == date(2025, 1, 1)
    assert "TARIC" in duty.rule.source
    assert lc.fx.id == "FX-SEED-2025-11-03"
    assert lc.converted == ("EUR",)
    assert lc.de_minimis.compared_value == Decimal("150.01")


def test_brazil_refuses_consignments_above_the_regime_limit() -> None:
    c = Consignment("BR", "USD", Decimal(0), (Item("392690", "CN", Decimal("3000.01"), 1, 100),))
    with pytest.raises(LandedCostError) as refused:
        assess(DATA.book, DATA.fx, c, on=EU_EVE, at=AT)
    assert refused.value.code == "value_above_limit"


@pytest.mark.parametrize(
    ("destination", "hs_code", "code"),
    [("ZZ", "392690", "unsupported_destination"), ("DE", "770100", "invalid_hs_code"),
     ("DE", "390012", "invalid_hs_code")],
)  # fmt: skip
def test_refusals(destination: str, hs_code: str, code: str) -> None:
    c = Consignment(destination, "EUR", Decimal(0), (Item(hs_code, "CN", Decimal(1), 1, 100),))
    with pytest.raises(LandedCostError) as refused:
        assess(DATA.book, DATA.fx, c, on=EU_EVE, at=AT)
    assert refused.value.code == code


def test_a_currency_without_an_exchange_rate_is_refused() -> None:
    c = Consignment("DE", "ISK", Decimal(0), (Item("392690", "CN", Decimal(1), 1, 100),))
    with pytest.raises(LandedCostError) as refused:
        assess(DATA.book, DATA.fx, c, on=EU_EVE, at=AT)
    assert refused.value.code == "currency_not_supported"


def test_one_gram_above_31_kg_pays_the_per_kg_minimum() -> None:
    for case_id in ("RU-31001g", "RU-31001g-in-RUB"):
        case = next(c for c in CASES if c.id == case_id)
        lc = assess(DATA.book, DATA.fx, consignment(case), on=case.on, at=AT)
        assert "2.00 EUR/kg on 0.001 kg excess weight" in lc.lines[0].description
        assert "31.001 kg" in lc.de_minimis.detail


@pytest.mark.parametrize(
    ("case_id", "shown", "detail"),
    [("BR-at-50-in-BRL", "50.00", "band up to 50.00"),
     ("BR-above-50-in-BRL", "50.01", "band up to 3000.00"),
     ("MX-at-50-in-MXN", "50.00", "50.00 USD is at or below 50.00 USD"),
     ("MX-above-50-in-MXN", "50.01", "50.01 USD is above 50.00 USD"),
     ("FR-at-150-in-USD", "149.99", "149.99 EUR is at or below 150.00 EUR")],
)  # fmt: skip
def test_a_converted_value_is_compared_unrounded_and_shown_on_its_side(
    case_id: str, shown: str, detail: str
) -> None:
    """BRL 267.61 = USD 50.0019: rounded to cents first it would pass as USD 50.00."""
    case = next(c for c in CASES if c.id == case_id)
    lc = assess(DATA.book, DATA.fx, consignment(case), on=case.on, at=AT)
    assert lc.de_minimis.compared_value == Decimal(shown)
    assert detail in lc.de_minimis.detail


def test_the_eu_flat_duty_is_collected_with_the_ioss_vat() -> None:
    case = next(c for c in CASES if c.id == "DE-day-of-flat-duty")
    lc = assess(DATA.book, DATA.fx, consignment(case), on=case.on, at=AT)
    assert {ln.collected_at for ln in lc.lines} == {"checkout"}
    above = next(c for c in CASES if c.id == "DE-flat-duty-150.01")
    lc = assess(DATA.book, DATA.fx, consignment(above), on=above.on, at=AT)
    assert {ln.collected_at for ln in lc.lines} == {"import"}
