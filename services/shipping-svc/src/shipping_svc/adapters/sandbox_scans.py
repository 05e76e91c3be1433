"""The sandbox network's queue of scans: claim what is due, then mark it sent or failed.

A claim is a lease (in database time), not a lock held while posting: posting runs the tracking
code path, which locks the order, and must never wait on a transaction that waits on it. A
process that dies with a lease leaves the scan to be claimed again once the lease ends; the
repeat is absorbed by the carrier event id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.tables import sandbox_scans


@dataclass(frozen=True, slots=True)
class DueScan:
    """A scan whose time has come."""

    id: int
    shipment_id: UUID
    carrier: str
    tracking_number: str
    raw_code: str
    event_id: str
    location: dict[str, Any] | None
    occurred_at: datetime


async def claim_due(
    conn: AsyncConnection, *, now: datetime, limit: int, lease_s: float
) -> list[DueScan]:
    """Lease up to `limit` pending scans due by `now`, earliest first."""
    due = (
        select(sandbox_scans.c.id)
        .where(
            sandbox_scans.c.state == "pending",
            sandbox_scans.c.due_at <= now,
            (sandbox_scans.c.leased_until.is_(None)) | (sandbox_scans.c.leased_until < func.now()),
        )
        .order_by(sandbox_scans.c.due_at, sandbox_scans.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await conn.execute(
        update(sandbox_scans)
        .where(sandbox_scans.c.id.in_(due))
        .values(
            leased_until=func.now() + text(f"interval '{float(lease_s)} seconds'"),
            attempts=sandbox_scans.c.attempts + 1,
        )
        .returning(*sandbox_scans.c)
    )
    scans = [
        DueScan(
            id=r.id,
            shipment_id=r.shipment_id,
            carrier=r.carrier,
            tracking_number=r.tracking_number,
            raw_code=r.raw_code,
            event_id=r.event_id,
            location=r.location,
            occurred_at=r.occurred_at,
        )
        for r in rows
    ]
    return sorted(scans, key=lambda s: (s.occurred_at, s.id))


async def mark(
    conn: AsyncConnection, scan_id: int, *, state: str, error: str | None = None
) -> None:
    """Record that a leased scan was sent (or failed for good)."""
    await conn.execute(
        update(sandbox_scans)
        .where(sandbox_scans.c.id == scan_id, sandbox_scans.c.state == "pending")
        .values(state=state, last_error=error, leased_until=None)
    )


async def release(conn: AsyncConnection, scan_id: int, *, error: str) -> None:
    """Give a lease back so the scan is tried again."""
    await conn.execute(
        update(sandbox_scans)
        .where(sandbox_scans.c.id == scan_id, sandbox_scans.c.state == "pending")
        .values(leased_until=None, last_error=error)
    )


async def pending_count(conn: AsyncConnection) -> int:
    """How many scans are still to be posted."""
    count = await conn.scalar(
        select(func.count()).select_from(sandbox_scans).where(sandbox_scans.c.state == "pending")
    )
    return int(count or 0)
