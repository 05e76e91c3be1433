"""What the use cases need from the outside, as protocols (fakes in unit tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol
from uuid import UUID

from order_svc.domain.model import Order, TimelineEntry
from order_svc.domain.status import OrderStatus
from xborder_events import Envelope, Event

#: Queue an event in the current transaction's outbox; returns its envelope.
Emit = Callable[[Event], Envelope]


class OrderRepository(Protocol):
    """Orders, their lines and their timeline, inside the caller's transaction."""

    async def add(self, order: Order) -> None:
        """Store a new order with its lines."""

    async def get(
        self, order_id: UUID, *, for_update: bool = False, with_lines: bool = True
    ) -> Order | None:
        """The order or None; `for_update` serialises writers of one order."""

    async def save_progress(self, order: Order) -> None:
        """Store the order's status, facts and view facts."""

    async def add_timeline(self, entries: Sequence[TimelineEntry]) -> list[bool]:
        """Record entries; False for each whose event id was already recorded."""

    async def has_event(self, event_id: UUID) -> bool:
        """True when the event id is already on a timeline."""


class TransitionMetrics(Protocol):
    """Counts what the state machine did."""

    def entered(self, status: OrderStatus) -> None:
        """An order entered `status`."""

    def impossible(self, *, event_type: str, status: OrderStatus) -> None:
        """An event no transition from `status` can ever use arrived."""

    def unknown_order(self, *, event_type: str) -> None:
        """An event arrived for an order this service does not know."""
