"""Provider webhooks: verified (HMAC over timestamp and body, within a tolerance), recorded
once per delivery (a replay is ignored), then applied to the payment they concern."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from payment_svc.adapters import inputs_repo
from payment_svc.domain import signing
from payment_svc.domain.payment import PaymentStatus
from payment_svc.domain.provider import NOTICE_TYPES, Notice
from payment_svc.service_layer.charging import apply_authorization
from payment_svc.service_layer.context import Services, Tx


class WebhookRejected(Exception):
    """The delivery's signature is missing, malformed, stale or wrong: nothing was done."""

    def __init__(self, verdict: signing.Verdict) -> None:
        super().__init__(f"webhook signature {verdict}")
        self.verdict = verdict


class InvalidNotice(ValueError):
    """A signed delivery whose body is not a notification we can read."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=128)
    type: str = Field(min_length=1, max_length=64)
    provider_reference: str = Field(min_length=1, max_length=128)
    created: AwareDatetime


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What a delivery did."""

    status: Literal["processed", "duplicate", "ignored"]
    payment_id: UUID | None = None
    detail: str | None = None


def parse_notice(body: bytes) -> Notice:
    """The notice a delivery's body carries; `InvalidNotice` when it is unreadable."""
    try:
        parsed = _Body.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        raise InvalidNotice(f"the webhook body is not a provider notification: {exc}") from None
    return Notice(
        delivery_id=parsed.id,
        type=parsed.type,
        reference=parsed.provider_reference,
        occurred_at=parsed.created,
    )


async def receive_webhook(
    tx: Tx,
    svc: Services,
    *,
    provider: str,
    body: bytes,
    signature: str | None,
    now: datetime,
) -> WebhookResult:
    """Verify, deduplicate and apply one delivery of `provider`'s webhook."""
    verdict = signing.verify(
        (svc.webhook_secret(provider),),
        body,
        signature,
        now=int(now.timestamp()),
        tolerance_s=svc.webhook_tolerance_s,
    )
    if verdict is not signing.Verdict.VALID:
        raise WebhookRejected(verdict)
    notice = parse_notice(body)
    payment = await svc.stores.payments(tx.conn).by_provider_reference(
        provider, notice.reference, lock=True
    )
    result = _decide(notice, payment.status if payment else None)
    if payment is None:
        # Not recorded: a delivery that raced ahead of its payment can still apply on retry.
        return result
    first = await inputs_repo.record_delivery(
        tx.conn,
        provider=provider,
        delivery_id=notice.delivery_id,
        type=notice.type,
        payment_id=payment.id,
        result=result.status,
    )
    if not first:
        return WebhookResult("duplicate", payment.id, "already received")
    if result.status == "processed":
        await apply_authorization(tx, svc, payment, notice.outcome(), at=now)
        await svc.stores.payments(tx.conn).record_attempt(
            payment.id, operation="webhook", outcome=notice.type, at=now
        )
    return WebhookResult(result.status, payment.id, result.detail)


def _decide(notice: Notice, status: PaymentStatus | None) -> WebhookResult:
    if notice.type not in NOTICE_TYPES:
        return WebhookResult("ignored", detail=f"notifications of type {notice.type} are not used")
    if status is None:
        return WebhookResult("ignored", detail="no payment has this provider reference")
    if status is not PaymentStatus.REQUIRES_ACTION:
        return WebhookResult("ignored", detail=f"the payment is {status}")
    return WebhookResult("processed")
