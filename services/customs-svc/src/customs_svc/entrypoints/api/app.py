"""customs-svc's HTTP surface: what the app factory serves."""

from customs_svc.adapters.tables import inbox, outbox
from customs_svc.config import SERVICE_NAME
from xborder_platform.app import ServiceSpec

SPEC = ServiceSpec(
    name=SERVICE_NAME,
    title="xborder Customs",
    description=(
        "Landed cost, pre-screening, export and import clearance, holds and their outcomes."
    ),
    outbox=outbox,
    inbox=inbox,
)
