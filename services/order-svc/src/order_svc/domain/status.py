"""The order's statuses and the groups of them the rules speak of."""

from enum import StrEnum
from typing import Final


class OrderStatus(StrEnum):
    """Where an order is in its lifecycle. The value is what the API and the database show."""

    PLACED = "placed"
    PAYMENT_ACTION_REQUIRED = "payment_action_required"
    PAYMENT_AUTHORIZED = "payment_authorized"
    #: Payment settled; the customs pre-check has not answered yet.
    AWAITING_PRECHECK = "awaiting_precheck"
    #: Customs pre-check passed; the payment has not settled yet.
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    HELD_AT_EXPORT = "held_at_export"
    EXPORT_CLEARED = "export_cleared"
    IN_TRANSIT = "in_transit"
    AT_DESTINATION = "at_destination"
    HELD_AT_IMPORT = "held_at_import"
    RELEASED = "released"
    OUT_FOR_DELIVERY = "out_for_delivery"
    #: Delivered; OrderCompleted was emitted. Closed.
    COMPLETED = "completed"
    #: Customs ordered the parcel back to the merchant.
    RETURNING = "returning"
    #: The parcel is back with the merchant; waiting for the refund's outcome.
    PARCEL_RETURNED = "parcel_returned"
    #: Closed as returned (OrderReturned emitted).
    RETURNED = "returned"
    #: Customs seized the parcel; waiting for the refund's outcome.
    PARCEL_CONFISCATED = "parcel_confiscated"
    #: Closed as confiscated (OrderConfiscated emitted).
    CONFISCATED = "confiscated"
    CANCELLED = "cancelled"
    #: Cancelled, and the captured money went back to the buyer.
    REFUNDED = "refunded"


S = OrderStatus

#: Before both the payment and the customs pre-check succeeded.
BEFORE_CONFIRMATION: Final = frozenset(
    {
        S.PLACED,
        S.PAYMENT_ACTION_REQUIRED,
        S.PAYMENT_AUTHORIZED,
        S.AWAITING_PRECHECK,
        S.AWAITING_PAYMENT,
    }
)
#: While the buyer or the merchant may still cancel: until the carrier takes the parcel.
CANCELLABLE: Final = BEFORE_CONFIRMATION | {S.CONFIRMED}
#: The parcel's way to the buyer, in order. Each status may be skipped: carriers and customs
#: report on different topics, and a scan may be missing or arrive after a later one.
JOURNEY: Final = (
    S.CONFIRMED,
    S.SHIPPED,
    S.HELD_AT_EXPORT,
    S.EXPORT_CLEARED,
    S.IN_TRANSIT,
    S.AT_DESTINATION,
    S.HELD_AT_IMPORT,
    S.RELEASED,
    S.OUT_FOR_DELIVERY,
)
#: Statuses after the carrier took the parcel (it can no longer be cancelled).
DISPATCHED: Final = frozenset(JOURNEY[1:]) | {S.RETURNING, S.PARCEL_RETURNED, S.PARCEL_CONFISCATED}
#: Closed: nothing moves an order out of these.
CLOSED: Final = frozenset({S.COMPLETED, S.RETURNED, S.CONFISCATED, S.REFUNDED})


def journey_before(status: OrderStatus) -> frozenset[OrderStatus]:
    """The journey's statuses earlier than `status` (every journey status for COMPLETED)."""
    if status not in JOURNEY:
        return frozenset(JOURNEY)
    return frozenset(JOURNEY[: JOURNEY.index(status)])
