"""The one interface every payment method adapter implements.

Calls are idempotent per payment (and per refund id): the consumer that calls them may run a
handler again after a failure, and a provider must not charge twice. The payment's id is the
idempotency key of authorize, capture and void, the refund id that of a refund; both are derived
from what asked for the call (`domain.idempotency`), so a retry reaches the provider under the
same key, and a provider answers a known key with its first answer. The connection is the
caller's transaction, for adapters that record what they will do later (the sandbox's
simulated buyer) together with the payment's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.domain.payment import Payment
from payment_svc.domain.provider import AuthorizeOutcome, CaptureOutcome, RefundOutcome


class PaymentProvider(Protocol):
    """Authorize, capture, void and refund through one payment method's provider."""

    async def authorize(
        self, conn: AsyncConnection, payment: Payment, *, at: datetime
    ) -> AuthorizeOutcome:
        """Ask for the payment's amount: approved, declined, or waiting for the buyer."""
        ...

    async def capture(
        self, conn: AsyncConnection, payment: Payment, *, at: datetime
    ) -> CaptureOutcome:
        """Capture the authorized amount."""
        ...

    async def void(self, conn: AsyncConnection, payment: Payment, *, at: datetime) -> None:
        """Release an authorization (or abandon a pending approval)."""
        ...

    async def refund(
        self,
        conn: AsyncConnection,
        payment: Payment,
        *,
        refund_id: UUID,
        amount: Decimal,
        at: datetime,
    ) -> RefundOutcome:
        """Pay `amount` back to the buyer, once per `refund_id` (the idempotency key)."""
        ...


class UnknownMethod(LookupError):
    """No adapter serves a payment method."""


class ProviderRegistry:
    """The adapter of each payment method."""

    def __init__(self, adapters: Mapping[str, PaymentProvider]) -> None:
        self._adapters = dict(adapters)

    def for_method(self, method: str) -> PaymentProvider:
        """The adapter serving `method`."""
        try:
            return self._adapters[method]
        except KeyError:
            raise UnknownMethod(f"no adapter for the payment method {method}") from None
