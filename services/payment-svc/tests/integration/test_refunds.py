"""Refunds: on cancellation (void before capture), on return and confiscation per the policy,
over HTTP (Idempotency-Key, partial, never more than is left); duplicate OrderPlaced."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from payment_svc.adapters.providers.sandbox import SandboxCardProvider
from payment_svc.domain import idempotency
from payment_svc.service_layer.refunding import request_refund
from xborder_events import envelope_for
from xborder_events.customs import ParcelConfiscated
from xborder_events.orders import OrderCancelled
from xborder_events.payments import PaymentRefunded, RefundFailed
from xborder_events.shipping import ParcelReturnedToSender
from xborder_events.testing import sample

pytestmark = pytest.mark.integration


async def _settled(service: Any, placed: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    order = placed(**kwargs)
    await service.publish(order)
    await service.recorder.wait_for(order.order_id, "PaymentSettled")
    return order, await service.payment_of(order.order_id)


def _cancelled(order: Any) -> OrderCancelled:
    return sample(
        OrderCancelled,
        order_id=order.order_id,
        reason="customs_precheck_failed",
        cancelled_at=datetime.now(UTC),
    )


async def _ledger_balances(service: Any, payment_id: str) -> dict[str, Decimal]:
    async with service.app.state.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT currency, sum(amount) FROM ledger_entries WHERE payment_id = :p "
                "GROUP BY currency"
            ),
            {"p": payment_id},
        )
        return {row[0]: row[1] for row in rows}


async def test_a_duplicate_order_placed_makes_one_payment(service: Any, placed: Any) -> None:
    order = placed()
    envelope = envelope_for(order, source="xborder/order-svc")
    await service.send(envelope, envelope)  # redelivered: the inbox absorbs it
    await service.publish(order)  # published again with a new event id
    await service.recorder.wait_for(order.order_id, "PaymentSettled")
    await service.recorder.settle(1.0)
    assert service.recorder.names(order.order_id) == ["PaymentAuthorized", "PaymentSettled"]
    async with service.app.state.engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM payments WHERE order_id = :o"), {"o": order.order_id}
        )
    assert count == 1


async def test_a_cancelled_order_is_refunded_in_full(service: Any, placed: Any) -> None:
    order, payment = await _settled(service, placed)
    await service.publish(_cancelled(order))
    await service.recorder.wait_for(order.order_id, "PaymentRefunded")
    (refunded,) = service.recorder.of(order.order_id, PaymentRefunded)
    assert refunded.reason == "order_cancelled"
    assert refunded.amount.amount == Decimal("36.00")
    # The merchant's part (goods + shipping) costs it 32.90 USD at 7.1235 = 234.36 CNY.
    assert refunded.settlement_amount.amount == Decimal("234.36")
    assert refunded.fx.target_currency == "CNY"
    after = await service.payment_of(order.order_id)
    assert after["status"] == "refunded"
    assert after["refundable"]["amount"] == "0.00"
    assert all(v == 0 for v in (await _ledger_balances(service, payment["id"])).values())
    # Cancelled again (a redelivery with another id): nothing more.
    await service.publish(_cancelled(order))
    await service.recorder.settle()
    assert service.recorder.names(order.order_id).count("PaymentRefunded") == 1


async def test_a_cancelled_order_awaiting_a_wire_is_voided_and_late_funds_go_back(
    service: Any, placed: Any
) -> None:
    order = placed(method="bank_wire")
    await service.publish(order)
    await service.recorder.wait_for(order.order_id, "PaymentActionRequired")
    payment = await service.payment_of(order.order_id)
    await service.publish(_cancelled(order))
    for _ in range(100):
        if (await service.payment_of(order.order_id))["status"] == "voided":
            break
        await service.recorder.settle(0.1)
    assert (await service.payment_of(order.order_id))["status"] == "voided"
    line = {
        "line_id": f"L-{uuid.uuid4().hex}",
        "reference": payment["action"]["payment_reference"],
        "amount": {"amount": "36.00", "currency": "USD"},
        "booked_at": datetime.now(UTC).isoformat(),
    }
    answer = await service.client.post(
        "/v1/bank-transfers/statements",
        json={"statement_id": "st-late", "lines": [line]},
        headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.json()["lines"][0]["result"] == "returned"
    await service.recorder.settle()
    assert service.recorder.names(order.order_id) == ["PaymentActionRequired"]


async def test_a_returned_parcel_refunds_goods_and_prepaid_duties_not_shipping(
    service: Any, placed: Any
) -> None:
    order, _payment = await _settled(service, placed)
    await service.publish(sample(ParcelReturnedToSender, order_id=order.order_id))
    await service.recorder.wait_for(order.order_id, "PaymentRefunded")
    (refunded,) = service.recorder.of(order.order_id, PaymentRefunded)
    assert refunded.reason == "parcel_returned"
    assert refunded.amount.amount == Decimal("28.10")  # 25.00 goods + 3.10 DDP duties
    # Only the goods cost the merchant: 25.00 USD x 7.1235 = 178.09 CNY.
    assert refunded.settlement_amount.amount == Decimal("178.09")
    after = await service.payment_of(order.order_id)
    assert (after["status"], after["refundable"]["amount"]) == ("partially_refunded", "7.90")


async def test_a_returned_dap_parcel_refunds_the_goods_only(service: Any, placed: Any) -> None:
    dap = {
        "incoterm": "DAP",
        "landed_cost_quote_id": None,
        "totals": {
            "items": {"amount": "25.00", "currency": "USD"},
            "shipping": {"amount": "7.90", "currency": "USD"},
            "grand_total": {"amount": "32.90", "currency": "USD"},
        },
    }
    order, _ = await _settled(service, placed, **dap)
    await service.publish(sample(ParcelReturnedToSender, order_id=order.order_id))
    await service.recorder.wait_for(order.order_id, "PaymentRefunded")
    (refunded,) = service.recorder.of(order.order_id, PaymentRefunded)
    assert refunded.amount.amount == Decimal("25.00")


async def test_a_confiscated_parcel_is_refunded_in_full(service: Any, placed: Any) -> None:
    order, _ = await _settled(service, placed)
    await service.publish(sample(ParcelConfiscated, order_id=order.order_id))
    await service.recorder.wait_for(order.order_id, "PaymentRefunded")
    (refunded,) = service.recorder.of(order.order_id, PaymentRefunded)
    assert (refunded.reason, refunded.amount.amount) == ("parcel_confiscated", Decimal("36.00"))


async def test_http_refunds_are_partial_idempotent_and_never_exceed_the_capture(
    service: Any, placed: Any
) -> None:
    order, payment = await _settled(service, placed)
    url = f"/v1/payments/{payment['id']}/refunds"
    body = {"amount": {"amount": "10.00", "currency": "USD"}}
    headers = {**service.storefront, "Idempotency-Key": uuid.uuid4().hex}
    first = await service.client.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["reason"]) == ("succeeded", "goodwill")
    again = await service.client.post(url, json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    too_much = await service.client.post(
        url,
        json={"amount": {"amount": "26.01", "currency": "USD"}},
        headers={**service.storefront, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert too_much.status_code == 409
    assert too_much.json()["type"].endswith("refund-exceeds-captured")
    wrong_currency = await service.client.post(
        url,
        json={"amount": {"amount": "1.00", "currency": "EUR"}},
        headers={**service.storefront, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert wrong_currency.status_code == 422
    rest = await service.client.post(
        url,
        json={"amount": {"amount": "26.00", "currency": "USD"}},
        headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert rest.status_code == 201
    await service.recorder.wait_for(order.order_id, "PaymentRefunded", count=2)
    refunds = service.recorder.of(order.order_id, PaymentRefunded)
    assert [r.amount.amount for r in refunds] == [Decimal("10.00"), Decimal("26.00")]
    # The policy's refund after a return finds nothing left: RefundFailed, so the order closes.
    await service.publish(sample(ParcelReturnedToSender, order_id=order.order_id))
    await service.recorder.wait_for(order.order_id, "RefundFailed")
    (failed,) = service.recorder.of(order.order_id, RefundFailed)
    assert (failed.reason, failed.failure) == ("parcel_returned", "exceeds_captured")
    after = await service.payment_of(order.order_id)
    assert after["status"] == "refunded"
    assert all(v == 0 for v in (await _ledger_balances(service, payment["id"])).values())


async def test_a_refund_the_provider_refuses_is_recorded_as_failed(
    service: Any, placed: Any
) -> None:
    order, payment = await _settled(service, placed, token="tok_refund_fail")
    answer = await service.client.post(
        f"/v1/payments/{payment['id']}/refunds",
        json={"amount": {"amount": "5.00", "currency": "USD"}},
        headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 201
    assert (answer.json()["status"], answer.json()["failure"]) == ("failed", "provider_error")
    await service.publish(sample(ParcelConfiscated, order_id=order.order_id))
    await service.recorder.wait_for(order.order_id, "RefundFailed", count=2)
    failures = service.recorder.of(order.order_id, RefundFailed)
    assert [(f.reason, f.failure) for f in failures] == [
        ("goodwill", "provider_error"),
        ("parcel_confiscated", "provider_error"),
    ]
    after = await service.payment_of(order.order_id)
    assert (after["status"], after["refunded"]["amount"]) == ("settled", "0.00")


async def test_refunds_of_failed_or_foreign_payments_are_refused(service: Any, placed: Any) -> None:
    order = placed(token="tok_decline")
    await service.publish(order)
    await service.recorder.wait_for(order.order_id, "PaymentFailed")
    payment = await service.payment_of(order.order_id)
    url = f"/v1/payments/{payment['id']}/refunds"
    body = {"amount": {"amount": "1.00", "currency": "USD"}}
    not_captured = await service.client.post(
        url, json=body, headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert not_captured.status_code == 409
    assert not_captured.json()["type"].endswith("payment-not-captured")
    _other, other_payment = await _settled(service, placed, merchant="merchant-hk-002")
    foreign = await service.client.post(
        f"/v1/payments/{other_payment['id']}/refunds",
        json=body,
        headers={**service.storefront, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert foreign.status_code == 404
    assert (
        await service.client.get(f"/v1/payments/{other_payment['id']}", headers=service.storefront)
    ).status_code == 404


async def test_a_refund_retried_after_its_transaction_failed_is_paid_once_at_the_provider(
    service: Any, placed: Any
) -> None:
    """The provider refunded, then the transaction was lost; the client retries with its key."""
    order, payment = await _settled(service, placed)
    svc = service.app.state.payment_services
    cards = svc.providers.for_method("card")
    assert isinstance(cards, SandboxCardProvider)
    key = uuid.uuid4().hex
    scope = "merchant:merchant-shenzhen-001"  # the storefront key's idempotency scope
    async with service.app.state.unit_of_work() as uow:
        lost = await request_refund(
            uow,
            svc,
            payment_id=uuid.UUID(payment["id"]),
            merchant_id="merchant-shenzhen-001",
            amount=Decimal("4.00"),
            currency="USD",
            reason="goodwill",
            idempotency_scope=scope,
            idempotency_key=key,
        )
        # no commit: rolled back, as when the database goes away before COMMIT
    assert len(cards.refunds_of(lost.payment_id)) == 1
    assert (await service.payment_of(order.order_id))["refunds"] == []
    retried = await service.client.post(
        f"/v1/payments/{payment['id']}/refunds",
        json={"amount": {"amount": "4.00", "currency": "USD"}, "reason": "goodwill"},
        headers={**service.storefront, "Idempotency-Key": key},
    )
    assert retried.status_code == 201, retried.text
    made = retried.json()
    assert made["id"] == str(lost.id)
    assert made["id"] == str(idempotency.api_refund_id(lost.payment_id, scope=scope, key=key))
    (paid,) = cards.refunds_of(lost.payment_id)
    assert (paid.refund_id, paid.amount) == (lost.id, Decimal("4.00"))
    await service.recorder.wait_for(order.order_id, "PaymentRefunded")
    (refunded,) = service.recorder.of(order.order_id, PaymentRefunded)
    assert str(refunded.refund_id) == made["id"]
    after = await service.payment_of(order.order_id)
    assert after["refundable"]["amount"] == "32.00"
