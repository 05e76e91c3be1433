"""Declarations and holds: their statuses and what an authority's decision does to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

Checkpoint = Literal["export", "import"]
#: What an authority decides about a declaration.
Outcome = Literal["clear", "hold", "return", "confiscate"]


class DeclarationStatus(StrEnum):
    """Where a declaration stands."""

    PENDING = "pending"  # the parcel reached the checkpoint before we knew the order
    FILED = "filed"
    HELD = "held"
    CLEARED = "cleared"  # export: the parcel may leave
    RELEASED = "released"  # import: the parcel may be delivered
    RETURNED = "returned"
    CONFISCATED = "confiscated"
    CLOSED = "closed"  # the order was cancelled before a decision


class HoldStatus(StrEnum):
    """Where a hold stands."""

    OPEN = "open"  # waiting for documents until respond_by
    SUBMITTED = "submitted"  # documents complete, the authority reviews them
    RELEASED = "released"
    RETURNED = "returned"
    CONFISCATED = "confiscated"
    CANCELLED = "cancelled"


FINAL = frozenset(
    {
        DeclarationStatus.CLEARED,
        DeclarationStatus.RELEASED,
        DeclarationStatus.RETURNED,
        DeclarationStatus.CONFISCATED,
        DeclarationStatus.CLOSED,
    }
)
OPEN_HOLDS = frozenset({HoldStatus.OPEN, HoldStatus.SUBMITTED})


def cleared_status(checkpoint: Checkpoint) -> DeclarationStatus:
    """What a clearing decision makes of a declaration at this checkpoint."""
    return DeclarationStatus.CLEARED if checkpoint == "export" else DeclarationStatus.RELEASED


def after_decision(
    status: DeclarationStatus, outcome: Outcome, checkpoint: Checkpoint
) -> DeclarationStatus | None:
    """The status a decision leads to, or None when it cannot apply (the decision is ignored).

    A filed declaration may be cleared, held, returned or confiscated; a held one may be
    cleared, returned or confiscated (a second hold while one is open changes nothing).
    """
    if status == DeclarationStatus.FILED or (
        status == DeclarationStatus.HELD and outcome != "hold"
    ):
        return {
            "clear": cleared_status(checkpoint),
            "hold": DeclarationStatus.HELD,
            "return": DeclarationStatus.RETURNED,
            "confiscate": DeclarationStatus.CONFISCATED,
        }[outcome]
    return None


def hold_status_after(outcome: Outcome) -> HoldStatus:
    """What becomes of the open hold when its declaration is decided."""
    return {
        "clear": HoldStatus.RELEASED,
        "return": HoldStatus.RETURNED,
        "confiscate": HoldStatus.CONFISCATED,
        "hold": HoldStatus.OPEN,
    }[outcome]


@dataclass(frozen=True, slots=True)
class Decision:
    """An authority's decision on a declaration, from its webhook or the sandbox."""

    decision_id: str
    declaration_id: UUID
    outcome: Outcome
    decided_at: datetime
    reason: str | None = None
    detail: str | None = None
    reference: str | None = None
    required_documents: tuple[str, ...] = ()
    respond_by: datetime | None = None
