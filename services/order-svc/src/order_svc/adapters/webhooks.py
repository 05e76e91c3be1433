"""Webhook notifications to merchants: delivery rows queued in the order's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from order_svc.domain.model import Order
from order_svc.domain.status import OrderStatus
from xborder_platform.webhooks import enqueue_deliveries

#: A status change is announced as `order.<status>`, e.g. `order.confirmed`.
STATUS_EVENT_TYPES = tuple(f"order.{status.value}" for status in OrderStatus)
#: Customs holds the parcel and asks for documents by a date.
CUSTOMS_HOLD = "order.customs_hold"
#: Every event type a webhook endpoint may subscribe to.
WEBHOOK_EVENT_TYPES = (*STATUS_EVENT_TYPES, CUSTOMS_HOLD)


def _delivery_id(cause: uuid.UUID, what: str) -> uuid.UUID:
    """One stable id per announcement, so a redelivered cause cannot queue it twice."""
    return uuid.uuid5(cause, what)


class WebhookNotifier:
    """The `Notifier` port on the order's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def status_changed(
        self,
        order: Order,
        *,
        status: OrderStatus,
        previous: OrderStatus | None,
        cause: uuid.UUID,
        at: datetime,
    ) -> None:
        """Queue `order.<status>` for the merchant's endpoints that want it."""
        await enqueue_deliveries(
            self._conn,
            merchant_id=order.merchant_id,
            order_id=str(order.id),
            event_type=f"order.{status.value}",
            event_id=_delivery_id(cause, f"status:{status.value}"),
            payload={
                "order_id": str(order.id),
                "merchant_order_ref": order.merchant_order_ref,
                "status": status.value,
                "previous_status": previous.value if previous else None,
                "changed_at": at.isoformat(),
            },
        )

    async def customs_hold(
        self, order: Order, hold: Mapping[str, Any], *, cause: uuid.UUID
    ) -> None:
        """Queue `order.customs_hold` with the reason, required documents and respond-by."""
        await enqueue_deliveries(
            self._conn,
            merchant_id=order.merchant_id,
            order_id=str(order.id),
            event_type=CUSTOMS_HOLD,
            event_id=_delivery_id(cause, CUSTOMS_HOLD),
            payload={
                "order_id": str(order.id),
                "merchant_order_ref": order.merchant_order_ref,
                **hold,
            },
        )
