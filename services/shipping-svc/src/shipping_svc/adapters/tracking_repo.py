"""Carrier scans received (idempotent per carrier event id), quotes and transit statistics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.tables import (
    carrier_events,
    quotes,
    transit_observations,
    transit_stats,
)
from shipping_svc.domain.eta import Observed
from shipping_svc.domain.tracking import Outcome


@dataclass(frozen=True, slots=True)
class StoredScan:
    """A carrier scan as received."""

    carrier: str
    event_id: str
    shipment_id: UUID
    raw_code: str
    normalised: str | None
    description: str | None
    location: dict[str, Any] | None
    occurred_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> StoredScan:
        """Build from a selected row."""
        return cls(
            carrier=row.carrier,
            event_id=row.event_id,
            shipment_id=row.shipment_id,
            raw_code=row.raw_code,
            normalised=row.normalised,
            description=row.description,
            location=row.location,
            occurred_at=row.occurred_at,
        )


async def record_scan(conn: AsyncConnection, scan: StoredScan, *, tracking_number: str) -> bool:
    """Keep a scan; False when the carrier already sent this event id."""
    result = await conn.execute(
        insert(carrier_events)
        .values(
            carrier=scan.carrier,
            event_id=scan.event_id,
            shipment_id=scan.shipment_id,
            tracking_number=tracking_number,
            raw_code=scan.raw_code,
            normalised=scan.normalised,
            description=scan.description,
            location=scan.location,
            occurred_at=scan.occurred_at,
            outcome=Outcome.BUFFERED.value,
        )
        .on_conflict_do_nothing()
        .returning(carrier_events.c.event_id)
    )
    return result.first() is not None


async def set_outcome(
    conn: AsyncConnection, scan: StoredScan, outcome: Outcome, reason: str = ""
) -> None:
    """Record what became of a scan."""
    await conn.execute(
        update(carrier_events)
        .where(
            carrier_events.c.carrier == scan.carrier,
            carrier_events.c.event_id == scan.event_id,
        )
        .values(outcome=outcome.value, reason=reason or None)
    )


async def buffered_scans(conn: AsyncConnection, shipment_id: UUID) -> list[StoredScan]:
    """A shipment's scans waiting for a customs gate, in the order they happened."""
    rows = await conn.execute(
        select(carrier_events)
        .where(
            carrier_events.c.shipment_id == shipment_id,
            carrier_events.c.outcome == Outcome.BUFFERED.value,
        )
        .order_by(carrier_events.c.occurred_at, carrier_events.c.received_at)
    )
    return [StoredScan.from_row(row) for row in rows]


async def insert_quotes(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Store quotes (one statement)."""
    if rows:
        await conn.execute(quotes.insert(), rows)


async def get_quote(conn: AsyncConnection, quote_id: UUID) -> Row[Any] | None:
    """A stored quote."""
    return (await conn.execute(select(quotes).where(quotes.c.id == quote_id))).first()


async def purge_quotes(conn: AsyncConnection, *, expired_before: datetime) -> int:
    """Delete quotes that expired before the given instant."""
    result = await conn.execute(delete(quotes).where(quotes.c.expires_at < expired_before))
    return result.rowcount


async def add_observation(
    conn: AsyncConnection,
    *,
    service_key: str,
    shipment_id: UUID,
    transit_days: float,
    delivered_at: datetime,
) -> bool:
    """Record a delivered parcel's transit time; False when it was already recorded."""
    result = await conn.execute(
        insert(transit_observations)
        .values(
            service_key=service_key,
            shipment_id=shipment_id,
            transit_days=transit_days,
            delivered_at=delivered_at,
        )
        .on_conflict_do_nothing()
        .returning(transit_observations.c.id)
    )
    return result.first() is not None


async def recent_transit_days(
    conn: AsyncConnection, *, service_key: str, window: int
) -> list[float]:
    """Transit times of a service's most recent deliveries."""
    rows = await conn.execute(
        select(transit_observations.c.transit_days)
        .where(transit_observations.c.service_key == service_key)
        .order_by(transit_observations.c.id.desc())
        .limit(window)
    )
    return [float(row.transit_days) for row in rows]


async def save_stats(conn: AsyncConnection, *, service_key: str, observed: Observed) -> None:
    """Store a service's current statistics."""
    values = {
        "sample_size": observed.sample_size,
        "p50_days": observed.p50_days,
        "p90_days": observed.p90_days,
    }
    await conn.execute(
        insert(transit_stats)
        .values(service_key=service_key, **values)
        .on_conflict_do_update(
            index_elements=[transit_stats.c.service_key],
            set_={**values, "updated_at": func.now()},
        )
    )


async def stats_for(conn: AsyncConnection, keys: Iterable[str]) -> dict[str, Observed]:
    """The statistics of the given services (those that have any)."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = await conn.execute(select(transit_stats).where(transit_stats.c.service_key.in_(wanted)))
    return {r.service_key: Observed(r.sample_size, r.p50_days, r.p90_days) for r in rows}
