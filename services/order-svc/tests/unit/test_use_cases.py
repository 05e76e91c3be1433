"""The use cases on fakes: intake, events for unknown orders, impossible transitions, views."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from order_svc.domain.errors import CancelNotAllowed, OrderNotFound
from order_svc.domain.model import Buyer, Order, PaymentChoice
from order_svc.domain.status import OrderStatus
from order_svc.service_layer.handlers import cancel_order, handle_event, place_order
from order_svc.service_layer.integration import FACTS
from xborder_events import Event, decode, encode, envelope_for
from xborder_events.customs import EVENTS as CUSTOMS_EVENTS
from xborder_events.customs import CustomsPrecheckPassed, ParcelHeldAtCustoms, ParcelReleased
from xborder_events.orders import OrderCancelled, OrderPlaced
from xborder_events.payments import EVENTS as PAYMENT_EVENTS
from xborder_events.payments import (
    PaymentAuthorized,
    PaymentSettled,
)
from xborder_events.shipping import EVENTS as SHIPPING_EVENTS
from xborder_events.shipping import (
    ParcelDelivered,
    ParcelDispatched,
    ParcelInTransit,
    ShipmentCancelled,
)
from xborder_events.testing import ORDER_ID, sample, sample_id

from .fakes import FakeMetrics, FakeOrders, FakeOutbox, new_order, run

NOW = datetime(2025, 11, 28, 12, 0, tzinfo=UTC)


class Svc:
    def __init__(self) -> None:
        self.orders, self.outbox, self.metrics = FakeOrders(), FakeOutbox(), FakeMetrics()
        self.ports = {"orders": self.orders, "emit": self.outbox, "metrics": self.metrics}

    def place(self, **changes: object) -> None:
        new = new_order(**changes)
        run(place_order(new, now=NOW, order_id=ORDER_ID, **self.ports))  # type: ignore[arg-type]

    def handle(self, event: Event) -> object:
        envelope = envelope_for(event, source=f"xborder/{event.producer}")
        event = decode(encode(envelope)).event
        return run(handle_event(envelope, event, now=NOW, **self.ports))  # type: ignore[arg-type]

    def cancel(self) -> None:
        ports = self.ports
        run(
            cancel_order(
                ORDER_ID,
                reason="buyer_request",
                detail=None,
                authorize=lambda o: None,
                now=NOW,
                **ports,  # type: ignore[arg-type]
            )
        )

    @property
    def order(self) -> Order:
        return self.orders.orders[ORDER_ID]


def test_every_event_of_the_other_services_has_a_place_in_the_state_machine() -> None:
    assert set(FACTS) == {*PAYMENT_EVENTS, *SHIPPING_EVENTS, *CUSTOMS_EVENTS}


def test_placing_an_order_prices_it_stores_it_and_announces_it_once() -> None:
    svc = Svc()
    svc.place(
        buyer=Buyer(name="Ana", email="ana@example.com", country="BR", tax_id="123.456.789-09")
    )
    t = svc.order.totals
    assert (t.goods, t.shipping, t.duties_and_taxes, t.grand_total) == (
        Decimal("25.00"), Decimal("7.90"), Decimal("3.10"), Decimal("36.00"),
    )  # fmt: skip
    assert svc.order.status is OrderStatus.PLACED
    assert svc.outbox.names == ["OrderPlaced"]
    placed = decode(encode(svc.outbox.envelopes[0])).event
    assert isinstance(placed, OrderPlaced)
    assert placed.totals.grand_total.amount == Decimal("36.00")
    assert placed.buyer_tax_id == "123.456.789-09"
    assert placed.payment.provider_token == "tok_4f9a1c"
    assert placed.ship_to.email is None  # the buyer's email stays in order-svc
    assert [(e.name, e.source, e.outcome) for e in svc.orders.timeline] == [
        ("OrderPlaced", "order-svc", "emitted")
    ]


def test_a_dap_order_charges_no_duties_and_a_wire_gets_a_transfer_reference() -> None:
    svc = Svc()
    svc.place(incoterm="DAP", payment=PaymentChoice(method="bank_wire", provider="bank_wire"))
    assert svc.order.totals.duties_and_taxes is None
    assert svc.order.totals.grand_total == Decimal("32.90")
    placed = decode(encode(svc.outbox.envelopes[0])).event
    assert isinstance(placed, OrderPlaced)
    reference = f"XB-{ORDER_ID.hex[:12].upper()}"
    assert placed.payment.provider_token == reference
    assert svc.order.info["payment"]["transfer_reference"] == reference


def test_an_event_for_an_unknown_order_is_counted_not_raised() -> None:
    svc = Svc()
    assert svc.handle(sample(PaymentSettled)) is None
    assert svc.metrics.unknown == ["xborder.PaymentSettled.v1"]


def test_an_impossible_transition_is_logged_counted_and_still_on_the_timeline() -> None:
    svc = Svc()
    svc.place()
    svc.cancel()
    svc.handle(sample(ParcelDelivered))
    assert svc.order.status is OrderStatus.CANCELLED
    assert svc.metrics.impossibles == [("xborder.ParcelDelivered.v1", OrderStatus.CANCELLED)]
    assert [(e.name, e.outcome) for e in svc.orders.timeline][-1] == (
        "ParcelDelivered",
        "impossible",
    )


def test_cancel_after_dispatch_is_refused_and_changes_nothing() -> None:
    svc = Svc()
    svc.place()
    for event in (sample(PaymentSettled), sample(CustomsPrecheckPassed), sample(ParcelDispatched)):
        svc.handle(event)
    assert svc.order.status is OrderStatus.SHIPPED
    emitted = list(svc.outbox.names)
    with pytest.raises(CancelNotAllowed):
        svc.cancel()
    assert svc.outbox.names == emitted


def test_cancelling_an_unknown_order() -> None:
    with pytest.raises(OrderNotFound):
        Svc().cancel()


def test_the_view_keeps_the_latest_facts_whatever_the_order_of_arrival() -> None:
    svc = Svc()
    svc.place()
    svc.handle(sample(PaymentSettled))
    svc.handle(sample(PaymentAuthorized))  # late: must not hide the settlement
    payment = svc.order.info["payment"]
    assert payment["status"] == "settled"
    assert payment["settlement_amount"] == {"amount": "256.44", "currency": "CNY"}
    later = sample(ParcelInTransit, occurred_at=datetime(2025, 12, 1, tzinfo=UTC))
    svc.handle(later)
    svc.handle(sample(ParcelDispatched))  # an older scan arrives after a newer one
    assert svc.order.info["shipment"]["last_event"]["type"] == "ParcelInTransit"
    svc.handle(sample(ParcelReleased))  # the release arrives before the hold it ends
    svc.handle(sample(ParcelHeldAtCustoms))
    customs = svc.order.info["customs"]
    assert customs["import"]["total"] == {"amount": "3.10", "currency": "USD"}
    assert [(h["hold_id"], h["status"]) for h in customs["holds"]] == [
        (str(sample_id("hold")), "released")
    ]


def test_a_booking_cancelled_by_the_merchant_cancels_the_order_before_dispatch() -> None:
    svc = Svc()
    svc.place()
    for event in (sample(PaymentSettled), sample(CustomsPrecheckPassed)):
        svc.handle(event)
    svc.handle(sample(ShipmentCancelled, reason="merchant_request"))
    assert svc.order.status is OrderStatus.CANCELLED
    cancelled = decode(encode(svc.outbox.envelopes[-1])).event
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason == "merchant_request"
    svc.handle(sample(ShipmentCancelled, reason="order_cancelled"))  # the echo: informational
    assert svc.outbox.names == ["OrderPlaced", "OrderConfirmed", "OrderCancelled"]
