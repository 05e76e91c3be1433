"""payment-svc's consumer group: orders placed and cancelled, parcels returned or seized."""

from __future__ import annotations

from payment_svc.service_layer.context import Services
from payment_svc.service_layer.handlers import HANDLERS
from xborder_events import CUSTOMS, ORDERS, SHIPPING
from xborder_platform.messaging.consumer import ConsumerSpec, Handler, HandlerContext

GROUP = "payment-svc"


def payment_consumer(svc: Services) -> ConsumerSpec:
    """The consumer group of payment-svc: every event in `handlers.HANDLERS`."""

    async def handle(ctx: HandlerContext) -> None:
        await HANDLERS[type(ctx.event)](ctx, ctx.event, svc)

    handler: Handler = handle
    return ConsumerSpec(
        group=GROUP,
        topics=[ORDERS, SHIPPING, CUSTOMS],
        handlers={event.event_type(): handler for event in HANDLERS},
    )
