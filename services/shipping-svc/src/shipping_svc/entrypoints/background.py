"""Periodic work of the service: dispatch bookings whose day has come, purge old quotes."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from shipping_svc.adapters.tracking_repo import purge_quotes
from shipping_svc.service_layer.context import ShippingContext
from shipping_svc.service_layer.dispatch import dispatch_due
from xborder_platform.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)

#: Quotes are kept this long after they expire (support questions about a checkout).
QUOTE_RETENTION = timedelta(days=7)


class Dispatcher:
    """Dispatches deferred bookings on their day and purges expired quotes, periodically."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        ctx: ShippingContext,
        uow_factory: UnitOfWorkFactory,
        interval_s: float,
        purge_interval_s: float,
        batch: int = 500,
    ) -> None:
        self._engine = engine
        self._ctx = ctx
        self._uow_factory = uow_factory
        self._interval = interval_s
        self._purge_every = purge_interval_s
        self._batch = batch
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Dispatch what is due now; return how many parcels were dispatched."""
        total = 0
        while True:
            done = await dispatch_due(self._ctx, self._uow_factory, limit=self._batch)
            total += done
            if done < self._batch:
                return total

    async def purge(self) -> int:
        """Delete quotes long expired."""
        cutoff = self._ctx.clock.now() - QUOTE_RETENTION
        async with self._engine.begin() as conn:
            return await purge_quotes(conn, expired_before=cutoff)

    def start(self) -> None:
        """Run in the background until `stop()`."""
        self._task = asyncio.create_task(self._run(), name="shipping-dispatcher")

    async def stop(self) -> None:
        """Stop (a dispatch in progress rolls back and is redone next time)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_purge = loop.time() + self._purge_every
        while True:
            try:
                await self.run_once()
                if loop.time() >= next_purge:
                    next_purge = loop.time() + self._purge_every
                    if purged := await self.purge():
                        log.info("purged expired quotes", rows=purged)
            except Exception as exc:
                log.warning("dispatcher failed; retrying", error=str(exc))
            await asyncio.sleep(self._interval)
