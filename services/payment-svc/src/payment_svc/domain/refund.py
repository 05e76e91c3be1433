"""A refund as it was made (or failed), with the FX snapshot that priced the merchant's cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from payment_svc.domain.fx import FxQuote

RefundFailure = Literal["provider_error", "exceeds_captured", "payment_not_captured", "expired"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Refund:
    """Money paid back to the buyer (`succeeded`), or a refund that could not be made."""

    id: UUID
    payment_id: UUID
    order_id: UUID
    reason: str
    trigger: str | None
    status: Literal["succeeded", "failed"]
    currency: str
    amount: Decimal
    merchant_part: Decimal
    duties_part: Decimal
    settlement_currency: str
    requested_by: Literal["event", "api"]
    created_at: datetime
    settlement_amount: Decimal | None = None
    fx: FxQuote | None = None
    provider_reference: str | None = None
    failure: RefundFailure | None = None
    detail: str | None = None
