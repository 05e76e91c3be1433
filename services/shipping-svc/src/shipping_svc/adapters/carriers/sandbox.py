"""The sandbox carrier: a webhook carrier whose scans the sandbox network plays back.

At hand-over it plans the parcel's whole journey (transit time drawn from the lane service's
distribution, deterministic under the seed) and stores each scan with the real time it is due.
The network (an entrypoint) posts them, signed, through the tracking webhook's code path.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.carriers.base import Parcel
from shipping_svc.adapters.carriers.webhook import WebhookCarrier
from shipping_svc.adapters.sandbox_journey import PlannedScan, plan_forward, plan_return
from shipping_svc.adapters.tables import sandbox_scans
from shipping_svc.domain.catalog import Carrier
from shipping_svc.domain.clock import Clock


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxConfig:
    """How the sandbox network behaves."""

    seed: int
    seconds_per_day: float
    delivery_failure_rate: float = 0.0
    unknown_code_rate: float = 0.0


def parcel_rng(seed: int, order_id: UUID, leg: str) -> random.Random:
    """The random source of one leg of one parcel: same seed and order, same journey."""
    return random.Random(f"{seed}:{order_id}:{leg}")


class SandboxCarrier(WebhookCarrier):
    """A carrier simulated by the sandbox network."""

    def __init__(self, carrier: Carrier, *, config: SandboxConfig, clock: Clock) -> None:
        super().__init__(carrier)
        self._config = config
        self._clock = clock

    async def hand_over(self, conn: AsyncConnection, parcel: Parcel) -> None:
        """Plan the parcel's journey and store its scans."""
        cfg = self._config
        plan = plan_forward(
            parcel_rng(cfg.seed, parcel.order_id, "forward"),
            self.carrier,
            parcel.service,
            failure_rate=cfg.delivery_failure_rate,
            unknown_rate=cfg.unknown_code_rate,
        )
        await self._store(conn, parcel, plan, leg="forward", sim_start=parcel.dispatched_at)

    async def cancel(self, conn: AsyncConnection, *, shipment_id: UUID) -> None:
        """Forget the parcel's pending scans."""
        await _cancel_pending(conn, shipment_id)

    async def order_return(
        self,
        conn: AsyncConnection,
        parcel: Parcel,
        *,
        checkpoint: Literal["export", "import"],
        since: datetime,
    ) -> None:
        """Drop the forward journey and plan the way back, from the parcel's latest scan."""
        await _cancel_pending(conn, parcel.shipment_id)
        last = await conn.scalar(
            select(sandbox_scans.c.occurred_at)
            .where(
                sandbox_scans.c.shipment_id == parcel.shipment_id,
                sandbox_scans.c.state == "sent",
            )
            .order_by(sandbox_scans.c.occurred_at.desc())
            .limit(1)
        )
        sim_start = max(filter(None, (last, since, parcel.dispatched_at)))
        rng = parcel_rng(self._config.seed, parcel.order_id, "return")
        plan = plan_return(rng, self.carrier, parcel.service, checkpoint=checkpoint)
        await self._store(conn, parcel, plan, leg="return", sim_start=sim_start)

    async def abandon(self, conn: AsyncConnection, *, shipment_id: UUID) -> None:
        """The parcel was seized: no more scans."""
        await _cancel_pending(conn, shipment_id)

    async def _store(
        self,
        conn: AsyncConnection,
        parcel: Parcel,
        plan: list[PlannedScan],
        *,
        leg: str,
        sim_start: datetime,
    ) -> None:
        now = self._clock.now()
        rows = [
            {
                "shipment_id": parcel.shipment_id,
                "carrier": self.carrier.code,
                "tracking_number": parcel.tracking_number,
                "leg": leg,
                "raw_code": scan.raw_code,
                "event_id": f"sbx-{parcel.shipment_id}-{leg}-{index}",
                "location": {"country": scan.country},
                "occurred_at": sim_start + timedelta(days=scan.offset_days),
                "due_at": now + timedelta(seconds=scan.offset_days * self._config.seconds_per_day),
                "state": "pending",
            }
            for index, scan in enumerate(plan)
        ]
        if rows:
            await conn.execute(sandbox_scans.insert(), rows)


async def _cancel_pending(conn: AsyncConnection, shipment_id: UUID) -> None:
    await conn.execute(
        update(sandbox_scans)
        .where(sandbox_scans.c.shipment_id == shipment_id, sandbox_scans.c.state == "pending")
        .values(state="cancelled")
    )
