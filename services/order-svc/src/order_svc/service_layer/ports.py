"""What the use cases need from the outside, as protocols (fakes in unit tests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
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


class Notifier(Protocol):
    """Tells the merchant's webhook endpoints what happened, in the caller's transaction."""

    async def status_changed(
        self,
        order: Order,
        *,
        status: OrderStatus,
        previous: OrderStatus | None,
        cause: UUID,
        at: datetime,
    ) -> None:
        """The order entered `status` (one step of what the event `cause` did)."""

    async def customs_hold(self, order: Order, hold: Mapping[str, Any], *, cause: UUID) -> None:
        """Customs holds the parcel and asks for documents (`hold`: reason, respond-by...)."""


class TransitionMetrics(Protocol):
    """Counts what the state machine did."""

    def entered(self, status: OrderStatus) -> None:
        """An order entered `status`."""

    def impossible(self, *, event_type: str, status: OrderStatus) -> None:
        """An event no transition from `status` can ever use arrived."""

    def unknown_order(self, *, event_type: str) -> None:
        """An event arrived for an order this service does not know."""
