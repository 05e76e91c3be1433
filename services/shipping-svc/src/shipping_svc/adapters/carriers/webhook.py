"""A carrier integrated through its tracking webhook only.

Bookings get a tracking number of the carrier's format from our own sequence; everything else the
carrier reports through `POST /v1/carriers/{carrier}/tracking`. This is what production runs
for a carrier until an API integration for it exists.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.adapters.carriers.base import Parcel
from shipping_svc.adapters.tables import tracking_number_seq
from shipping_svc.domain.catalog import Carrier, Service
from shipping_svc.domain.tracking import ScanStatus


class WebhookCarrier:
    """Books locally; learns everything else from the carrier's signed webhooks."""

    def __init__(self, carrier: Carrier) -> None:
        self._carrier = carrier

    @property
    def carrier(self) -> Carrier:
        """The carrier and its tracking vocabulary."""
        return self._carrier

    def normalise(self, raw_code: str) -> ScanStatus | None:
        """The normalised status of a raw code; None if it is not in the vocabulary."""
        return self._carrier.normalise(raw_code)

    async def book(
        self, conn: AsyncConnection, *, shipment_id: UUID, service: Service, ship_date: date
    ) -> str:
        """A tracking number: the carrier's prefix, nine digits, the origin country."""
        number = await conn.scalar(tracking_number_seq.next_value())
        return f"{self._carrier.tracking_prefix}{int(number or 0):09d}{service.lane.origin}"

    async def cancel(self, conn: AsyncConnection, *, shipment_id: UUID) -> None:
        """Nothing to tell a webhook-only carrier."""

    async def hand_over(self, conn: AsyncConnection, parcel: Parcel) -> None:
        """Nothing to do: the carrier scans the parcel when it takes it."""

    async def order_return(
        self,
        conn: AsyncConnection,
        parcel: Parcel,
        *,
        checkpoint: Literal["export", "import"],
        since: datetime,
    ) -> None:
        """Nothing to do: customs instructs the carrier directly."""

    async def abandon(self, conn: AsyncConnection, *, shipment_id: UUID) -> None:
        """Nothing to do."""
