"""Payments that waited too long: a redirect or step-up nobody completed, a wire that never
(fully) arrived. They fail as expired; wired funds received in part go back to the payer."""

from __future__ import annotations

from datetime import datetime

from payment_svc.domain.payment import Failure
from payment_svc.service_layer.charging import fail
from payment_svc.service_layer.context import Services, Tx


async def expire_due(tx: Tx, svc: Services, *, now: datetime, limit: int = 100) -> int:
    """Fail every payment past its expiry (up to `limit`); returns how many."""
    due = await svc.stores.payments(tx.conn).due_for_expiry(now, limit=limit)
    for payment in due:
        waited = "the funds" if payment.method == "bank_wire" else "the buyer"
        failure = Failure(
            stage="authorization",
            reason="expired",
            code="expired",
            detail=f"{waited} did not arrive before the payment expired",
        )
        await fail(tx, svc, payment, failure, at=now)
    return len(due)
