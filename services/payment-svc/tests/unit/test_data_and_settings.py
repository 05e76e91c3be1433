"""The packaged data files load and validate; settings refuse unsafe production values."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from payment_svc.adapters.data_files import DataFileError, load_fees, load_merchants, load_rates
from payment_svc.config import DEV_WEBHOOK_SECRET, Settings

PROD_DB = "postgresql://payment:a-real-password@db:5432/payment"


def test_the_packaged_files_load() -> None:
    merchants = load_merchants(None, default_currency="USD")
    assert merchants.settlement_currency("demo-merchant", on=date(2025, 11, 28)) == "CNY"
    assert merchants.settlement_currency("unknown", on=date(2025, 11, 28)) == "USD"
    fees = load_fees(None)
    assert fees.fee("card", Decimal("36.00"), "USD", on=date(2025, 11, 28)) == Decimal("1.34")
    assert fees.fee("card", Decimal("5000"), "JPY", on=date(2025, 11, 28)) == Decimal(145)
    rates = load_rates(None)
    assert {r.quote for r in rates} >= {"EUR", "JPY", "KWD", "CNY", "BRL", "RUB", "GBP"}


def test_a_merchant_can_change_settlement_currency_from_a_date(tmp_path: Path) -> None:
    path = tmp_path / "merchants.toml"
    path.write_text(
        '[[merchants]]\nid = "m"\nsettlement_currency = "EUR"\neffective_from = 2025-01-01\n'
        '[[merchants]]\nid = "m"\nsettlement_currency = "GBP"\neffective_from = 2025-07-01\n'
    )
    merchants = load_merchants(path, default_currency="USD")
    assert merchants.settlement_currency("m", on=date(2025, 6, 30)) == "EUR"
    assert merchants.settlement_currency("m", on=date(2025, 7, 1)) == "GBP"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[merchants]]\nid = "m"\nsettlement_currency = "XYZ"\neffective_from = 2025-01-01\n',
         "merchants.0.settlement_currency"),
        ("[[merchants]\n", "cannot be read"),
        ('[[merchants]]\nid = "m"\nsettlement_currency = "EUR"\n', "effective_from"),
    ],
)  # fmt: skip
def test_a_bad_merchants_file_names_the_file_and_entry(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "merchants.toml"
    path.write_text(content)
    with pytest.raises(DataFileError, match=message) as info:
        load_merchants(path, default_currency="USD")
    assert "merchants.toml" in str(info.value)


def test_a_fee_file_must_cover_every_method(tmp_path: Path) -> None:
    path = tmp_path / "fees.toml"
    path.write_text('[[fees]]\nmethod = "card"\neffective_from = 2025-01-01\npercent = "2.9"\n')
    with pytest.raises(DataFileError, match="no fee rule for alipay, bank_wire"):
        load_fees(path)


def test_rates_are_positive_decimal_strings(tmp_path: Path) -> None:
    path = tmp_path / "rates.toml"
    path.write_text(
        '[[sets]]\nbase = "USD"\nas_of = 2025-01-01T00:00:00Z\nsource = "x"\n'
        "[sets.rates]\nEUR = 0.9\n"
    )
    with pytest.raises(DataFileError, match="decimal string"):
        load_rates(path)


def test_production_refuses_the_development_webhook_secret() -> None:
    with pytest.raises(ValidationError, match="webhook secrets use a default"):
        Settings(environment="production", database_url=PROD_DB)
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(
            environment="production",
            database_url=PROD_DB,
            webhook_secret=SecretStr("s3cret-but-real"),
        )
    with pytest.raises(ValidationError, match="default"):
        Settings(
            environment="production",
            database_url=PROD_DB,
            webhook_secret=SecretStr("a-long-production-secret"),
            webhook_secrets={"paypal": SecretStr(DEV_WEBHOOK_SECRET)},
        )
    ok = Settings(
        environment="production",
        database_url=PROD_DB,
        webhook_secret=SecretStr("a-long-production-secret"),
        webhook_secrets={"paypal": SecretStr("another-long-secret-for-paypal")},
    )
    assert ok.webhook_secret_for("paypal") == b"another-long-secret-for-paypal"
    assert ok.webhook_secret_for("alipay") == b"a-long-production-secret"
    assert ok.sandbox_on is False


def test_the_sandbox_runs_by_default_outside_production() -> None:
    assert Settings().sandbox_on is True
    assert Settings(sandbox_enabled=False).sandbox_on is False


def test_settlement_and_pivot_currencies_are_iso_codes() -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Settings(default_settlement_currency="XYZ")
