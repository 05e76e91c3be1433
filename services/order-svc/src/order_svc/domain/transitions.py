"""The order state machine's table: every allowed transition, and nothing else.

A row moves an order from one of its `sources` to its `target` once every trigger it `requires`
has been seen; rows are tried in table order, so where two could fire the first one wins (a
failure before a success, a later milestone before an earlier one). The graph is acyclic: the
status only ever moves forward (the unit tests check it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from order_svc.domain.facts import Trigger
from order_svc.domain.status import (
    BEFORE_CONFIRMATION,
    CANCELLABLE,
    JOURNEY,
    OrderStatus,
    journey_before,
)

S, T = OrderStatus, Trigger


class Effect(StrEnum):
    """What entering a row's target makes order-svc announce."""

    CONFIRM = "confirm"
    CANCEL = "cancel"
    COMPLETE = "complete"
    CLOSE_RETURNED = "close_returned"
    CLOSE_CONFISCATED = "close_confiscated"


@dataclass(frozen=True)
class Transition:
    """One row of the table."""

    sources: frozenset[OrderStatus]
    requires: frozenset[Trigger]
    target: OrderStatus
    effect: Effect | None = None


def _row(
    sources: Iterable[OrderStatus],
    requires: Trigger | Iterable[Trigger],
    target: OrderStatus,
    effect: Effect | None = None,
) -> Transition:
    needed = frozenset([requires] if isinstance(requires, Trigger) else requires)
    return Transition(frozenset(sources), needed, target, effect)


_ON_THE_WAY: Final = frozenset(JOURNEY)
_BEFORE_PAYMENT_SETTLED: Final = (S.PLACED, S.PAYMENT_ACTION_REQUIRED, S.PAYMENT_AUTHORIZED)

#: The order state machine. Read it top to bottom: failures, then the confirmation, then the
#: compensations, then the parcel's journey from its last milestone back to its first.
TRANSITIONS: Final[tuple[Transition, ...]] = (
    # The order does not go ahead: OrderCancelled, then the captured money (if any) goes back.
    _row(BEFORE_CONFIRMATION, T.PAYMENT_FAILED, S.CANCELLED, Effect.CANCEL),
    _row(BEFORE_CONFIRMATION, T.PRECHECK_FAILED, S.CANCELLED, Effect.CANCEL),
    _row(CANCELLABLE, T.CANCEL_REQUESTED, S.CANCELLED, Effect.CANCEL),
    _row([S.CONFIRMED], T.CARRIER_REJECTED, S.CANCELLED, Effect.CANCEL),
    _row([S.CANCELLED], T.REFUNDED, S.REFUNDED),
    # Payment and customs pre-check, in either order; both passed confirm the order.
    _row(BEFORE_CONFIRMATION, [T.PAYMENT_SETTLED, T.PRECHECK_PASSED], S.CONFIRMED, Effect.CONFIRM),
    _row(_BEFORE_PAYMENT_SETTLED, T.PAYMENT_SETTLED, S.AWAITING_PRECHECK),
    _row(_BEFORE_PAYMENT_SETTLED, T.PRECHECK_PASSED, S.AWAITING_PAYMENT),
    _row([S.PLACED, S.PAYMENT_ACTION_REQUIRED], T.PAYMENT_AUTHORIZED, S.PAYMENT_AUTHORIZED),
    _row([S.PLACED], T.PAYMENT_ACTION_REQUIRED, S.PAYMENT_ACTION_REQUIRED),
    # Compensations: the parcel is seized or comes back; the order closes on the refund's
    # outcome (refunded or failed: a failed refund is finance's to follow up, not a reason to
    # keep the order open), which may arrive before or after the parcel event.
    _row(_ON_THE_WAY, T.CONFISCATED, S.PARCEL_CONFISCATED),
    _row(_ON_THE_WAY | {S.RETURNING}, T.RETURNED_TO_SENDER, S.PARCEL_RETURNED),
    _row(_ON_THE_WAY, T.RETURN_ORDERED, S.RETURNING),
    _row([S.PARCEL_RETURNED], T.REFUNDED, S.RETURNED, Effect.CLOSE_RETURNED),
    _row([S.PARCEL_RETURNED], T.REFUND_FAILED, S.RETURNED, Effect.CLOSE_RETURNED),
    _row([S.PARCEL_CONFISCATED], T.REFUNDED, S.CONFISCATED, Effect.CLOSE_CONFISCATED),
    _row([S.PARCEL_CONFISCATED], T.REFUND_FAILED, S.CONFISCATED, Effect.CLOSE_CONFISCATED),
    # The journey: a milestone may be reached from any earlier status of the journey.
    _row(journey_before(S.COMPLETED), T.DELIVERED, S.COMPLETED, Effect.COMPLETE),
    _row(journey_before(S.OUT_FOR_DELIVERY), T.OUT_FOR_DELIVERY, S.OUT_FOR_DELIVERY),
    _row(journey_before(S.RELEASED), T.RELEASED, S.RELEASED),
    _row(journey_before(S.HELD_AT_IMPORT), T.IMPORT_HELD, S.HELD_AT_IMPORT),
    _row(journey_before(S.AT_DESTINATION), T.ARRIVED, S.AT_DESTINATION),
    _row(journey_before(S.IN_TRANSIT), T.IN_TRANSIT, S.IN_TRANSIT),
    _row(journey_before(S.EXPORT_CLEARED), T.EXPORT_CLEARED, S.EXPORT_CLEARED),
    _row(journey_before(S.HELD_AT_EXPORT), T.EXPORT_HELD, S.HELD_AT_EXPORT),
    _row([S.CONFIRMED], T.DISPATCHED, S.SHIPPED),
)

#: Triggers that prove the carrier has the parcel: the order can no longer be cancelled.
DISPATCH_EVIDENCE: Final = frozenset(
    {
        T.DISPATCHED, T.EXPORT_HELD, T.EXPORT_CLEARED, T.IN_TRANSIT, T.ARRIVED, T.IMPORT_HELD,
        T.RELEASED, T.OUT_FOR_DELIVERY, T.DELIVERED, T.RETURN_ORDERED, T.RETURNED_TO_SENDER,
        T.CONFISCATED,
    }
)  # fmt: skip


def _successors() -> dict[OrderStatus, set[OrderStatus]]:
    graph: dict[OrderStatus, set[OrderStatus]] = {s: set() for s in OrderStatus}
    for row in TRANSITIONS:
        for source in row.sources:
            graph[source].add(row.target)
    return graph


def _reachable(
    graph: Mapping[OrderStatus, set[OrderStatus]],
) -> dict[OrderStatus, frozenset[OrderStatus]]:
    result: dict[OrderStatus, frozenset[OrderStatus]] = {}
    for start in OrderStatus:
        seen, stack = {start}, [start]
        while stack:
            for nxt in graph[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        result[start] = frozenset(seen)
    return result


#: The statuses each status can move to directly.
SUCCESSORS: Final = {s: frozenset(n) for s, n in _successors().items()}
#: The statuses reachable from each status, itself included.
REACHABLE: Final = _reachable(_successors())
