"""order-svc's HTTP surface: what the app factory serves."""

from order_svc.adapters.tables import inbox, outbox
from order_svc.config import SERVICE_NAME
from xborder_platform.app import ServiceSpec

SPEC = ServiceSpec(
    name=SERVICE_NAME,
    title="xborder Orders",
    description=(
        "The storefront's order API and the order's state machine across the whole lifecycle."
    ),
    outbox=outbox,
    inbox=inbox,
)
