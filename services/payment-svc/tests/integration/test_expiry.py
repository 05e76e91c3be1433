"""Payments that wait too long fail as expired, by themselves: an abandoned redirect or
step-up, and a bank wire that arrived only in part (whose funds go back to the payer)."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from xborder_events.payments import PaymentFailed

pytestmark = pytest.mark.integration

#: A redirect waits 1 s; a wire about 4.3 s (0.00005 days).
SETTINGS = {"action_expiry_s": 1, "bank_wire_expiry_days": 0.00005}


@pytest.mark.parametrize(
    ("method", "token"), [("paypal", "tok_abandon"), ("card", "tok_3ds_abandon")]
)
async def test_a_buyer_who_never_comes_back_expires_the_payment(
    service: Any, placed: Any, method: str, token: str
) -> None:
    order = placed(method=method, token=token)
    await service.publish(order)
    names = await service.recorder.wait_for(order.order_id, "PaymentFailed", timeout=15)
    assert names == ["PaymentActionRequired", "PaymentFailed"]
    (failed,) = service.recorder.of(order.order_id, PaymentFailed)
    assert (failed.stage, failed.reason) == ("authorization", "expired")


async def test_a_wire_paid_in_part_expires_and_its_funds_go_back(service: Any, placed: Any) -> None:
    order = placed(method="bank_wire")
    await service.publish(order)
    await service.recorder.wait_for(order.order_id, "PaymentActionRequired")
    payment = await service.payment_of(order.order_id)
    line = {
        "line_id": f"L-{uuid.uuid4().hex}",
        "reference": payment["action"]["payment_reference"],
        "amount": {"amount": "20.00", "currency": "USD"},
        "booked_at": datetime.now(UTC).isoformat(),
    }
    answer = await service.client.post(
        "/v1/bank-transfers/statements",
        json={"statement_id": "st-part", "lines": [line]},
        headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.json()["lines"][0]["result"] == "partial"
    await service.recorder.wait_for(order.order_id, "PaymentFailed", timeout=15)
    (failed,) = service.recorder.of(order.order_id, PaymentFailed)
    assert failed.reason == "expired"
    returns = await service.client.get(
        "/v1/ledger/accounts/payer_returns", headers=service.operator
    )
    assert [e["amount"] for e in returns.json()["entries"] if e["payment_id"] == payment["id"]] == [
        "20.00"
    ]
    after = await service.payment_of(order.order_id)
    assert (after["status"], after["failure"]["reason"]) == ("failed", "expired")
