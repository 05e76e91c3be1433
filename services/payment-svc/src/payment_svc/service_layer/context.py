"""What the use cases need: a transaction to work in, the stores they read and write in it,
and the service's collaborators."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.providers.base import ProviderRegistry
from payment_svc.domain.clock import Clock
from payment_svc.domain.fees import FeeSchedule
from payment_svc.domain.fx import Rate
from payment_svc.domain.ledger import Transaction
from payment_svc.domain.merchants import MerchantDirectory
from payment_svc.domain.payment import Payment
from payment_svc.domain.refund import Refund
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


class PaymentStore(Protocol):
    """The payments and their provider attempts (`adapters.payments_repo`)."""

    async def add(self, payment: Payment) -> bool:
        """Insert a new payment; False when the order has one already."""
        ...

    async def save(self, payment: Payment, *, at: datetime) -> None:
        """Store the payment's new state (its row is locked by the transaction)."""
        ...

    async def get(self, payment_id: UUID, *, lock: bool = False) -> Payment | None:
        """The payment with this id."""
        ...

    async def by_order(self, order_id: UUID, *, lock: bool = False) -> Payment | None:
        """The order's payment."""
        ...

    async def by_provider_reference(
        self, provider: str, reference: str, *, lock: bool = False
    ) -> Payment | None:
        """The payment a provider knows by `reference`."""
        ...

    async def by_payment_reference(self, reference: str, *, lock: bool = False) -> Payment | None:
        """The bank wire payment quoting `reference`."""
        ...

    async def due_for_expiry(self, now: datetime, *, limit: int) -> list[Payment]:
        """Payments past their expiry, locked."""
        ...

    async def record_attempt(
        self,
        payment_id: UUID,
        *,
        operation: str,
        outcome: str,
        at: datetime,
        code: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Log what was asked of the provider and what it answered."""
        ...


class RefundStore(Protocol):
    """The refunds (`adapters.refunds_repo`)."""

    async def add(self, refund: Refund) -> bool:
        """Store a refund; False if its payment had one for the same trigger or id."""
        ...

    async def has_trigger(self, payment_id: UUID, trigger: str) -> bool:
        """Whether the payment already had a refund for `trigger`."""
        ...

    async def get(self, refund_id: UUID) -> Refund | None:
        """The refund with this id."""
        ...


class LedgerStore(Protocol):
    """The append-only ledger (`adapters.ledger_repo`)."""

    async def post(self, *transactions: Transaction | None) -> None:
        """Append the entries of each transaction (None: nothing moved)."""
        ...


class RateStore(Protocol):
    """Exchange rates (`adapters.fx_repo`)."""

    async def rates_between(self, currencies: Collection[str], *, at: datetime) -> list[Rate]:
        """The latest rate at or before `at` of every pair among `currencies`."""
        ...


class Stores(Protocol):
    """Opens each store on a transaction's connection: PostgreSQL in the service
    (`adapters.stores.SqlStores`), in memory in the unit tests."""

    def payments(self, conn: AsyncConnection) -> PaymentStore:
        """The payments, in the transaction of `conn`."""
        ...

    def refunds(self, conn: AsyncConnection) -> RefundStore:
        """The refunds, in the transaction of `conn`."""
        ...

    def ledger(self, conn: AsyncConnection) -> LedgerStore:
        """The ledger, in the transaction of `conn`."""
        ...

    def rates(self, conn: AsyncConnection, *, seed: Sequence[Rate]) -> RateStore:
        """The rates stored by operators, and the `seed` ones."""
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
    stores: Stores
