"""shipping-svc's HTTP surface: what the app factory serves."""

from shipping_svc.adapters.tables import inbox, outbox
from shipping_svc.config import SERVICE_NAME
from xborder_platform.app import ServiceSpec

SPEC = ServiceSpec(
    name=SERVICE_NAME,
    title="xborder Shipping",
    description=(
        "Lanes, carriers, rates with delivery windows, shipments and normalised tracking."
    ),
    outbox=outbox,
    inbox=inbox,
)
