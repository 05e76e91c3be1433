"""Sandbox providers: they answer like the real ones, deterministically, by test token.

Card tokens (card and international_card):
    tok_decline              declined (card_declined)
    tok_insufficient_funds   declined for insufficient funds
    tok_fraud                declined as suspected fraud
    tok_provider_error       the provider fails (processing_error)
    tok_3ds                  step-up authentication required; the buyer passes it
    tok_3ds_fail             step-up required; the buyer fails it
    tok_3ds_abandon          step-up required; the buyer never comes back (expires)
    tok_capture_fail         authorized, then the capture fails
    tok_refund_fail          settles normally; every refund is refused
    anything else            authorized and captured (tok_visa, tok_mastercard, ...)

Wallets (paypal, alipay) always redirect the buyer to an approval URL, then:
    tok_buyer_cancels        the buyer cancels at the provider
    tok_decline              the provider declines the buyer's funding source
    tok_abandon              the buyer never comes back (expires)
    tok_capture_fail, tok_refund_fail as for cards
    anything else            the buyer approves

Bank wires wait for funds under an RF payment reference (the token is not used, but
tok_refund_fail makes refunds fail); a statement line quoting the reference pays them.

Like a real provider, the sandbox keeps the idempotency keys it was called with: the payment's
id for authorizations and captures (its answers depend on nothing else), the refund id for
refunds. A refund asked again under a known id gets the first answer and pays nothing more; a
known id with another payment or amount is refused (idempotency_key_reused). The sandbox keeps
them in memory, per process, for the last `REMEMBERED_REFUNDS` refunds.

The simulated buyer answers through the provider's signed webhook: the adapter schedules the
delivery (a `sandbox_webhooks` row, in the caller's transaction) and the sandbox network posts
it through the same verification code as a real provider's webhook. With the network off (the
default in production) nothing is scheduled and the payment waits for a real webhook.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.tables import sandbox_webhooks
from payment_svc.domain import references
from payment_svc.domain.payment import Payment
from payment_svc.domain.provider import (
    ActionRequired,
    Approved,
    AuthorizeOutcome,
    Captured,
    CaptureOutcome,
    Declined,
    RefundAccepted,
    RefundOutcome,
    RefundRejected,
)

_CARD_DECLINES: dict[str, Declined] = {
    "tok_decline": Declined(reason="declined", code="card_declined"),
    "tok_insufficient_funds": Declined(reason="insufficient_funds", code="insufficient_funds"),
    "tok_fraud": Declined(reason="fraud_suspected", code="fraudulent"),
    "tok_provider_error": Declined(
        reason="provider_error", code="processing_error", detail="the provider is unavailable"
    ),
}
#: Step-up tokens and the webhook their simulated buyer sends (None: never comes back).
_STEP_UP: dict[str, str | None] = {
    "tok_3ds": "authentication.succeeded",
    "tok_3ds_fail": "authentication.failed",
    "tok_3ds_abandon": None,
}
#: Wallet tokens and the webhook their simulated buyer sends (None: never comes back).
_WALLET: dict[str, str | None] = {
    "tok_buyer_cancels": "payment.cancelled",
    "tok_decline": "payment.declined",
    "tok_abandon": None,
}


#: How many refunds' idempotency keys the sandbox remembers (the oldest are forgotten first).
REMEMBERED_REFUNDS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxRefund:
    """A refund the sandbox provider was asked for, under its idempotency key."""

    refund_id: UUID
    payment_id: UUID
    amount: Decimal
    outcome: RefundOutcome


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxConfig:
    """How the sandbox providers behave."""

    network_on: bool
    approval_delay: timedelta
    action_expiry: timedelta
    bank_wire_expiry: timedelta
    approval_base_url: str


def provider_reference(payment: Payment) -> str:
    """The provider's id of a payment: stable, so a repeated call gets the same one."""
    return f"sbx_{payment.provider}_{payment.id.hex[:20]}"


