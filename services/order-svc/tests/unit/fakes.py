"""Fakes of the use cases' ports, and a driver for coroutines that never wait on I/O."""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from order_svc.domain.model import (
    Buyer,
    LandedCost,
    NewOrder,
    Order,
    OrderLine,
    PaymentChoice,
    ShipTo,
    TimelineEntry,
)
from order_svc.domain.status import OrderStatus
from xborder_events import Envelope, Event, envelope_for
from xborder_events.testing import sample_id

R = TypeVar("R")


def run(coro: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine to its end without an event loop: the fakes never wait, so it must
    finish at its first step (proof that the code under test did no I/O)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise AssertionError("the coroutine waited for something: real I/O in a unit test")


@dataclass
class FakeOrders:
    """OrderRepository in memory."""

    orders: dict[UUID, Order] = field(default_factory=dict)
    timeline: list[TimelineEntry] = field(default_factory=list)

    async def add(self, order: Order) -> None:
        assert order.id not in self.orders
        self.orders[order.id] = order

    async def get(
        self, order_id: UUID, *, for_update: bool = False, with_lines: bool = True
    ) -> Order | None:
        order = self.orders.get(order_id)
        if order is None or with_lines:
            return order
        return replace(order, lines=())

    async def save_progress(self, order: Order) -> None:
        stored = self.orders[order.id]
        self.orders[order.id] = replace(order, lines=stored.lines)

    async def add_timeline(self, entries: Sequence[TimelineEntry]) -> list[bool]:
        known = {e.event_id for e in self.timeline}
        added = []
        for entry in entries:
            added.append(entry.event_id not in known)
            if entry.event_id not in known:
                self.timeline.append(entry)
                known.add(entry.event_id)
        return added

    async def has_event(self, event_id: UUID) -> bool:
        return any(e.event_id == event_id for e in self.timeline)


@dataclass
class FakeOutbox:
    """Emit: wraps events as order-svc would and keeps them."""

    envelopes: list[Envelope] = field(default_factory=list)

    def __call__(self, event: Event) -> Envelope:
        envelope = envelope_for(event, source="xborder/order-svc")
        self.envelopes.append(envelope)
        return envelope

    @property
    def names(self) -> list[str]:
        return [e.type.split(".")[1] for e in self.envelopes]


@dataclass
class FakeMetrics:
    """TransitionMetrics that remembers what it was told."""

    entered_statuses: list[OrderStatus] = field(default_factory=list)
    impossibles: list[tuple[str, OrderStatus]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def entered(self, status: OrderStatus) -> None:
        self.entered_statuses.append(status)

    def impossible(self, *, event_type: str, status: OrderStatus) -> None:
        self.impossibles.append((event_type, status))

    def unknown_order(self, *, event_type: str) -> None:
        self.unknown.append(event_type)


def new_order(**changes: Any) -> NewOrder:
    """A valid DDP order from CN to US: two phone cases, USD."""
    fields: dict[str, Any] = {
        "merchant_id": "merchant-shenzhen-001",
        "merchant_order_ref": "SO-1001",
        "buyer": Buyer(
            name="Ada Buyer", email="ada@example.com", country="US", phone="+1 555 0100"
        ),
        "ship_from_country": "CN",
        "ship_to": ShipTo(
            name="Ada Buyer", line1="1 Main Street", city="Springfield", country="US"
        ),
        "currency": "USD",
        "incoterm": "DDP",
        "lines": (
            OrderLine(
                line_no=1,
                sku="CASE-IP15-BLK",
                title="Phone case, silicone",
                hs_code="392690",
                origin_country="CN",
                quantity=2,
                unit_price=Decimal("12.50"),
                weight_grams=80,
            ),
        ),
        "shipping_quote_id": sample_id("shipping-quote"),
        "shipping_price": Decimal("7.90"),
        "landed_cost": LandedCost(
            quote_id=sample_id("landed-cost-quote"), duties=Decimal("2.00"), taxes=Decimal("1.10")
        ),
        "payment": PaymentChoice(method="card", provider="adyen", token="tok_4f9a1c"),
    }
    return NewOrder(**{**fields, **changes})
