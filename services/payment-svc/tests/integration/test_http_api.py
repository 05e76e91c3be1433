"""The HTTP API around the flows: card data refused, FX rates, the ledger, reconciliation,
and the database's own guards of the ledger."""

import io
import json
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import exc, text
from sqlalchemy.engine import Connection

from payment_svc.adapters.tables import metadata
from xborder_events.payments import PaymentSettled
from xborder_platform.http.card_data import looks_like_pan

pytestmark = pytest.mark.integration

PAN = "4111 1111 1111 1111"  # a test card number: passes the Luhn check


async def _settled(service: Any, placed: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    order = placed(**kwargs)
    await service.publish(order)
    await service.recorder.wait_for(order.order_id, "PaymentSettled")
    return order, await service.payment_of(order.order_id)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"card_number": "tok_visa"}, "card_number"),
        ({"note": f"paid with {PAN}"}, "note"),
        ({"meta": {"cards": [{"x": 4111111111111111}]}}, "meta.cards[0].x"),
        ({"CVV": "123"}, "CVV"),
        ({"payment": {"Card-Number": None}}, "payment.Card-Number"),
    ],
)
async def test_a_body_carrying_card_data_is_refused_and_changes_nothing(
    service: Any, placed: Any, extra: dict[str, Any], field: str
) -> None:
    _, payment = await _settled(service, placed)
    key = uuid.uuid4().hex
    url = f"/v1/payments/{payment['id']}/refunds"
    body = {"amount": {"amount": "1.00", "currency": "USD"}, **extra}
    refused = await service.client.post(
        url, json=body, headers={**service.operator, "Idempotency-Key": key}
    )
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["type"].endswith("card-data-refused")
    assert problem["field"] == field
    assert "4111" not in refused.text
    assert "123" not in problem["detail"]
    # The key was not claimed: the same key with a clean body runs.
    clean = await service.client.post(
        url,
        json={"amount": {"amount": "1.00", "currency": "USD"}},
        headers={**service.operator, "Idempotency-Key": key},
    )
    assert clean.status_code == 201


