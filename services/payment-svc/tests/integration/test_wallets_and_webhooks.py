"""PayPal and Alipay: a redirect, completed by the provider's signed webhook; and what the
webhook endpoint refuses (wrong signature, stale timestamp) or ignores (a replay)."""

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from payment_svc.config import DEV_WEBHOOK_SECRET
from payment_svc.domain import signing
from xborder_events.payments import PaymentActionRequired, PaymentFailed, PaymentSettled

pytestmark = pytest.mark.integration


def signed(
    body: bytes, *, at: int | None = None, secret: str = DEV_WEBHOOK_SECRET
) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {signing.HEADER: signing.sign(secret.encode(), body, timestamp=stamp)}


def notice(reference: str, type: str = "payment.approved", delivery: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": delivery or f"evt_{uuid.uuid4().hex}",
            "type": type,
            "provider_reference": reference,
            "created": "2025-11-28T09:30:00Z",
        }
    ).encode()


@pytest.mark.parametrize("method", ["paypal", "alipay"])
async def test_a_wallet_redirects_the_buyer_then_settles_on_approval(
    service: Any, placed: Any, method: str
) -> None:
    order = placed(method=method, token="buyer-account-token")
    await service.publish(order)
    names = await service.recorder.wait_for(order.order_id, "PaymentSettled")
    assert names == ["PaymentActionRequired", "PaymentAuthorized", "PaymentSettled"]
    (action,) = service.recorder.of(order.order_id, PaymentActionRequired)
    assert action.action == "redirect"
    assert action.approval_url.startswith(f"https://sandbox.pay.xborder.dev/{method}/checkout/")
    assert action.expires_at > action.required_at
    (settled,) = service.recorder.of(order.order_id, PaymentSettled)
    fees = {"paypal": Decimal("1.75"), "alipay": Decimal("1.08")}  # 3.49% + 0.49; 3.0%
    assert settled.fees.amount == fees[method]


@pytest.mark.parametrize(
    ("method", "token", "code"),
    [
        ("alipay", "tok_buyer_cancels", "buyer_cancelled"),
        ("paypal", "tok_decline", "provider_declined"),
    ],
)
async def test_a_wallet_payment_the_buyer_cancels_or_the_provider_declines_fails(
    service: Any, placed: Any, method: str, token: str, code: str
) -> None:
    order = placed(method=method, token=token)
    await service.publish(order)
    names = await service.recorder.wait_for(order.order_id, "PaymentFailed")
    assert names == ["PaymentActionRequired", "PaymentFailed"]
    (failed,) = service.recorder.of(order.order_id, PaymentFailed)
    assert (failed.stage, failed.reason, failed.provider_code) == (
        "authorization",
        "declined",
        code,
    )


async def _waiting(service: Any, placed: Any) -> tuple[Any, dict[str, Any]]:
    """A PayPal payment whose sandbox buyer never comes back: it waits for a real webhook."""
    order = placed(method="paypal", token="tok_abandon")
    await service.publish(order)
    await service.recorder.wait_for(order.order_id, "PaymentActionRequired")
    return order, await service.payment_of(order.order_id)


async def test_webhook_signature_failures_change_nothing(service: Any, placed: Any) -> None:
    order, payment = await _waiting(service, placed)
    body = notice(payment["provider_reference"])
    url = "/v1/providers/paypal/webhooks"
    cases = {
        "webhook-signature-mismatch": signed(body, secret="not-the-secret-at-all"),
        "webhook-signature-stale": signed(body, at=int(time.time()) - 3600),
        "webhook-signature-missing": {},
        "webhook-signature-malformed": {signing.HEADER: "v1=abc"},
    }
    for slug, headers in cases.items():
        answer = await service.client.post(url, content=body, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.json()["type"].endswith(slug)
    # A body altered after signing does not match either.
    tampered = body.replace(b"payment.approved", b"payment.declined")
    answer = await service.client.post(url, content=tampered, headers=signed(body))
    assert answer.status_code == 401
    await service.recorder.settle()
    assert service.recorder.names(order.order_id) == ["PaymentActionRequired"]
    assert (await service.payment_of(order.order_id))["status"] == "requires_action"


async def test_a_valid_webhook_settles_and_its_replay_is_ignored(service: Any, placed: Any) -> None:
    order, payment = await _waiting(service, placed)
    body = notice(payment["provider_reference"])
    headers = signed(body)
    first = await service.client.post(
        "/v1/providers/paypal/webhooks", content=body, headers=headers
    )
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "processed", "payment_id": payment["id"], "detail": None}
    await service.recorder.wait_for(order.order_id, "PaymentSettled")
    replay = await service.client.post(
        "/v1/providers/paypal/webhooks", content=body, headers=headers
    )
    assert replay.status_code == 200
    assert replay.json()["status"] == "duplicate"
    # Another delivery about the settled payment is ignored too.
    late = notice(payment["provider_reference"])
    ignored = await service.client.post(
        "/v1/providers/paypal/webhooks", content=late, headers=signed(late)
    )
    assert ignored.json()["status"] == "ignored"
    await service.recorder.settle()
    assert service.recorder.names(order.order_id) == [
        "PaymentActionRequired",
        "PaymentAuthorized",
        "PaymentSettled",
    ]


async def test_a_webhook_for_an_unknown_reference_or_provider_is_ignored(service: Any) -> None:
    body = notice("sbx_paypal_nothing")
    answer = await service.client.post(
        "/v1/providers/paypal/webhooks", content=body, headers=signed(body)
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored"
    other = await service.client.post(
        "/v1/providers/stripe/webhooks", content=body, headers=signed(body)
    )
    assert other.json()["status"] == "ignored"


async def test_a_signed_but_unreadable_webhook_is_refused(service: Any) -> None:
    body = b'{"id": "evt_1"}'
    answer = await service.client.post(
        "/v1/providers/paypal/webhooks", content=body, headers=signed(body)
    )
    assert answer.status_code == 422
    assert answer.json()["type"].endswith("invalid-webhook-body")
