"""The sandbox network's delivery of its simulated buyers' webhooks, signed with the
provider's secret and received through the same code as a real provider's delivery."""

from __future__ import annotations

import json
from datetime import datetime

import structlog
from sqlalchemy import select, update

from payment_svc.adapters.tables import sandbox_webhooks
from payment_svc.domain import signing
from payment_svc.service_layer.context import Services, Tx
from payment_svc.service_layer.webhooks import InvalidNotice, WebhookRejected, receive_webhook

log = structlog.get_logger(__name__)
_T = sandbox_webhooks


async def deliver_next(tx: Tx, svc: Services, *, now: datetime) -> bool:
    """Deliver the next due webhook, if any (False: none is due)."""
    row = (
        await tx.conn.execute(
            select(_T)
            .where(_T.c.sent_at.is_(None), _T.c.due_at <= now)
            .order_by(_T.c.due_at, _T.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).one_or_none()
    if row is None:
        return False
    body = json.dumps(row.payload, separators=(",", ":")).encode()
    header = signing.sign(svc.webhook_secret(row.provider), body, timestamp=int(now.timestamp()))
    try:
        result = await receive_webhook(
            tx, svc, provider=row.provider, body=body, signature=header, now=now
        )
        log.info(
            "sandbox webhook delivered",
            provider=row.provider,
            type=row.payload.get("type"),
            status=result.status,
        )
    except (WebhookRejected, InvalidNotice) as exc:
        log.error("sandbox webhook refused", provider=row.provider, error=str(exc))
    await tx.conn.execute(update(_T).where(_T.c.id == row.id).values(sent_at=now))
    return True


async def give_up(tx: Tx, *, now: datetime) -> None:
    """Mark the next due webhook sent without delivering it (it kept failing)."""
    row_id = await tx.conn.scalar(
        select(_T.c.id)
        .where(_T.c.sent_at.is_(None), _T.c.due_at <= now)
        .order_by(_T.c.due_at, _T.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if row_id is not None:
        await tx.conn.execute(update(_T).where(_T.c.id == row_id).values(sent_at=now))
