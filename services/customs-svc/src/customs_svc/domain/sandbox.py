"""The sandbox authority's decisions: per checkpoint country rates, deterministic under a seed.

A draw is a number in [0, 1) derived from the seed and what is decided (order id, checkpoint,
stage), so the same seed and the same order always get the same decisions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from customs_svc.domain.declaration import Outcome


@dataclass(frozen=True, slots=True)
class SandboxRates:
    """How one country's sandbox customs behaves."""

    hold_rate: Decimal
    return_rate: Decimal
    confiscation_rate: Decimal
    decision_days: Decimal
    review_days: Decimal


@dataclass(frozen=True, slots=True)
class Verdict:
    """A sandbox decision before it becomes a `Decision`."""

    outcome: Outcome
    reason: str | None = None
    documents: tuple[str, ...] = ()
    detail: str | None = None


def draw(seed: int, *parts: str) -> Decimal:
    """A deterministic number in [0, 1) for the seed and the parts."""
    digest = hashlib.sha256(":".join([str(seed), *parts]).encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)


def first_verdict(
    rates: SandboxRates,
    u: Decimal,
    *,
    prohibited: str | None,
    restricted_documents: tuple[str, ...],
    hold_documents: tuple[str, ...],
) -> Verdict:
    """The decision on a newly filed declaration.

    Prohibited goods are always confiscated; restricted goods are held for their documents;
    otherwise the draw decides: confiscation, a hold for documents, or clearance.
    """
    if prohibited is not None:
        return Verdict("confiscate", "prohibited_goods", detail=prohibited)
    if restricted_documents:
        return Verdict("hold", "restricted_goods", restricted_documents)
    if u < rates.confiscation_rate:
        return Verdict("confiscate", "counterfeit_goods", detail="suspected counterfeit goods")
    if u < rates.confiscation_rate + rates.hold_rate:
        return Verdict("hold", "documents_required", hold_documents)
    return Verdict("clear")


def review_verdict(rates: SandboxRates, u: Decimal) -> Verdict:
    """The decision after documents were submitted: release, or return when rejected."""
    if u < rates.return_rate:
        return Verdict("return", "documents_rejected", detail="documents not accepted")
    return Verdict("clear")
