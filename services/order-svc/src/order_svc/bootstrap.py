"""Composition root: the one module that wires order-svc together."""

from fastapi import FastAPI

from order_svc.adapters.metrics import PrometheusTransitionMetrics
from order_svc.config import SERVICE_NAME, Settings
from order_svc.entrypoints.api.app import service_spec
from xborder_platform.app import create_service_app
from xborder_platform.cli import ServiceCommands
from xborder_platform.http.metrics import metrics_registry
from xborder_platform.settings import BaseServiceSettings
from xborder_platform.webhooks import WebhookMetrics

MIGRATIONS = "order_svc:migrations"


def create_app(settings: BaseServiceSettings | None = None, *, worker: bool = False) -> FastAPI:
    """Build the HTTP app (or, with `worker`, the relay-and-consumers process) from validated
    settings, read from the environment when not given."""
    metrics = PrometheusTransitionMetrics()
    app = create_service_app(service_spec(metrics), settings or Settings(), worker=worker)
    metrics.register(metrics_registry(app))
    app.state.order_metrics = metrics
    app.state.webhook_metrics = WebhookMetrics(metrics_registry(app), service=SERVICE_NAME)
    return app


COMMANDS = ServiceCommands(
    name=SERVICE_NAME, load_settings=Settings, create_app=create_app, migrations=MIGRATIONS
)
