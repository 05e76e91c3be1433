"""order-svc's HTTP surface and consumers: what the app factory serves."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from order_svc.adapters.tables import inbox, outbox
from order_svc.adapters.webhooks import WEBHOOK_EVENT_TYPES
from order_svc.config import SERVICE_NAME, Settings
from order_svc.domain.errors import CancelNotAllowed, OrderNotFound
from order_svc.entrypoints.api.routes import router
from order_svc.entrypoints.consumers import order_consumer
from order_svc.service_layer.ports import TransitionMetrics
from xborder_platform.app import ServiceSpec
from xborder_platform.http.problems import ProblemType
from xborder_platform.webhooks import WebhookSender, webhook_router

#: How the domain's refusals are answered.
PROBLEMS: dict[type[Exception], ProblemType] = {
    OrderNotFound: ProblemType(404, "order-not-found", "Order not found"),
    CancelNotAllowed: ProblemType(
        409, "order-not-cancellable", "The order can no longer be cancelled"
    ),
}


@asynccontextmanager
async def webhook_sender(app: FastAPI) -> AsyncIterator[None]:
    """Deliver the queued webhooks wherever the relay and the consumers run."""
    settings: Settings = app.state.settings
    app.state.webhook_settings = settings.webhooks
    sender = None
    if app.state.runs_background:
        sender = WebhookSender(
            app.state.engine,
            settings=settings.webhooks,
            metrics=app.state.webhook_metrics,
        )
        sender.start()
    try:
        yield
    finally:
        if sender is not None:
            await sender.stop()


def service_spec(metrics: TransitionMetrics) -> ServiceSpec:
    """order-svc as the platform runs it; `metrics` counts what the state machine does."""
    return ServiceSpec(
        name=SERVICE_NAME,
        title="xborder Orders",
        description=(
            "The storefront's order API and the order's state machine across the whole "
            "lifecycle. Authenticate with an API key (`Authorization: Bearer <key>` or "
            "`X-API-Key`); errors are RFC 9457 problem documents."
        ),
        routers=[router, webhook_router(event_types=WEBHOOK_EVENT_TYPES)],
        lifespan=webhook_sender,
        problems=PROBLEMS,
        outbox=outbox,
        inbox=inbox,
        consumers=[order_consumer(metrics)],
    )
