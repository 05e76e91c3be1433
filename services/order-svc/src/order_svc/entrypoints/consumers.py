"""order-svc's consumer group: every payment, shipping and customs event, one handler."""

from __future__ import annotations

from datetime import UTC, datetime

from order_svc.adapters.repository import SqlOrderRepository
from order_svc.adapters.webhooks import WebhookNotifier
from order_svc.service_layer.handlers import handle_event
from order_svc.service_layer.integration import FACTS
from order_svc.service_layer.ports import TransitionMetrics
from xborder_events import CUSTOMS, PAYMENTS, SHIPPING
from xborder_platform.messaging.consumer import ConsumerSpec, Handler, HandlerContext

GROUP = "order-svc"


def order_consumer(metrics: TransitionMetrics) -> ConsumerSpec:
    """The consumer group of order-svc: every event in `integration.FACTS`."""

    async def handle(ctx: HandlerContext) -> None:
        await handle_event(
            ctx.envelope,
            ctx.event,
            orders=SqlOrderRepository(ctx.conn),
            emit=ctx.emit,
            metrics=metrics,
            now=datetime.now(UTC),
            notify=WebhookNotifier(ctx.conn),
        )

    handler: Handler = handle
    return ConsumerSpec(
        group=GROUP,
        topics=[PAYMENTS, SHIPPING, CUSTOMS],
        handlers={event.event_type(): handler for event in FACTS},
    )
