"""Normalised tracking: the statuses a parcel goes through and how a carrier scan moves it.

A scan moves the parcel only as customs allows: nothing past export before ExportCleared,
nothing into last-mile delivery before ParcelReleased. A scan that arrives too early is buffered
and applied when its gate opens. A scan that skips steps (delivered straight after arrival)
brings the skipped steps with it, marked as implied, so that every consumer sees the same order
of statuses. A scan that is behind the parcel's status is kept on the timeline as stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScanStatus(StrEnum):
    """What a carrier scan means, whatever the carrier's own code is."""

    IN_TRANSIT = "in_transit"
    ARRIVED_AT_DESTINATION = "arrived_at_destination"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNED_TO_SENDER = "returned_to_sender"


class ShipmentStatus(StrEnum):
    """Where a shipment stands."""

    BOOKED = "booked"
    DISPATCHED = "dispatched"
    IN_TRANSIT = "in_transit"
    ARRIVED_AT_DESTINATION = "arrived_at_destination"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    RETURNING = "returning"
    RETURNED_TO_SENDER = "returned_to_sender"
    CONFISCATED = "confiscated"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


#: Statuses after which nothing moves the shipment any more.
TERMINAL = frozenset(
    {
        ShipmentStatus.DELIVERED,
        ShipmentStatus.RETURNED_TO_SENDER,
        ShipmentStatus.CONFISCATED,
        ShipmentStatus.CANCELLED,
        ShipmentStatus.REJECTED,
    }
)
#: Statuses of a parcel the carrier has and that is still moving (its ETA may be revised).
IN_FLIGHT = frozenset(
    {
        ShipmentStatus.BOOKED,
        ShipmentStatus.DISPATCHED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.ARRIVED_AT_DESTINATION,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERY_FAILED,
    }
)


class Outcome(StrEnum):
    """What became of one carrier scan."""

    APPLIED = "applied"
    BUFFERED = "buffered"
    STALE = "stale"
    IGNORED = "ignored"
    EXCEPTION = "exception"
    DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class Gates:
    """What customs has allowed so far for the parcel."""

    export_cleared: bool = False
    released: bool = False
    return_ordered: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """One status the parcel reaches; `implied` when no scan of its own reported it."""

    status: ScanStatus
    implied: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a scan, the steps it makes and the shipment's status afterwards."""

    outcome: Outcome
    status: ShipmentStatus
    steps: tuple[Step, ...] = ()
    reason: str = ""


_RANK: dict[ShipmentStatus, int] = {
    ShipmentStatus.DISPATCHED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.ARRIVED_AT_DESTINATION: 2,
    ShipmentStatus.OUT_FOR_DELIVERY: 3,
    ShipmentStatus.DELIVERY_FAILED: 3,
    ShipmentStatus.DELIVERED: 4,
}
_SCAN_RANK: dict[ScanStatus, int] = {
    ScanStatus.IN_TRANSIT: 1,
    ScanStatus.ARRIVED_AT_DESTINATION: 2,
    ScanStatus.OUT_FOR_DELIVERY: 3,
    ScanStatus.DELIVERY_FAILED: 3,
    ScanStatus.DELIVERED: 4,
}
#: The forward ladder, used to fill in skipped steps.
_LADDER: tuple[ScanStatus, ...] = (
    ScanStatus.IN_TRANSIT,
    ScanStatus.ARRIVED_AT_DESTINATION,
    ScanStatus.OUT_FOR_DELIVERY,
)
#: The first rank that needs each gate.
_NEEDS_EXPORT = 1
_NEEDS_RELEASE = 3


def status_after(scan: ScanStatus) -> ShipmentStatus:
    """The shipment status a scan puts the parcel in."""
    return ShipmentStatus(scan.value)


def decide(status: ShipmentStatus, gates: Gates, scan: ScanStatus) -> Decision:
    """How a normalised scan moves a shipment in `status`, given what customs has allowed."""
    if status in TERMINAL:
        return Decision(Outcome.IGNORED, status, reason=f"the shipment is {status.value}")
    if status is ShipmentStatus.BOOKED:
        return Decision(Outcome.BUFFERED, status, reason="the parcel is not dispatched yet")
    if status is ShipmentStatus.RETURNING:
        if scan is ScanStatus.RETURNED_TO_SENDER:
            return _apply(status, (Step(scan),))
        return Decision(Outcome.STALE, status, reason="the parcel is on its return leg")
    if scan is ScanStatus.RETURNED_TO_SENDER:
        return _returned(status, gates)
    rank, current = _SCAN_RANK[scan], _RANK[status]
    if rank >= _NEEDS_EXPORT and not gates.export_cleared:
        return Decision(Outcome.BUFFERED, status, reason="awaiting export clearance")
    if rank >= _NEEDS_RELEASE and not gates.released:
        return Decision(Outcome.BUFFERED, status, reason="awaiting release by import customs")
    if rank < current:
        return Decision(Outcome.STALE, status, reason=f"the parcel is already {status.value}")
    if rank == current:
        return _same_rank(status, scan)
    return _apply(status, _steps_to(current, scan))


def _returned(status: ShipmentStatus, gates: Gates) -> Decision:
    # A carrier returns a parcel it could not deliver; otherwise only customs orders a return.
    if gates.return_ordered or status in (
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERY_FAILED,
    ):
        return _apply(status, (Step(ScanStatus.RETURNED_TO_SENDER),))
    return Decision(Outcome.BUFFERED, status, reason="awaiting a return order")


def _same_rank(status: ShipmentStatus, scan: ScanStatus) -> Decision:
    retry = status is ShipmentStatus.DELIVERY_FAILED and scan is ScanStatus.OUT_FOR_DELIVERY
    failed = status is ShipmentStatus.OUT_FOR_DELIVERY and scan is ScanStatus.DELIVERY_FAILED
    if retry or failed:
        return _apply(status, (Step(scan),))
    return Decision(Outcome.STALE, status, reason=f"the parcel is already {status.value}")


def _steps_to(current: int, scan: ScanStatus) -> tuple[Step, ...]:
    target = _SCAN_RANK[scan]
    implied = [Step(s, implied=True) for s in _LADDER if current < _SCAN_RANK[s] < target]
    if scan is ScanStatus.DELIVERY_FAILED and current < _SCAN_RANK[scan]:
        # A failed attempt means the parcel was out for delivery.
        implied.append(Step(ScanStatus.OUT_FOR_DELIVERY, implied=True))
    return (*implied, Step(scan))


def _apply(status: ShipmentStatus, steps: tuple[Step, ...]) -> Decision:
    final = status_after(steps[-1].status) if steps else status
    return Decision(Outcome.APPLIED, final, steps)
