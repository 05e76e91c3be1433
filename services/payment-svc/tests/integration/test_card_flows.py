"""Cards over Kafka and HTTP against real PostgreSQL and the broker: each token's path."""

from decimal import Decimal
from typing import Any

import pytest

from xborder_events.payments import (
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentFailed,
    PaymentSettled,
)

pytestmark = pytest.mark.integration


async def test_a_card_is_authorized_then_settled_in_the_merchants_currency(
    service: Any, placed: Any
) -> None:
    order = placed(token="tok_visa")
    await service.publish(order)
    names = await service.recorder.wait_for(order.order_id, "PaymentSettled")
    assert names == ["PaymentAuthorized", "PaymentSettled"]
    (authorized,) = service.recorder.of(order.order_id, PaymentAuthorized)
    (settled,) = service.recorder.of(order.order_id, PaymentSettled)
    assert authorized.amount.amount == Decimal("36.00")
    assert settled.amount.amount == Decimal("36.00")
    # card fee: 2.9% of 36.00 = 1.044 -> 1.04, plus 0.30 fixed in USD
    assert settled.fees is not None
    assert settled.fees.amount == Decimal("1.34")
    assert settled.duties_payable is not None
    assert settled.duties_payable.amount == Decimal("3.10")
    # net 31.56 USD at the seed rate 7.1235 CNY = 224.817... -> 224.82 CNY
    assert (settled.fx.source_currency, settled.fx.target_currency) == ("USD", "CNY")
    assert settled.fx.rate == Decimal("7.1235")
    assert settled.fx.provider == "seed-reference"
    assert settled.settlement_amount.amount == Decimal("224.82")
    assert settled.settlement_amount.currency == "CNY"
    payment = await service.payment_of(order.order_id)
    assert payment["status"] == "settled"
    assert payment["settlement"]["fx"]["rate"] == "7.1235"
    assert payment["captured"] == {"amount": "36.00", "currency": "USD"}
    assert [a["operation"] for a in payment["attempts"]] == ["authorize", "capture"]


@pytest.mark.parametrize("method", ["card", "international_card"])
@pytest.mark.parametrize(
    ("token", "reason", "code"),
    [
        ("tok_decline", "declined", "card_declined"),
        ("tok_insufficient_funds", "insufficient_funds", "insufficient_funds"),
        ("tok_fraud", "fraud_suspected", "fraudulent"),
        ("tok_provider_error", "provider_error", "processing_error"),
    ],
)
async def test_declined_cards_fail_with_a_reason_code(
    service: Any, placed: Any, method: str, token: str, reason: str, code: str
) -> None:
    order = placed(method=method, token=token)
    await service.publish(order)
    names = await service.recorder.wait_for(order.order_id, "PaymentFailed")
    assert names == ["PaymentFailed"]
    (failed,) = service.recorder.of(order.order_id, PaymentFailed)
    assert (failed.stage, failed.reason, failed.provider_code) == ("authorization", reason, code)
    payment = await service.payment_of(order.order_id)
    assert (payment["method"], payment["status"]) == (method, "failed")
    assert payment["failure"]["reason"] == reason


async def test_a_step_up_is_required_then_passed_by_the_sandbox_buyer(
    service: Any, placed: Any
) -> None:
    order = placed(token="tok_3ds")
    await service.publish(order)
    names = await service.recorder.wait_for(order.order_id, "PaymentSettled")
    assert names == ["PaymentActionRequired", "PaymentAuthorized", "PaymentSettled"]
    (action,) = service.recorder.of(order.order_id, PaymentActionRequired)
    assert action.action == "authenticate"
    assert action.approval_url is not None
    assert "/3ds/" in action.approval_url
    payment = await service.payment_of(order.order_id)
    assert [a["operation"] for a in payment["attempts"]] == [
        "authorize",
        "capture",
        "webhook",
    ]


async def test_a_failed_step_up_fails_the_payment(service: Any, placed: Any) -> None:
    order = placed(token="tok_3ds_fail")
    await service.publish(order)
    names = await service.recorder.wait_for(order.order_id, "PaymentFailed")
    assert names == ["PaymentActionRequired", "PaymentFailed"]
    (failed,) = service.recorder.of(order.order_id, PaymentFailed)
    assert failed.reason == "authentication_failed"


async def test_a_failed_capture_fails_at_the_capture_stage_and_releases_the_hold(
    service: Any, placed: Any
) -> None:
    order = placed(token="tok_capture_fail")
    await service.publish(order)
    names = await service.recorder.wait_for(order.order_id, "PaymentFailed")
    assert names == ["PaymentAuthorized", "PaymentFailed"]
    (failed,) = service.recorder.of(order.order_id, PaymentFailed)
    assert (failed.stage, failed.provider_code) == ("capture", "capture_failed")
    payment = await service.payment_of(order.order_id)
    account = await service.client.get(
        "/v1/ledger/accounts/authorization_holds", headers=service.operator
    )
    held = [e for e in account.json()["entries"] if e["payment_id"] == payment["id"]]
    assert sorted(e["amount"] for e in held) == ["-36.00", "36.00"]


async def test_an_international_card_pays_a_cross_border_fee(service: Any, placed: Any) -> None:
    domestic, international = placed(), placed(method="international_card")
    await service.publish(domestic, international)
    for order in (domestic, international):
        await service.recorder.wait_for(order.order_id, "PaymentSettled")
    (d,) = service.recorder.of(domestic.order_id, PaymentSettled)
    (i,) = service.recorder.of(international.order_id, PaymentSettled)
    # 4.4% of 36.00 = 1.584 -> 1.58, plus 0.30
    assert (d.fees.amount, i.fees.amount) == (Decimal("1.34"), Decimal("1.88"))
    assert i.settlement_amount.amount < d.settlement_amount.amount
