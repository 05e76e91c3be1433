"""Topic names: one topic per producing service, and a dead-letter topic per consumer service."""

from typing import Final

ORDERS: Final = "xborder.orders.v1"
PAYMENTS: Final = "xborder.payments.v1"
SHIPPING: Final = "xborder.shipping.v1"
CUSTOMS: Final = "xborder.customs.v1"

#: The topic each service publishes its events to.
SERVICE_TOPICS: Final[dict[str, str]] = {
    "order-svc": ORDERS,
    "payment-svc": PAYMENTS,
    "shipping-svc": SHIPPING,
    "customs-svc": CUSTOMS,
}


def dead_letter_topic(service: str) -> str:
    """Return the dead-letter topic where `service` parks events it cannot process."""
    return f"xborder.{service.removesuffix('-svc')}.dlq.v1"


DEAD_LETTER_TOPICS: Final[tuple[str, ...]] = tuple(dead_letter_topic(s) for s in SERVICE_TOPICS)
ALL_TOPICS: Final[tuple[str, ...]] = (*SERVICE_TOPICS.values(), *DEAD_LETTER_TOPICS)
