"""The PostgreSQL stores of the use cases, each opened on the caller's connection."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from payment_svc.adapters.fx_repo import FxRepository
from payment_svc.adapters.ledger_repo import LedgerRepository
from payment_svc.adapters.payments_repo import PaymentRepository
from payment_svc.adapters.refunds_repo import RefundRepository
from payment_svc.domain.fx import Rate


class SqlStores:
    """The repositories in PostgreSQL (SQLAlchemy Core), on the transaction's connection."""

    def payments(self, conn: AsyncConnection) -> PaymentRepository:
        """The payments and their provider attempts."""
        return PaymentRepository(conn)

    def refunds(self, conn: AsyncConnection) -> RefundRepository:
        """The refunds."""
        return RefundRepository(conn)

    def ledger(self, conn: AsyncConnection) -> LedgerRepository:
        """The ledger."""
        return LedgerRepository(conn)

    def rates(self, conn: AsyncConnection, *, seed: Sequence[Rate]) -> FxRepository:
        """The operators' rates, and the seed file's."""
        return FxRepository(conn, seed=seed)
