"""FX conversion: Decimal, ISO 4217 minor units (JPY 0, EUR 2, KWD 3), half-to-even, and
which rate is in force."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payment_svc.domain import fx
from payment_svc.domain.fx import FxQuote, NoRate, Rate
from payment_svc.domain.money import minor_units, quantize

T0 = datetime(2025, 11, 3, 16, tzinfo=UTC)


def rate(base: str, quote: str, value: str, *, at: datetime = T0, source: str = "ecb") -> Rate:
    return Rate(base=base, quote=quote, rate=Decimal(value), as_of=at, source=source)


def usd_to(target: str, value: str) -> FxQuote:
    return fx.quote([rate("USD", target, value)], source="USD", target=target, at=T0)


def test_minor_units_of_the_three_kinds() -> None:
    assert (minor_units("JPY"), minor_units("EUR"), minor_units("KWD")) == (0, 2, 3)


@pytest.mark.parametrize(
    ("amount", "target", "value", "expected"),
    [
        # JPY has no minor unit: whole yen, ties to the even yen.
        ("12.34", "JPY", "153.45", "1894"),  # 1893.573
        ("1.00", "JPY", "150.5", "150"),  # 150.5 -> even 150
        ("3.00", "JPY", "150.5", "452"),  # 451.5 -> even 452
        # EUR has two.
        ("36.00", "EUR", "0.8675", "31.23"),  # 31.2300
        ("0.25", "EUR", "0.5", "0.12"),  # 0.125 -> even 0.12
        ("0.27", "EUR", "0.5", "0.14"),  # 0.135 -> even 0.14
        # KWD has three.
        ("10.00", "KWD", "0.30685", "3.068"),  # 3.0685 -> even 3.068
        ("1.00", "KWD", "0.3075", "0.308"),  # 0.3075 -> even 0.308
        ("99.99", "KWD", "0.30685", "30.682"),  # 30.6819315
    ],
)
def test_conversion_rounds_half_to_even_to_the_target_minor_units(
    amount: str, target: str, value: str, expected: str
) -> None:
    converted = usd_to(target, value).convert(Decimal(amount))
    assert converted == Decimal(expected)
    assert str(converted) == expected  # exactly the currency's places, no more, no fewer


def test_from_a_zero_decimal_currency_into_a_three_decimal_one() -> None:
    # JPY -> KWD through USD: 1 JPY = 1/153.45 USD, x 0.30685 KWD.
    rates = [rate("USD", "JPY", "153.45"), rate("USD", "KWD", "0.30685")]
    quote = fx.quote(rates, source="JPY", target="KWD", at=T0)
    assert quote.provider == "ecb via USD"
    assert quote.rate == fx.round_rate(Decimal(1) / Decimal("153.45") * Decimal("0.30685"))
    assert quote.convert(Decimal(15345)) == Decimal("30.685")


def test_from_kwd_into_jpy_and_eur() -> None:
    rates = [
        rate("USD", "JPY", "153.45"),
        rate("USD", "KWD", "0.30685"),
        rate("USD", "EUR", "0.8675"),
    ]
    to_jpy = fx.quote(rates, source="KWD", target="JPY", at=T0)
    to_eur = fx.quote(rates, source="KWD", target="EUR", at=T0)
    # 1.234 KWD = 4.0215... USD
    assert to_jpy.convert(Decimal("1.234")) == Decimal(617)  # 617.09...
    assert to_eur.convert(Decimal("1.234")) == Decimal("3.49")  # 3.4886...


def test_an_inverse_rate_is_kept_to_twelve_significant_digits() -> None:
    quote = fx.quote([rate("USD", "EUR", "0.8675")], source="EUR", target="USD", at=T0)
    assert quote.rate == Decimal("1.15273775216")
    assert quote.convert(Decimal("31.23")) == Decimal("36.00")


def test_the_same_currency_converts_at_one() -> None:
    quote = fx.quote([], source="KWD", target="KWD", at=T0)
    assert (quote.rate, quote.provider) == (Decimal(1), "identity")
    assert quote.convert(Decimal("1.234")) == Decimal("1.234")


def test_the_latest_rate_at_or_before_the_instant_is_used() -> None:
    old = rate("USD", "EUR", "0.9650", at=T0 - timedelta(days=300), source="seed")
    new = rate("USD", "EUR", "0.8675", at=T0, source="ecb")
    later = rate("USD", "EUR", "0.5000", at=T0 + timedelta(days=1), source="ecb")
    rates = [old, new, later]
    assert fx.quote(rates, source="USD", target="EUR", at=T0).rate == Decimal("0.8675")
    assert fx.quote(rates, source="USD", target="EUR", at=T0 - timedelta(seconds=1)).rate == (
        Decimal("0.9650")
    )
    with pytest.raises(NoRate):
        fx.quote(rates, source="USD", target="EUR", at=T0 - timedelta(days=301))


def test_a_newer_inverse_rate_beats_an_older_direct_one() -> None:
    rates = [
        rate("USD", "EUR", "0.9", at=T0 - timedelta(days=1)),
        rate("EUR", "USD", "1.25", at=T0, source="operator"),
    ]
    quote = fx.quote(rates, source="USD", target="EUR", at=T0)
    assert (quote.rate, quote.provider, quote.as_of) == (Decimal("0.8"), "operator", T0)


def test_no_rate_between_unrelated_currencies() -> None:
    with pytest.raises(NoRate, match="BRL to KWD"):
        fx.quote([rate("USD", "EUR", "0.8675")], source="BRL", target="KWD", at=T0)


def test_a_rate_must_be_positive_and_link_two_currencies() -> None:
    with pytest.raises(ValueError, match="positive"):
        rate("USD", "EUR", "0")
    with pytest.raises(ValueError, match="two different"):
        rate("USD", "USD", "1")
    with pytest.raises(ValueError, match="ISO 4217"):
        rate("USD", "XYZ", "1")


def test_quantize_is_half_even() -> None:
    assert quantize(Decimal("2.5"), "JPY") == Decimal(2)
    assert quantize(Decimal("3.5"), "JPY") == Decimal(4)
    assert quantize(Decimal("0.0005"), "KWD") == Decimal("0.000")
    assert quantize(Decimal("0.0015"), "KWD") == Decimal("0.002")
