"""The interface every carrier adapter offers.

Methods take the caller's transaction so that an adapter which records its outbound work (the
sandbox network schedules its scans; a real integration would queue its API calls) does so
atomically with the booking that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from shipping_svc.domain.catalog import Carrier, Service
from shipping_svc.domain.tracking import ScanStatus


@dataclass(frozen=True, slots=True)
class Parcel:
    """A booked parcel, as a carrier adapter needs to know it."""

    shipment_id: UUID
    order_id: UUID
    tracking_number: str
    service: Service
    dispatched_at: datetime


class CarrierAdapter(Protocol):
    """Book, cancel and follow parcels with one carrier."""

    @property
    def carrier(self) -> Carrier:
        """The carrier and its tracking vocabulary."""
        ...

    def normalise(self, raw_code: str) -> ScanStatus | None:
        """The normalised status of one of the carrier's raw codes; None if it is unknown."""
        ...

    async def book(
        self, conn: AsyncConnection, *, shipment_id: UUID, service: Service, ship_date: date
    ) -> str:
        """Book a parcel; returns its tracking number."""
        ...

    async def cancel(self, conn: AsyncConnection, *, shipment_id: UUID) -> None:
        """Cancel a booking that was not dispatched."""
        ...

    async def hand_over(self, conn: AsyncConnection, parcel: Parcel) -> None:
        """The carrier takes the parcel (dispatch)."""
        ...

    async def order_return(
        self,
        conn: AsyncConnection,
        parcel: Parcel,
        *,
        checkpoint: Literal["export", "import"],
        since: datetime,
    ) -> None:
        """Customs ordered the parcel back to the sender."""
        ...

    async def abandon(self, conn: AsyncConnection, *, shipment_id: UUID) -> None:
        """The parcel was seized: its journey ends here."""
        ...
