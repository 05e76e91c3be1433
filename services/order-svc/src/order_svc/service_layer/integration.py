"""The one place public events meet the domain: events become facts, decisions become events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Final
from uuid import UUID

from order_svc.domain.facts import Fact, Trigger
from order_svc.domain.machine import (
    Cancel,
    CloseConfiscated,
    CloseReturned,
    Complete,
    Confirm,
    Decision,
)
from order_svc.domain.model import Order
from order_svc.domain.money import quantize
from xborder_events import Event, Money
from xborder_events.customs import (
    CustomsDocumentsSubmitted,
    CustomsPrecheckFailed,
    CustomsPrecheckPassed,
    ExportCleared,
    ParcelConfiscated,
    ParcelHeldAtCustoms,
    ParcelReleased,
    ParcelReturnOrdered,
)
from xborder_events.orders import (
    Address,
    OrderCancelled,
    OrderCompleted,
    OrderConfirmed,
    OrderConfiscated,
    OrderItem,
    OrderPlaced,
    OrderReturned,
    OrderTotals,
    PaymentInstruction,
)
from xborder_events.payments import (
    PaymentActionRequired,
    PaymentAuthorized,
    PaymentFailed,
    PaymentRefunded,
    PaymentSettled,
    RefundFailed,
)
from xborder_events.shipping import (
    DeliveryEstimateRevised,
    ParcelArrivedAtDestination,
    ParcelDelivered,
    ParcelDeliveryFailed,
    ParcelDispatched,
    ParcelInTransit,
    ParcelOutForDelivery,
    ParcelReturnedToSender,
    ShipmentCancelled,
    ShipmentCreated,
)

T = Trigger
ToFact = Callable[[Event, Order], Fact | None]

#: The field each event states its own time in.
_TIME_FIELDS: Final = (
    "occurred_at", "settled_at", "authorized_at", "failed_at", "refunded_at", "required_at",
    "created_at", "revised_at", "cancelled_at", "checked_at", "cleared_at", "released_at",
    "held_at", "submitted_at", "ordered_at", "confiscated_at",
)  # fmt: skip


def occurred_at(event: Event) -> datetime:
    """When the event says it happened."""
    for name in _TIME_FIELDS:
        value = getattr(event, name, None)
        if isinstance(value, datetime):
            return value
    raise ValueError(f"{type(event).__name__} states no time")


def _simple(trigger: Trigger) -> ToFact:
    def fact(event: Event, order: Order) -> Fact:
        return Fact(trigger=trigger, at=occurred_at(event))

    return fact


def _informational(event: Event, order: Order) -> None:
    return None


def _payment(trigger: Trigger) -> ToFact:
    def fact(event: Event, order: Order) -> Fact:
        payment_id = getattr(event, "payment_id", None)
        return Fact(trigger=trigger, at=occurred_at(event), payment_id=str(payment_id))

    return fact


def _payment_failed(event: Event, order: Order) -> Fact:
    assert isinstance(event, PaymentFailed)
    detail = f"{event.reason.replace('_', ' ')} at {event.stage}"
    if event.detail:
        detail = f"{detail}: {event.detail}"
    return Fact(trigger=T.PAYMENT_FAILED, at=event.failed_at, detail=detail[:2000])


def _refund(event: Event, order: Order) -> Fact | None:
    assert isinstance(event, PaymentRefunded | RefundFailed)
    if event.reason == "goodwill":
        return None  # a gesture on the side: it neither closes nor reopens anything
    if isinstance(event, RefundFailed):
        return Fact(trigger=T.REFUND_FAILED, at=event.failed_at, detail=event.failure)
    amount = event.amount.amount if event.amount.currency == order.currency else None
    return Fact(
        trigger=T.REFUNDED, at=event.refunded_at, refund_id=str(event.refund_id), amount=amount
    )


def _shipment_cancelled(event: Event, order: Order) -> Fact | None:
    assert isinstance(event, ShipmentCancelled)
    if event.reason == "carrier_rejected":  # no service of the lane can carry the parcel
        return Fact(trigger=T.CARRIER_REJECTED, at=event.cancelled_at, detail="no carrier")
    if event.reason == "merchant_request":  # the merchant cancelled the booking itself
        return Fact(
            trigger=T.CANCEL_REQUESTED,
            at=event.cancelled_at,
            reason="merchant_request",
            detail="the shipment was cancelled at shipping-svc",
        )
    return None  # order_cancelled: the echo of our own cancellation


def _precheck_failed(event: Event, order: Order) -> Fact:
    assert isinstance(event, CustomsPrecheckFailed)
    detail = "; ".join(f"{r.code}: {r.message}" for r in event.reasons)
    return Fact(trigger=T.PRECHECK_FAILED, at=event.checked_at, detail=detail[:2000])


def _released(event: Event, order: Order) -> Fact:
    assert isinstance(event, ParcelReleased)
    # A release by the origin's customs ends an export hold: the parcel may leave.
    at_export = event.country == order.ship_from_country != order.ship_to.country
    return Fact(trigger=T.EXPORT_CLEARED if at_export else T.RELEASED, at=event.released_at)


def _held(event: Event, order: Order) -> Fact:
    assert isinstance(event, ParcelHeldAtCustoms)
    trigger = T.EXPORT_HELD if event.checkpoint == "export" else T.IMPORT_HELD
    return Fact(trigger=trigger, at=event.held_at, reason=event.reason, detail=event.detail)


def _return_ordered(event: Event, order: Order) -> Fact:
    assert isinstance(event, ParcelReturnOrdered)
    return Fact(trigger=T.RETURN_ORDERED, at=event.ordered_at, reason=event.reason)


def _confiscated(event: Event, order: Order) -> Fact:
    assert isinstance(event, ParcelConfiscated)
    detail = event.detail or f"{event.reason.replace('_', ' ')} ({event.checkpoint})"
    return Fact(trigger=T.CONFISCATED, at=event.confiscated_at, detail=detail)


#: Every event order-svc consumes and the fact it states (None: timeline and view only).
FACTS: Final[dict[type[Event], ToFact]] = {
    PaymentActionRequired: _simple(T.PAYMENT_ACTION_REQUIRED),
    PaymentAuthorized: _payment(T.PAYMENT_AUTHORIZED),
    PaymentSettled: _payment(T.PAYMENT_SETTLED),
    PaymentFailed: _payment_failed,
    PaymentRefunded: _refund,
    RefundFailed: _refund,
    ShipmentCreated: _informational,
    ParcelDispatched: _simple(T.DISPATCHED),
    ParcelInTransit: _simple(T.IN_TRANSIT),
    ParcelArrivedAtDestination: _simple(T.ARRIVED),
    ParcelOutForDelivery: _simple(T.OUT_FOR_DELIVERY),
    ParcelDelivered: _simple(T.DELIVERED),
    ParcelDeliveryFailed: _informational,
    ParcelReturnedToSender: _simple(T.RETURNED_TO_SENDER),
    DeliveryEstimateRevised: _informational,
    ShipmentCancelled: _shipment_cancelled,
    CustomsPrecheckPassed: _simple(T.PRECHECK_PASSED),
    CustomsPrecheckFailed: _precheck_failed,
    ExportCleared: _simple(T.EXPORT_CLEARED),
    ParcelReleased: _released,
    ParcelHeldAtCustoms: _held,
    CustomsDocumentsSubmitted: _informational,
    ParcelReturnOrdered: _return_ordered,
    ParcelConfiscated: _confiscated,
}


def fact_for(event: Event, order: Order) -> Fact | None:
    """The fact `event` states about `order`, or None when it only informs."""
    return FACTS[type(event)](event, order)


def _refund_money(amount: Decimal | None, order: Order) -> Money | None:
    if amount is None:
        return None
    return Money(amount=quantize(amount, order.currency), currency=order.currency)


def event_for(decision: Decision, order: Order, *, now: datetime) -> Event:
    """The public event announcing a decision of the state machine."""
    match decision:
        case Confirm(payment_id=payment_id):
            return OrderConfirmed(
                order_id=order.id,
                confirmed_at=now,
                payment_id=UUID(payment_id),
                shipping_quote_id=order.shipping_quote_id,
            )
        case Cancel(reason=reason, detail=detail):
            return OrderCancelled(order_id=order.id, reason=reason, detail=detail, cancelled_at=now)
        case Complete(delivered_at=delivered_at):
            return OrderCompleted(order_id=order.id, delivered_at=delivered_at, completed_at=now)
        case CloseReturned(reason=reason, refunded=refunded, returned_at=returned_at):
            return OrderReturned(
                order_id=order.id,
                reason=reason,
                refund_amount=_refund_money(refunded, order),
                returned_at=returned_at,
            )
        case CloseConfiscated(detail=detail, refunded=refunded, confiscated_at=at):
            return OrderConfiscated(
                order_id=order.id,
                detail=detail,
                refund_amount=_refund_money(refunded, order),
                confiscated_at=at,
            )
    raise AssertionError(f"no event for {decision!r}")


def _money(amount: Decimal, order: Order) -> Money:
    return Money(amount=amount, currency=order.currency)


def order_placed(order: Order, *, payment_token: str) -> OrderPlaced:
    """The OrderPlaced that opens `order`'s lifecycle.

    Of the buyer's personal data it carries only what downstream services need: the ship-to
    address with a phone for the carrier, and the tax id for customs. The email stays here.
    """
    to, t = order.ship_to, order.totals
    return OrderPlaced(
        order_id=order.id,
        merchant_id=order.merchant_id,
        merchant_order_ref=order.merchant_order_ref,
        placed_at=order.created_at,
        buyer_country=order.buyer.country,
        ship_from_country=order.ship_from_country,
        ship_to_country=to.country,
        ship_to=Address(
            name=to.name,
            line1=to.line1,
            line2=to.line2,
            city=to.city,
            region=to.region,
            postal_code=to.postal_code,
            country=to.country,
            phone=to.phone or order.buyer.phone,
        ),
        currency=order.currency,
        incoterm=order.incoterm,
        items=tuple(
            OrderItem(
                sku=line.sku,
                description=line.title,
                hs_code=line.hs_code,
                origin_country=line.origin_country,
                quantity=line.quantity,
                unit_price=_money(line.unit_price, order),
                weight_grams=line.weight_grams,
            )
            for line in order.lines
        ),
        totals=OrderTotals(
            items=_money(t.goods, order),
            shipping=_money(t.shipping, order),
            duties_and_taxes=None
            if t.duties_and_taxes is None
            else _money(t.duties_and_taxes, order),
            grand_total=_money(t.grand_total, order),
        ),
        payment=PaymentInstruction(
            method=order.payment_method,
            provider=order.payment_provider,
            provider_token=payment_token,
        ),
        shipping_quote_id=order.shipping_quote_id,
        landed_cost_quote_id=order.landed_cost_quote_id,
        buyer_tax_id=order.buyer.tax_id,
    )
