"""Bank wires: awaiting funds under an RF reference, matched by bank statements (exact,
partial, over-payment, unknown reference, duplicate lines)."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from payment_svc.domain import references
from xborder_events.payments import PaymentActionRequired, PaymentAuthorized, PaymentSettled

pytestmark = pytest.mark.integration


async def _awaiting(service: Any, placed: Any) -> tuple[Any, str]:
    order = placed(method="bank_wire", token="wire")
    await service.publish(order)
    await service.recorder.wait_for(order.order_id, "PaymentActionRequired")
    (action,) = service.recorder.of(order.order_id, PaymentActionRequired)
    assert action.action == "await_funds"
    assert action.amount.amount == Decimal("36.00")
    assert action.expires_at is not None
    assert references.is_valid(action.payment_reference)
    return order, action.payment_reference


async def _post(service: Any, *lines: tuple[str, str], statement: str | None = None) -> Any:
    body = {
        "statement_id": statement or f"st-{uuid.uuid4().hex[:8]}",
        "lines": [
            {
                "line_id": f"L-{uuid.uuid4().hex}",
                "reference": reference,
                "amount": {"amount": amount, "currency": "USD"},
                "booked_at": datetime.now(UTC).isoformat(),
            }
            for reference, amount in lines
        ],
    }
    answer = await service.client.post(
        "/v1/bank-transfers/statements",
        json=body,
        headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 201, answer.text
    return answer


async def test_an_exact_wire_settles_the_payment(service: Any, placed: Any) -> None:
    order, reference = await _awaiting(service, placed)
    # Payers write references their own way: spaces, lower case.
    (line,) = (await _post(service, (references.printable(reference).lower(), "36.00"))).json()[
        "lines"
    ]
    assert line["result"] == "matched"
    assert line["applied"] == {"amount": "36.00", "currency": "USD"}
    assert line["returned"] is None
    names = await service.recorder.wait_for(order.order_id, "PaymentSettled")
    assert names == ["PaymentActionRequired", "PaymentAuthorized", "PaymentSettled"]
    (authorized,) = service.recorder.of(order.order_id, PaymentAuthorized)
    assert authorized.provider_reference == reference
    (settled,) = service.recorder.of(order.order_id, PaymentSettled)
    assert settled.fees.amount == Decimal("0.09")  # 0.25% of 36.00


async def test_a_partial_wire_waits_for_the_rest(service: Any, placed: Any) -> None:
    order, reference = await _awaiting(service, placed)
    (first,) = (await _post(service, (reference, "20.00"))).json()["lines"]
    assert first["result"] == "partial"
    assert first["outstanding"] == {"amount": "16.00", "currency": "USD"}
    assert first["payment_status"] == "awaiting_funds"
    await service.recorder.wait_for(order.order_id, "PaymentActionRequired", count=2)
    second_action = service.recorder.of(order.order_id, PaymentActionRequired)[1]
    assert second_action.amount.amount == Decimal("16.00")
    payment = await service.payment_of(order.order_id)
    assert payment["action"]["amount_due"] == {"amount": "16.00", "currency": "USD"}
    (second,) = (await _post(service, (reference, "16.00"))).json()["lines"]
    assert second["result"] == "matched"
    await service.recorder.wait_for(order.order_id, "PaymentSettled")
    assert (await service.payment_of(order.order_id))["status"] == "settled"


async def test_an_over_payment_settles_and_returns_the_excess(service: Any, placed: Any) -> None:
    order, reference = await _awaiting(service, placed)
    (line,) = (await _post(service, (reference, "40.00"))).json()["lines"]
    assert line["result"] == "overpaid"
    assert line["applied"] == {"amount": "36.00", "currency": "USD"}
    assert line["returned"] == {"amount": "4.00", "currency": "USD"}
    await service.recorder.wait_for(order.order_id, "PaymentSettled")
    (settled,) = service.recorder.of(order.order_id, PaymentSettled)
    assert settled.amount.amount == Decimal("36.00")
    payment = await service.payment_of(order.order_id)
    returns = await service.client.get(
        "/v1/ledger/accounts/payer_returns", headers=service.operator
    )
    mine = [e for e in returns.json()["entries"] if e["payment_id"] == payment["id"]]
    assert [e["amount"] for e in mine] == ["4.00"]
    # A second wire for a settled payment goes back entirely.
    (again,) = (await _post(service, (reference, "36.00"))).json()["lines"]
    assert (again["result"], again["returned"]["amount"]) == ("returned", "36.00")


async def test_unknown_references_are_held_unapplied(service: Any) -> None:
    mistyped = references.make("XB0000000000")[:-1] + "Z"
    answer = await _post(service, ("RF18 NOT A REFERENCE", "12.00"), (mistyped, "5.00"))
    results = [(line["result"], line["payment_id"]) for line in answer.json()["lines"]]
    assert results == [("unknown_reference", None), ("unknown_reference", None)]
    unapplied = await service.client.get(
        "/v1/ledger/accounts/unapplied_funds", headers=service.operator
    )
    unmatched = [e["amount"] for e in unapplied.json()["entries"] if e["payment_id"] is None]
    assert {"12.00", "5.00"} <= set(unmatched)


async def test_a_line_received_twice_is_applied_once(service: Any, placed: Any) -> None:
    order, reference = await _awaiting(service, placed)
    line = {
        "line_id": f"L-{uuid.uuid4().hex}",
        "reference": reference,
        "amount": {"amount": "10.00", "currency": "USD"},
        "booked_at": datetime.now(UTC).isoformat(),
    }
    results = []
    for _ in range(2):
        answer = await service.client.post(
            "/v1/bank-transfers/statements",
            json={"statement_id": "st-dup", "lines": [line]},
            headers={**service.operator, "Idempotency-Key": uuid.uuid4().hex},
        )
        results.append(answer.json()["lines"][0]["result"])
    assert results == ["partial", "duplicate"]
    payment = await service.payment_of(order.order_id)
    assert payment["action"]["amount_due"]["amount"] == "26.00"


async def test_statements_need_an_operator_key_and_an_idempotency_key(service: Any) -> None:
    body = {
        "statement_id": "st-x",
        "lines": [
            {
                "line_id": "L-x",
                "reference": "RF00",
                "amount": {"amount": "1.00", "currency": "USD"},
                "booked_at": "2025-11-28T09:30:00Z",
            }
        ],
    }
    url = "/v1/bank-transfers/statements"
    storefront = await service.client.post(
        url, json=body, headers={**service.storefront, "Idempotency-Key": "k1"}
    )
    assert storefront.status_code == 403
    missing = await service.client.post(url, json=body, headers=service.operator)
    assert missing.status_code == 400
    body["lines"][0]["amount"]["amount"] = "0.00"
    nothing = await service.client.post(
        url, json=body, headers={**service.operator, "Idempotency-Key": "k2"}
    )
    assert nothing.status_code == 422
