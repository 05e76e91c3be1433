"""payment-svc's HTTP surface: what the app factory serves."""

from payment_svc.adapters.tables import inbox, outbox
from payment_svc.config import SERVICE_NAME
from xborder_platform.app import ServiceSpec

SPEC = ServiceSpec(
    name=SERVICE_NAME,
    title="xborder Payments",
    description=(
        "Payments in the buyer's currency, settlement in the merchant's, refunds, "
        "and a double-entry ledger."
    ),
    outbox=outbox,
    inbox=inbox,
)
