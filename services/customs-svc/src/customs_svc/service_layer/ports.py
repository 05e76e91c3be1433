"""What the use cases need from the outside, as protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from customs_svc.domain.declaration import Decision

#: Queue an event in the current transaction's outbox.
Emit = Callable[[Any], Any]


class Authority(Protocol):
    """A customs authority adapter: filings go out, decisions come back.

    Decisions of every adapter reach the service through `decisions.apply_decision`, whether
    they arrive over the signed webhook or from the sandbox's timer.
    """

    kind: str

    async def filed(
        self, conn: AsyncConnection, *, declaration_id: UUID, country: str, at: datetime
    ) -> None:
        """A declaration was filed at `at`."""

    async def documents_submitted(
        self, conn: AsyncConnection, *, hold_id: UUID, country: str, at: datetime
    ) -> None:
        """The documents a hold asked for are complete."""

    def respond_by(self, *, country: str, held_at: datetime, days: Decimal) -> datetime:
        """The respond-by of a hold of `days` days (compressed in the sandbox)."""


class SandboxDecider(Protocol):
    """The sandbox authority's side that decides due declarations and reviews."""

    def first_decision(
        self,
        *,
        declaration_id: UUID,
        order_id: UUID,
        checkpoint: str,
        country: str,
        prohibited: str | None,
        restricted_documents: tuple[str, ...],
        hold_documents: tuple[str, ...],
        respond_days: Decimal,
        now: datetime,
    ) -> Decision:
        """The decision on a filed declaration."""

    def review_decision(
        self,
        *,
        hold_id: UUID,
        declaration_id: UUID,
        order_id: UUID,
        checkpoint: str,
        country: str,
        now: datetime,
    ) -> Decision:
        """The decision after a hold's documents were reviewed."""
