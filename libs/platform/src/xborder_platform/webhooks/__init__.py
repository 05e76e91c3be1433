"""Outbound webhooks per merchant, in the Standard Webhooks format.

A service declares the tables (`webhook_tables`), creates them in a migration
(`create_webhook_tables_v1`), mounts the API (`webhook_router`), queues deliveries in the
transaction of each change it reports (`enqueue_deliveries`) and runs a `WebhookSender` in its
background process.
"""

from xborder_platform.webhooks.routes import webhook_router
from xborder_platform.webhooks.sender import WebhookMetrics, WebhookSender
from xborder_platform.webhooks.settings import WebhookSettings
from xborder_platform.webhooks.store import enqueue_deliveries
from xborder_platform.webhooks.tables import (
    WebhookTables,
    create_webhook_tables_v1,
    drop_webhook_tables_v1,
    webhook_tables,
)

__all__ = [
    "WebhookMetrics",
    "WebhookSender",
    "WebhookSettings",
    "WebhookTables",
    "create_webhook_tables_v1",
    "drop_webhook_tables_v1",
    "enqueue_deliveries",
    "webhook_router",
    "webhook_tables",
]