class SandboxNetwork:
    """Schedules the simulated buyers' webhooks."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config

    async def schedule(
        self, conn: AsyncConnection, payment: Payment, *, type: str | None, at: datetime
    ) -> None:
        """Deliver a `type` webhook about `payment` after the approval delay (if the network
        runs and the buyer answers at all)."""
        if type is None or not self.config.network_on:
            return
        payload = {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": type,
            "provider_reference": provider_reference(payment),
            "created": at.isoformat(),
        }
        await conn.execute(
            sandbox_webhooks.insert().values(
                provider=payment.provider, payload=payload, due_at=at + self.config.approval_delay
            )
        )


class _Sandbox:
    """What the three sandbox providers share: capture, void and refund by token."""

    def __init__(self, network: SandboxNetwork) -> None:
        self._network = network
        self._refunds: OrderedDict[UUID, SandboxRefund] = OrderedDict()
        self._payouts: deque[SandboxRefund] = deque(maxlen=REMEMBERED_REFUNDS)

    @property
    def config(self) -> SandboxConfig:
        return self._network.config

    async def capture(
        self, conn: AsyncConnection, payment: Payment, *, at: datetime
    ) -> CaptureOutcome:
        """Captured, unless the token says the capture fails."""
        if payment.provider_token == "tok_capture_fail":
            return Declined(
                reason="provider_error", code="capture_failed", detail="the capture failed"
            )
        return Captured(reference=provider_reference(payment))

    async def void(self, conn: AsyncConnection, payment: Payment, *, at: datetime) -> None:
        """Nothing is kept at the sandbox provider after a void."""

    async def refund(
        self,
        conn: AsyncConnection,
        payment: Payment,
        *,
        refund_id: UUID,
        amount: Decimal,
        at: datetime,
    ) -> RefundOutcome:
        """Refunded, unless the token says refunds fail; a known `refund_id` (the idempotency
        key) gets its first answer again."""
        known = self._refunds.get(refund_id)
        if known is not None:
            if (known.payment_id, known.amount) != (payment.id, amount):
                return RefundRejected(
                    code="idempotency_key_reused",
                    detail="this refund id was first used for another payment or amount",
                )
            return known.outcome
        outcome: RefundOutcome
        if payment.provider_token == "tok_refund_fail":
            outcome = RefundRejected(code="refund_failed", detail="the provider refused the refund")
        else:
            outcome = RefundAccepted(reference=f"re_{refund_id.hex[:20]}")
        asked = SandboxRefund(
            refund_id=refund_id, payment_id=payment.id, amount=amount, outcome=outcome
        )
        self._refunds[refund_id] = asked
        if isinstance(outcome, RefundAccepted):
            self._payouts.append(asked)
        while len(self._refunds) > REMEMBERED_REFUNDS:
            self._refunds.popitem(last=False)
        return outcome

    def refunds_of(self, payment_id: UUID) -> list[SandboxRefund]:
        """The refunds the sandbox paid out for a payment, oldest first: what a real provider
        lists on its dashboard."""
        return [r for r in self._payouts if r.payment_id == payment_id]


class SandboxCardProvider(_Sandbox):
    """Cards and international cards: provider tokens only, step-up by token."""

    async def authorize(
        self, conn: AsyncConnection, payment: Payment, *, at: datetime
    ) -> AuthorizeOutcome:
        """Approved, declined, or a step-up authentication, by token."""
        token = payment.provider_token
        if token in _CARD_DECLINES:
            return _CARD_DECLINES[token]
        reference = provider_reference(payment)
        if token in _STEP_UP:
            await self._network.schedule(conn, payment, type=_STEP_UP[token], at=at)
            return ActionRequired(
                action="authenticate",
                reference=reference,
                expires_at=at + self.config.action_expiry,
                approval_url=f"{self.config.approval_base_url}/{payment.provider}/3ds/{reference}",
            )
        return Approved(reference=reference)


class SandboxWalletProvider(_Sandbox):
    """PayPal and Alipay: the buyer approves on the provider's page, a webhook says so."""

    async def authorize(
        self, conn: AsyncConnection, payment: Payment, *, at: datetime
    ) -> AuthorizeOutcome:
        """Always a redirect; the simulated buyer answers by webhook."""
        reference = provider_reference(payment)
        answer = _WALLET.get(payment.provider_token, "payment.approved")
        await self._network.schedule(conn, payment, type=answer, at=at)
        return ActionRequired(
            action="redirect",
            reference=reference,
            expires_at=at + self.config.action_expiry,
            approval_url=f"{self.config.approval_base_url}/{payment.provider}/checkout/{reference}",
        )


class SandboxBankWireProvider(_Sandbox):
    """Bank wires: an RF reference to quote; funds arrive on a bank statement."""

    async def authorize(
        self, conn: AsyncConnection, payment: Payment, *, at: datetime
    ) -> AuthorizeOutcome:
        """Wait for funds under the payment's reference (the same on every call)."""
        reference = references.reference_for(payment.id.bytes)
        return ActionRequired(
            action="await_funds",
            reference=reference,
            payment_reference=reference,
            expires_at=at + self.config.bank_wire_expiry,
        )

    async def capture(
        self, conn: AsyncConnection, payment: Payment, *, at: datetime
    ) -> CaptureOutcome:
        """The funds are in: nothing to ask of anyone."""
        return Captured(reference=payment.provider_reference or provider_reference(payment))
