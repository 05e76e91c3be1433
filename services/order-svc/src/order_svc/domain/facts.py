"""What order-svc has learned about an order: the triggers of its state machine.

Every fact is kept, whether or not it could move the status when it arrived. A fact that came
early (a refund before the parcel is back, a scan before the dispatch) waits in the set and
takes effect once the status reaches the transition that needs it; one that came late changes
nothing. That is what makes the final status independent of the order of arrival.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Trigger(StrEnum):
    """A kind of fact that can move an order's status."""

    PAYMENT_ACTION_REQUIRED = "payment_action_required"
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_SETTLED = "payment_settled"
    PAYMENT_FAILED = "payment_failed"
    PRECHECK_PASSED = "precheck_passed"
    PRECHECK_FAILED = "precheck_failed"
    CANCEL_REQUESTED = "cancel_requested"
    CARRIER_REJECTED = "carrier_rejected"
    DISPATCHED = "dispatched"
    EXPORT_HELD = "export_held"
    EXPORT_CLEARED = "export_cleared"
    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"
    IMPORT_HELD = "import_held"
    RELEASED = "released"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    RETURN_ORDERED = "return_ordered"
    RETURNED_TO_SENDER = "returned_to_sender"
    CONFISCATED = "confiscated"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"


@dataclass(frozen=True, kw_only=True)
class Fact:
    """One thing that happened to the order, with what the rules need of it."""

    trigger: Trigger
    at: datetime
    payment_id: str | None = None
    #: A machine-readable reason (a cancellation's, a customs return order's).
    reason: str | None = None
    #: A short explanation for people.
    detail: str | None = None
    refund_id: str | None = None
    amount: Decimal | None = None


def _frozen(mapping: Mapping[Any, Any] | None = None) -> Mapping[Any, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Facts:
    """Every fact learned about one order, merged: the first time each trigger was seen, the
    first reason and detail given for it, the payment id and the refunds."""

    seen: Mapping[Trigger, datetime] = field(default_factory=_frozen)
    reasons: Mapping[Trigger, str] = field(default_factory=_frozen)
    details: Mapping[Trigger, str] = field(default_factory=_frozen)
    payment_id: str | None = None
    #: Refunds paid back for this order, by refund id (goodwill refunds are not counted).
    refunds: Mapping[str, Decimal] = field(default_factory=_frozen)

    def __contains__(self, trigger: object) -> bool:
        return trigger in self.seen

    def has_all(self, triggers: frozenset[Trigger]) -> bool:
        """True when every trigger in `triggers` has been seen."""
        return all(t in self.seen for t in triggers)

    def learn(self, fact: Fact) -> Facts:
        """These facts and `fact`; the first occurrence of a trigger keeps its time and words."""
        t = fact.trigger
        seen = {**self.seen}
        seen.setdefault(t, fact.at)
        reasons, details = {**self.reasons}, {**self.details}
        if fact.reason is not None:
            reasons.setdefault(t, fact.reason)
        if fact.detail is not None:
            details.setdefault(t, fact.detail)
        refunds = {**self.refunds}
        if t is Trigger.REFUNDED and fact.refund_id is not None and fact.amount is not None:
            refunds.setdefault(fact.refund_id, fact.amount)
        return replace(
            self,
            seen=_frozen(seen),
            reasons=_frozen(reasons),
            details=_frozen(details),
            payment_id=self.payment_id or fact.payment_id,
            refunds=_frozen(refunds),
        )

    def refunded_total(self) -> Decimal | None:
        """The sum of the refunds paid, or None when none was."""
        if not self.refunds:
            return None
        return sum(self.refunds.values(), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, for the order's row."""
        return {
            "seen": {t.value: at.isoformat() for t, at in self.seen.items()},
            "reasons": {t.value: r for t, r in self.reasons.items()},
            "details": {t.value: d for t, d in self.details.items()},
            "payment_id": self.payment_id,
            "refunds": {k: str(v) for k, v in self.refunds.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Facts:
        """The inverse of `to_json`."""
        return cls(
            seen=_frozen(
                {Trigger(t): datetime.fromisoformat(at) for t, at in data.get("seen", {}).items()}
            ),
            reasons=_frozen({Trigger(t): r for t, r in data.get("reasons", {}).items()}),
            details=_frozen({Trigger(t): d for t, d in data.get("details", {}).items()}),
            payment_id=data.get("payment_id"),
            refunds=_frozen({k: Decimal(v) for k, v in data.get("refunds", {}).items()}),
        )