async def test_a_refused_card_number_is_never_logged(service: Any, placed: Any) -> None:
    _, payment = await _settled(service, placed)
    root = logging.getLogger()
    out = io.StringIO()
    capture = logging.StreamHandler(out)
    capture.setFormatter(root.handlers[0].formatter)  # the service's JSON rendering
    root.addHandler(capture)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        for body in (
            {"amount": {"amount": "1.00", "currency": "USD"}, "note": f"card {PAN}"},
            {"amount": {"amount": "1.00", "currency": "USD"}, PAN.replace(" ", ""): "x"},
        ):
            refused = await service.client.post(
                f"/v1/payments/{payment['id']}/refunds",
                json=body,
                headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert refused.status_code == 422
            assert "4111" not in refused.text
    finally:
        root.removeHandler(capture)
        root.setLevel(level)
    logged = out.getvalue()
    lines = [json.loads(line) for line in logged.splitlines()]
    refusals = [line for line in lines if line["event"].startswith("request refused")]
    assert [r["field"] for r in refusals] == ["note", "<card number>"]
    assert {r["route"] for r in refusals} == {"/v1/payments/{payment_id}/refunds"}
    assert not looks_like_pan(logged)
    assert "4111" not in logged
    assert "1111" not in logged


async def test_numbers_that_fail_the_luhn_check_are_not_card_data(service: Any) -> None:
    answer = await service.client.put(
        "/v1/fx/rates",
        json={"rates": [], "note": "4111 1111 1111 1112"},
        headers=service.operator,
    )
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("validation-error")


async def test_card_data_is_refused_on_webhooks_before_the_signature(service: Any) -> None:
    answer = await service.client.post(
        "/v1/providers/paypal/webhooks", json={"id": "evt", "pan": "x"}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "pan"


async def test_operators_add_rates_and_payments_use_the_latest(service: Any, placed: Any) -> None:
    now = datetime.now(UTC)
    rate = {
        "base": "USD",
        "quote": "KWD",
        "rate": "0.3100",
        "as_of": (now - timedelta(seconds=1)).isoformat(),
        "source": "ops-desk",
    }
    url = "/v1/fx/rates"
    added = await service.client.put(url, json={"rates": [rate]}, headers=service.operator)
    assert added.json() == {"added": 1, "unchanged": 0}
    same = await service.client.put(url, json={"rates": [rate]}, headers=service.operator)
    assert same.json() == {"added": 0, "unchanged": 1}
    changed = await service.client.put(
        url, json={"rates": [{**rate, "rate": "0.3200"}]}, headers=service.operator
    )
    assert changed.status_code == 409
    forbidden = await service.client.put(url, json={"rates": [rate]}, headers=service.storefront)
    assert forbidden.status_code == 403
    listed = await service.client.get(
        url, params={"base": "USD", "quote": "KWD"}, headers=service.storefront
    )
    assert [(r["rate"], r["source"]) for r in listed.json()["rates"]] == [("0.31", "ops-desk")]
    order, _ = await _settled(service, placed, merchant="merchant-kw-004")
    (settled,) = service.recorder.of(order.order_id, PaymentSettled)
    assert (settled.fx.rate, settled.fx.provider) == (Decimal("0.31"), "ops-desk")
    # net 36.00 - 1.34 - 3.10 = 31.56 USD x 0.31 = 9.7836 -> 9.784 KWD (three decimals)
    assert settled.settlement_amount.amount == Decimal("9.784")


@pytest.mark.parametrize(
    ("amount", "source", "target", "converted"),
    [
        ("100.00", "USD", "JPY", "15345"),
        ("1500", "JPY", "EUR", "8.48"),
        ("12.345", "KWD", "EUR", "34.90"),
        ("36.00", "EUR", "KWD", "12.734"),
    ],
)
async def test_conversions_use_the_minor_units_of_each_currency(
    service: Any, amount: str, source: str, target: str, converted: str
) -> None:
    at = datetime(2025, 11, 28, tzinfo=UTC).isoformat()
    answer = await service.client.get(
        "/v1/fx/conversions",
        params={"amount": amount, "from": source, "to": target, "at": at},
        headers=service.storefront,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["converted"] == {"amount": converted, "currency": target}


async def test_the_ledger_accounts_and_who_sees_them(service: Any, placed: Any) -> None:
    _, payment = await _settled(service, placed)
    own = await service.client.get(
        "/v1/ledger/accounts/merchant_payable:merchant-shenzhen-001", headers=service.storefront
    )
    assert own.status_code == 200
    body = own.json()
    (cny,) = body["balances"]
    assert cny["currency"] == "CNY"
    assert Decimal(cny["balance"]) == Decimal(cny["debits"]) - Decimal(cny["credits"])
    assert any(e["payment_id"] == payment["id"] for e in body["entries"])
    other = await service.client.get(
        "/v1/ledger/accounts/merchant_payable:merchant-hk-002", headers=service.storefront
    )
    assert other.status_code == 403
    unknown = await service.client.get("/v1/ledger/accounts/petty_cash", headers=service.operator)
    assert unknown.status_code == 404
    page = await service.client.get(
        "/v1/ledger/accounts/provider_clearing", params={"limit": 1}, headers=service.operator
    )
    assert len(page.json()["entries"]) == 1
    following = await service.client.get(
        "/v1/ledger/accounts/provider_clearing",
        params={"limit": 1, "cursor": page.json()["next_cursor"]},
        headers=service.operator,
    )
    assert following.json()["entries"][0]["id"] < page.json()["entries"][0]["id"]


async def test_the_reconciliation_of_the_day_balances(service: Any, placed: Any) -> None:
    _, payment = await _settled(service, placed)
    refund = await service.client.post(
        f"/v1/payments/{payment['id']}/refunds",
        json={"amount": {"amount": "6.00", "currency": "USD"}},
        headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert refund.status_code == 201
    today = datetime.now(UTC).date().isoformat()
    report = await service.client.get(
        "/v1/reconciliation", params={"date": today, "limit": 1000}, headers=service.operator
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["ledger_balanced"] is True
    assert body["totals"]["balanced"] is True
    assert all(p["balanced"] for p in body["payments"])
    (mine,) = [p for p in body["payments"] if p["payment_id"] == payment["id"]]
    assert mine["captured"] == {"USD": "36.00"}
    assert mine["refunded"] == {"USD": "6.00"}
    assert mine["fees"] == {"USD": "1.34"}
    assert mine["duties_payable"] == {"USD": "3.10"}
    # 31.56 USD settled (224.82 CNY) less the 6.00 USD refund at the same rate (42.74 CNY)
    assert mine["merchant_payable"] == {"CNY": "182.08"}
    assert set(mine["net"].values()) == {"0.00"}
    assert Decimal(body["totals"]["captured"]["USD"]) >= Decimal("36.00")
    empty = await service.client.get(
        "/v1/reconciliation", params={"date": "2001-01-01"}, headers=service.operator
    )
    assert empty.json()["payments"] == []
    assert (
        await service.client.get(
            "/v1/reconciliation", params={"date": today}, headers=service.storefront
        )
    ).status_code == 403


async def test_the_database_refuses_to_change_or_unbalance_the_ledger(
    service: Any, placed: Any
) -> None:
    await _settled(service, placed)  # entries to lose
    engine = service.app.state.engine
    statements = (
        "UPDATE ledger_entries SET amount = 0",
        "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries",
    )
    async with engine.connect() as conn:
        before = await conn.scalar(text("SELECT count(*) FROM ledger_entries"))
    assert before > 0
    for statement in statements:
        with pytest.raises(exc.DBAPIError, match="never updated or deleted"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    with pytest.raises(exc.DBAPIError, match="does not balance"):
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO ledger_entries (transaction_id, kind, account, currency, "
                    "amount, posted_at) VALUES (:t, 'capture', 'buyer_funds', 'USD', 1, now())"
                ),
                {"t": uuid.uuid4()},
            )
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM ledger_entries")) == before


async def test_payments_are_listed_per_order_and_merchant(service: Any, placed: Any) -> None:
    order, payment = await _settled(service, placed)
    mine = await service.client.get(
        "/v1/payments", params={"order_id": str(order.order_id)}, headers=service.storefront
    )
    assert [p["id"] for p in mine.json()["items"]] == [payment["id"]]
    page = await service.client.get("/v1/payments", params={"limit": 1}, headers=service.storefront)
    assert len(page.json()["items"]) == 1
    assert page.json()["next_cursor"]
    bad = await service.client.get(
        "/v1/payments", params={"cursor": "nonsense"}, headers=service.storefront
    )
    assert bad.status_code == 400
    single = await service.client.get(f"/v1/payments/{payment['id']}", headers=service.storefront)
    assert single.json()["settlement"]["amount"] == {"amount": "224.82", "currency": "CNY"}
    assert "provider_token" not in single.text


async def test_the_migrations_match_the_tables_declared(service: Any) -> None:
    def differences(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async with service.app.state.engine.connect() as conn:
        found = await conn.run_sync(differences)
    assert [d for d in found if not re.search(r"alembic_version", repr(d))] == []
