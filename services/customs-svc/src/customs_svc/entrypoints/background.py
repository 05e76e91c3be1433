"""The timer: applies hold deadlines and the sandbox authority's due decisions, periodically."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from customs_svc.service_layer.context import CustomsContext
from customs_svc.service_layer.timers import run_due
from xborder_platform.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


class Timer:
    """Scans for what is due every `interval_s` until stopped; what is due lives in the DB."""

    def __init__(
        self, *, ctx: CustomsContext, uow_factory: UnitOfWorkFactory, interval_s: float
    ) -> None:
        self._ctx = ctx
        self._uow_factory = uow_factory
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Apply everything due now, batch after batch."""
        total = 0
        while True:
            done = await run_due(self._ctx, self._uow_factory)
            total += done
            if done < self._ctx.policy.timer_batch_size:
                return total

    def start(self) -> None:
        """Run in the background until `stop()`."""
        self._task = asyncio.create_task(self._run(), name="customs-timer")

    async def stop(self) -> None:
        """Stop (an item in progress rolls back and is done again next time)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:
                log.warning("customs timer failed; retrying", error=str(exc))
            await asyncio.sleep(self._interval)
