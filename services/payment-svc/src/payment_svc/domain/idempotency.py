"""The ids payment-svc gives what it asks of a provider, and the idempotency keys they are.

A consumer runs a handler again when its transaction failed, and an HTTP client retries a
request whose answer it did not get. The provider may have acted the first time (a real one
has: it refunded, it authorized), so the second call must reach it under the same key, which
it answers with its first answer instead of paying or charging again. Each id is therefore a
name-based UUID (RFC 9562 version 5) of what asked for the call, never a random one:

- a payment: its order (an order has one payment), so its provider reference is stable too;
- a refund by the refund policy: its payment and trigger (a policy refund happens once per
  payment and trigger, whichever delivery of the triggering event asks for it);
- a refund over HTTP: its payment and the request's Idempotency-Key within the caller's scope
  (its merchant, or its operator key).
"""

from __future__ import annotations

from typing import Final
from uuid import UUID, uuid5

#: The namespace of every id below (a fixed, random UUID: never change it).
NAMESPACE: Final = UUID("6f0b8f8e-3c1d-4a52-9a63-2d7e5c1b9f40")


def payment_id(order_id: UUID) -> UUID:
    """The id of the order's payment."""
    return uuid5(NAMESPACE, f"payment:{order_id}")


def policy_refund_id(payment_id: UUID, trigger: str) -> UUID:
    """The id of the refund the policy grants the payment for `trigger`."""
    return uuid5(NAMESPACE, f"refund:{payment_id}:policy:{trigger}")


def api_refund_id(payment_id: UUID, *, scope: str, key: str) -> UUID:
    """The id of the refund of the payment asked for over HTTP with the Idempotency-Key `key`,
    unique within the caller's `scope`."""
    return uuid5(NAMESPACE, f"refund:{payment_id}:api:{scope}:{key}")
