"""The sender's queries: which lanes (endpoint and order) are due, the lane lock, attempts,
purges.

Every function takes the sender's connection and never commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, case, delete, false, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from xborder_platform.webhooks.store import TABLES, D, E

#: First half of the advisory lock key of a lane's sender ("xbwh").
ENDPOINT_LOCK_CLASS = 0x78_62_77_68


@dataclass(frozen=True, slots=True)
class Lane:
    """One order's deliveries to one endpoint: they go out one at a time, in `seq` order."""

    endpoint_id: uuid.UUID
    order_id: str


async def due_lanes(conn: AsyncConnection, *, now: datetime, limit: int) -> list[Lane]:
    """Lanes of enabled endpoints whose oldest pending delivery is due, most overdue first."""
    heads = (
        select(func.min(D.seq).label("seq"))
        .where(D.status == "pending")
        .group_by(D.endpoint_id, D.order_id)
        .subquery()
    )
    query = (
        select(D.endpoint_id, D.order_id)
        .join(heads, heads.c.seq == D.seq)
        .join(TABLES.endpoints, E.id == D.endpoint_id)
        .where(E.enabled, D.next_attempt_at <= now)
        .order_by(D.next_attempt_at)
        .limit(limit)
    )
    return [Lane(row.endpoint_id, row.order_id) for row in await conn.execute(query)]


async def lock_lane(conn: AsyncConnection, lane: Lane) -> bool:
    """Take the lane's sender lock until the transaction ends; False if another has it."""
    key = func.hashtext(literal(f"{lane.endpoint_id}/{lane.order_id}"))
    return bool(await conn.scalar(select(func.pg_try_advisory_xact_lock(ENDPOINT_LOCK_CLASS, key))))


async def head_delivery(conn: AsyncConnection, lane: Lane) -> Row[Any] | None:
    """The lane's oldest pending delivery: the only one of the lane that may be sent."""
    query = (
        select(TABLES.deliveries)
        .where(
            D.endpoint_id == lane.endpoint_id,
            D.order_id == lane.order_id,
            D.status == "pending",
        )
        .order_by(D.seq)
        .limit(1)
    )
    return (await conn.execute(query)).one_or_none()


async def record_attempt(
    conn: AsyncConnection,
    delivery: Row[Any],
    *,
    at: datetime,
    status_code: int | None,
    latency_ms: int,
    error: str | None,
    retry_at: datetime | None,
) -> bool:
    """Log an attempt and move the delivery on: delivered when `retry_at` is None, else due
    again then. False when the delivery is gone (its endpoint was deleted meanwhile)."""
    delivered = retry_at is None
    moved = await conn.scalar(
        update(TABLES.deliveries)
        .where(D.seq == delivery.seq, D.status == "pending")
        .values(
            attempt_count=D.attempt_count + 1,
            retry_index=D.retry_index + (0 if delivered else 1),
            last_attempt_at=at,
            status="delivered" if delivered else "pending",
            delivered_at=at if delivered else None,
            next_attempt_at=retry_at,
        )
        .returning(D.seq)
    )
    if moved is None:
        return False
    await conn.execute(
        TABLES.attempts.insert().values(
            delivery_seq=delivery.seq,
            attempted_at=at,
            status_code=status_code,
            latency_ms=latency_ms,
            error=error,
        )
    )
    return True


async def note_success(conn: AsyncConnection, endpoint_id: uuid.UUID) -> None:
    """End the endpoint's run of failures."""
    await conn.execute(
        update(TABLES.endpoints)
        .where(E.id == endpoint_id, E.failing_since.is_not(None))
        .values(failing_since=None)
    )


async def note_failure(
    conn: AsyncConnection, endpoint_id: uuid.UUID, *, at: datetime, disable_after: timedelta
) -> bool:
    """Extend the endpoint's run of failures; disable it once the run is `disable_after` long.
    True when this call disabled it."""
    since = func.coalesce(E.failing_since, at)
    disable = and_(E.enabled, since <= at - disable_after)
    row = (
        await conn.execute(
            update(TABLES.endpoints)
            .where(E.id == endpoint_id)
            .values(
                failing_since=since,
                enabled=case((disable, false()), else_=E.enabled),
                disabled_reason=case((disable, "failing"), else_=E.disabled_reason),
                disabled_at=case((disable, at), else_=E.disabled_at),
            )
            .returning(E.enabled, E.disabled_at)
        )
    ).one_or_none()
    # RETURNING shows the new values: it was this update that disabled it if it stamped `at`.
    return row is not None and not row.enabled and row.disabled_at == at


async def purge_delivered(conn: AsyncConnection, *, older_than: datetime, chunk: int) -> int:
    """Delete up to `chunk` deliveries delivered before `older_than` (attempts go with them)."""
    doomed = (
        select(D.seq)
        .where(D.status == "delivered", D.delivered_at < older_than)
        .order_by(D.delivered_at)
        .limit(chunk)
        .scalar_subquery()
    )
    result = await conn.execute(delete(TABLES.deliveries).where(D.seq.in_(doomed)))
    return result.rowcount
