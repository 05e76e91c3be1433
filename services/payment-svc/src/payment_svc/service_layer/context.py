"""What the use cases need: a transaction to work in, and the service's collaborators."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.providers.base import ProviderRegistry
from payment_svc.domain.clock import Clock
from payment_svc.domain.fees import FeeSchedule
from payment_svc.domain.fx import Rate
from payment_svc.domain.merchants import MerchantDirectory
from xborder_events import Envelope, Event


class Tx(Protocol):
    """One database transaction and the events it will publish: a unit of work (HTTP,
    timers) or a consumer's handler context."""

    @property
    def conn(self) -> AsyncConnection:
        """The transaction's connection."""
        ...

    def emit(self, event: Event) -> Envelope:
        """Queue an event; it is written to the outbox with the transaction."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """The collaborators of every use case, built once by the composition root."""

    providers: ProviderRegistry
    fees: FeeSchedule
    merchants: MerchantDirectory
    seed_rates: Sequence[Rate]
    clock: Clock
    pivot_currency: str
    webhook_secret: Callable[[str], bytes]
    webhook_tolerance_s: int
