"""Whole lifecycles through the use cases with fakes: in order, and shuffled with duplicates.

Events arrive from four topics late, twice or out of order; the final status must not depend on
it, and each of order-svc's own decisions must be announced once.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from order_svc.domain.errors import CancelNotAllowed
from order_svc.domain.machine import CancelReason
from order_svc.domain.status import OrderStatus
from order_svc.service_layer.handlers import cancel_order, handle_event, place_order
from xborder_events import Envelope, Event, decode, encode, envelope_for
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
from xborder_events.testing import ORDER_ID, sample

from .fakes import FakeMetrics, FakeOrders, FakeOutbox, new_order, run

S = OrderStatus
NOW = datetime(2025, 11, 28, 12, 0, tzinfo=UTC)
OWN = {"OrderConfirmed", "OrderCancelled", "OrderCompleted", "OrderReturned", "OrderConfiscated"}


@dataclass(frozen=True)
class CancelBy:
    """A cancellation over HTTP, as one of a lifecycle's inputs."""

    reason: CancelReason


Input = Envelope | CancelBy


def ev(event_type: type[Event], **overrides: Any) -> Envelope:
    """A sample event of the lifecycle's order, in its envelope (fixed id: duplicates match)."""
    return envelope_for(sample(event_type, **overrides), source="xborder/test")


def paid() -> list[Input]:
    return [ev(PaymentAuthorized), ev(PaymentSettled), ev(CustomsPrecheckPassed)]


def to_destination() -> list[Input]:
    return [
        ev(ShipmentCreated), ev(ParcelDispatched), ev(ExportCleared), ev(ParcelInTransit),
        ev(DeliveryEstimateRevised), ev(ParcelArrivedAtDestination),
    ]  # fmt: skip


def last_mile() -> list[Input]:
    return [ev(ParcelOutForDelivery), ev(ParcelDeliveryFailed), ev(ParcelDelivered)]


EXPORT_HOLD = {"checkpoint": "export", "country": "CN"}

#: name: (inputs in the order they happen, final status, own events announced in that order)
LIFECYCLES: dict[str, tuple[list[Input], OrderStatus, list[str]]] = {
    "delivered": (
        [*paid(), *to_destination(), ev(ParcelReleased), *last_mile()],
        S.COMPLETED,
        ["OrderConfirmed", "OrderCompleted"],
    ),
    "paypal approval, then delivered": (
        [ev(PaymentActionRequired), ev(CustomsPrecheckPassed), ev(PaymentAuthorized),
         ev(PaymentSettled), *to_destination(), ev(ParcelReleased), *last_mile()],
        S.COMPLETED,
        ["OrderConfirmed", "OrderCompleted"],
    ),
    "import hold, documents, released": (
        [*paid(), *to_destination(), ev(ParcelHeldAtCustoms), ev(CustomsDocumentsSubmitted),
         ev(ParcelReleased), *last_mile()],
        S.COMPLETED,
        ["OrderConfirmed", "OrderCompleted"],
    ),
    "export hold, cleared": (
        [*paid(), ev(ShipmentCreated), ev(ParcelDispatched), ev(ParcelHeldAtCustoms, **EXPORT_HOLD),
         ev(CustomsDocumentsSubmitted), ev(ExportCleared), ev(ParcelInTransit),
         ev(ParcelArrivedAtDestination), ev(ParcelReleased), *last_mile()],
        S.COMPLETED,
        ["OrderConfirmed", "OrderCompleted"],
    ),
    "payment failed": (
        [ev(CustomsPrecheckPassed), ev(PaymentActionRequired), ev(PaymentFailed, reason="expired")],
        S.CANCELLED,
        ["OrderCancelled"],
    ),
    "precheck failed, refunded": (
        [ev(PaymentAuthorized), ev(PaymentSettled), ev(CustomsPrecheckFailed), ev(PaymentRefunded)],
        S.REFUNDED,
        ["OrderCancelled"],
    ),
    "buyer cancels after confirmation": (
        [*paid(), ev(ShipmentCreated), CancelBy("buyer_request"), ev(ShipmentCancelled),
         ev(PaymentRefunded)],
        S.REFUNDED,
        ["OrderConfirmed", "OrderCancelled"],
    ),
    "carrier rejected": (
        [*paid(), ev(ShipmentCancelled, reason="carrier_rejected"), ev(PaymentRefunded)],
        S.REFUNDED,
        ["OrderConfirmed", "OrderCancelled"],
    ),
    "returned by customs": (
        [*paid(), *to_destination(), ev(ParcelHeldAtCustoms), ev(ParcelReturnOrdered),
         ev(ParcelReturnedToSender), ev(PaymentRefunded, reason="parcel_returned")],
        S.RETURNED,
        ["OrderConfirmed", "OrderReturned"],
    ),
    "undeliverable, refund failed": (
        [*paid(), *to_destination(), ev(ParcelReleased), ev(ParcelOutForDelivery),
         ev(ParcelDeliveryFailed), ev(ParcelDeliveryFailed), ev(ParcelReturnedToSender),
         ev(RefundFailed)],
        S.RETURNED,
        ["OrderConfirmed", "OrderReturned"],
    ),
    "confiscated at import": (
        [*paid(), *to_destination(), ev(ParcelHeldAtCustoms), ev(ParcelConfiscated),
         ev(PaymentRefunded, reason="parcel_confiscated")],
        S.CONFISCATED,
        ["OrderConfirmed", "OrderConfiscated"],
    ),
    "confiscated at export": (
        [*paid(), ev(ParcelDispatched), ev(ParcelHeldAtCustoms, **EXPORT_HOLD),
         ev(ParcelConfiscated, checkpoint="export", country="CN"), ev(RefundFailed)],
        S.CONFISCATED,
        ["OrderConfirmed", "OrderConfiscated"],
    ),
}  # fmt: skip


