"""The order state machine: learn a fact, move the status along the table, decide what to say.

`learn` records the fact and then follows every transition the known facts allow, as far as
they go, so an order catches up at once when the fact it waited for arrives. Duplicates change
nothing (facts are a set), late facts change nothing, and a fact no transition from here could
ever use is reported as impossible, never raised: a consumer must not crash on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from order_svc.domain.errors import CancelNotAllowed
from order_svc.domain.facts import Fact, Facts, Trigger
from order_svc.domain.status import CANCELLABLE, OrderStatus
from order_svc.domain.transitions import (
    DISPATCH_EVIDENCE,
    REACHABLE,
    TRANSITIONS,
    Effect,
    Transition,
)

CancelReason = Literal[
    "payment_failed",
    "customs_precheck_failed",
    "buyer_request",
    "merchant_request",
    "carrier_unavailable",
]
ReturnReason = Literal["customs_return_ordered", "refused_by_buyer", "undeliverable"]


class Outcome(StrEnum):
    """What a fact did to the order."""

    #: The status moved.
    APPLIED = "applied"
    #: Kept: it takes effect when the status reaches the transition that needs it.
    WAITING = "waiting"
    #: The status is already past what it would have done.
    LATE = "late"
    #: No transition from the current status can ever use it (logged and counted).
    IMPOSSIBLE = "impossible"


@dataclass(frozen=True)
class Confirm:
    """Announce OrderConfirmed: payment settled and customs pre-check passed."""

    payment_id: str


@dataclass(frozen=True)
class Cancel:
    """Announce OrderCancelled."""

    reason: CancelReason
    detail: str | None = None


@dataclass(frozen=True)
class Complete:
    """Announce OrderCompleted: the parcel was delivered."""

    delivered_at: datetime


@dataclass(frozen=True)
class CloseReturned:
    """Announce OrderReturned: the parcel is back and the refund's outcome is known."""

    reason: ReturnReason
    refunded: Decimal | None
    returned_at: datetime


@dataclass(frozen=True)
class CloseConfiscated:
    """Announce OrderConfiscated: the parcel was seized and the refund's outcome is known."""

    detail: str | None
    refunded: Decimal | None
    confiscated_at: datetime


Decision = Confirm | Cancel | Complete | CloseReturned | CloseConfiscated


@dataclass(frozen=True)
class Progress:
    """An order's status and every fact learned about it."""

    status: OrderStatus = OrderStatus.PLACED
    facts: Facts = field(default_factory=Facts)


@dataclass(frozen=True)
class Step:
    """The result of learning one fact."""

    before: Progress
    after: Progress
    outcome: Outcome
    decisions: tuple[Decision, ...] = ()
    #: Every status entered, in order (empty when the status did not move).
    entered: tuple[OrderStatus, ...] = ()


_CANCEL_REASONS: dict[Trigger, CancelReason] = {
    Trigger.PAYMENT_FAILED: "payment_failed",
    Trigger.PRECHECK_FAILED: "customs_precheck_failed",
    Trigger.CARRIER_REJECTED: "carrier_unavailable",
}


def learn(progress: Progress, fact: Fact) -> Step:
    """Record `fact` and move the status as far as the known facts allow."""
    facts = progress.facts.learn(fact)
    status, decisions, entered = _advance(progress.status, facts)
    after = Progress(status=status, facts=facts)
    outcome = Outcome.APPLIED if entered else _classify(progress.status, fact.trigger)
    return Step(progress, after, outcome, tuple(decisions), tuple(entered))


def request_cancel(
    progress: Progress, *, reason: CancelReason, detail: str | None, at: datetime
) -> Step | None:
    """A buyer's or merchant's cancellation; None if the order is already cancelled.

    Raises CancelNotAllowed once the carrier has the parcel or the order is closed otherwise.
    """
    if progress.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return None
    dispatched = any(t in progress.facts for t in DISPATCH_EVIDENCE)
    if progress.status not in CANCELLABLE or dispatched:
        raise CancelNotAllowed(progress.status)
    return learn(
        progress, Fact(trigger=Trigger.CANCEL_REQUESTED, at=at, reason=reason, detail=detail)
    )


def _advance(
    status: OrderStatus, facts: Facts
) -> tuple[OrderStatus, list[Decision], list[OrderStatus]]:
    decisions: list[Decision] = []
    entered: list[OrderStatus] = []
    # The table is acyclic, so no path is longer than the number of statuses.
    for _ in OrderStatus:
        row = next(
            (t for t in TRANSITIONS if status in t.sources and facts.has_all(t.requires)), None
        )
        if row is None:
            break
        if row.effect is not None:
            decisions.append(_decide(row, facts))
        status = row.target
        entered.append(status)
    return status, decisions, entered


def _decide(row: Transition, facts: Facts) -> Decision:
    match row.effect:
        case Effect.CONFIRM:
            assert facts.payment_id is not None, "PaymentSettled always names its payment"
            return Confirm(payment_id=facts.payment_id)
        case Effect.CANCEL:
            (trigger,) = row.requires
            reason = _CANCEL_REASONS.get(trigger) or _requested_reason(facts)
            return Cancel(reason=reason, detail=facts.details.get(trigger))
        case Effect.COMPLETE:
            return Complete(delivered_at=facts.seen[Trigger.DELIVERED])
        case Effect.CLOSE_RETURNED:
            return CloseReturned(
                reason=_return_reason(facts),
                refunded=facts.refunded_total(),
                returned_at=facts.seen[Trigger.RETURNED_TO_SENDER],
            )
        case Effect.CLOSE_CONFISCATED:
            return CloseConfiscated(
                detail=facts.details.get(Trigger.CONFISCATED),
                refunded=facts.refunded_total(),
                confiscated_at=facts.seen[Trigger.CONFISCATED],
            )
    raise AssertionError(f"no decision for {row}")


def _requested_reason(facts: Facts) -> CancelReason:
    given = facts.reasons.get(Trigger.CANCEL_REQUESTED)
    return "merchant_request" if given == "merchant_request" else "buyer_request"


def _return_reason(facts: Facts) -> ReturnReason:
    if Trigger.RETURN_ORDERED not in facts:
        return "undeliverable"  # back without a customs order: the carrier could not deliver
    if facts.reasons.get(Trigger.RETURN_ORDERED) == "refused_by_buyer":
        return "refused_by_buyer"
    return "customs_return_ordered"


def _classify(status: OrderStatus, trigger: Trigger) -> Outcome:
    rows = [t for t in TRANSITIONS if trigger in t.requires]
    if any(status in REACHABLE[t.target] for t in rows):
        return Outcome.LATE
    if any(source in REACHABLE[status] for t in rows for source in t.sources):
        return Outcome.WAITING
    return Outcome.IMPOSSIBLE