@dataclass
class World:
    """order-svc's use cases on fakes, with one placed order (the samples' ORDER_ID)."""

    orders: FakeOrders = field(default_factory=FakeOrders)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)
    metrics: FakeMetrics = field(default_factory=FakeMetrics)

    def __post_init__(self) -> None:
        run(
            place_order(
                new_order(),
                orders=self.orders,
                emit=self.outbox,
                metrics=self.metrics,
                now=NOW,
                order_id=ORDER_ID,
            )
        )

    def feed(self, inputs: list[Input]) -> None:
        for n, item in enumerate(inputs):
            now = NOW + timedelta(seconds=n)
            if isinstance(item, CancelBy):
                with contextlib.suppress(CancelNotAllowed):  # refused: nothing changes
                    run(
                        cancel_order(
                            ORDER_ID,
                            reason=item.reason,
                            detail=None,
                            authorize=lambda o: None,
                            orders=self.orders,
                            emit=self.outbox,
                            metrics=self.metrics,
                            now=now,
                        )
                    )
                continue
            event = decode(encode(item)).event  # as the consumer gets it
            run(
                handle_event(
                    item, event, orders=self.orders, emit=self.outbox, metrics=self.metrics, now=now
                )
            )

    @property
    def status(self) -> OrderStatus:
        return self.orders.orders[ORDER_ID].status

    @property
    def own(self) -> list[str]:
        return [n for n in self.outbox.names if n in OWN]


@pytest.mark.parametrize("name", LIFECYCLES)
def test_each_lifecycle_in_order(name: str) -> None:
    inputs, final, own = LIFECYCLES[name]
    world = World()
    world.feed(inputs)
    assert world.status is final
    assert world.own == own
    assert world.metrics.impossibles == []
    envelopes = [i for i in inputs if isinstance(i, Envelope)]
    recorded = [e.event_id for e in world.orders.timeline]
    assert sorted(map(str, recorded)) == sorted(
        map(str, [e.id for e in envelopes] + [e.id for e in world.outbox.envelopes])
    )


@st.composite
def shuffled_with_duplicates(draw: st.DrawFn, inputs: list[Input]) -> list[Input]:
    """`inputs` in any order, some of them delivered again anywhere in the sequence."""
    order: list[Input] = list(draw(st.permutations(inputs)))
    for again in draw(st.lists(st.sampled_from(inputs), max_size=len(inputs))):
        order.insert(draw(st.integers(0, len(order))), again)
    return order


@pytest.mark.parametrize("name", LIFECYCLES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_order_with_duplicates_ends_where_in_order_does(name: str, data: st.DataObject) -> None:
    inputs, _, in_order_own = LIFECYCLES[name]
    in_order = World()
    in_order.feed(inputs)
    shuffled = World()
    shuffled.feed(data.draw(shuffled_with_duplicates(inputs)))
    assert shuffled.status is in_order.status
    # Every decision announced at most once, and the lifecycle closes with the same event.
    assert sorted(set(shuffled.own)) == sorted(shuffled.own)
    assert shuffled.own[-1] == in_order_own[-1]
    # Each event is on the timeline once, however often it came.
    ids = [e.event_id for e in shuffled.orders.timeline]
    assert len(ids) == len(set(ids))
    assert {i.id for i in inputs if isinstance(i, Envelope)} <= set(ids)
