"""Periodic purges (published outbox rows, old inbox rows, expired idempotency keys)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog

log = structlog.get_logger(__name__)

#: A name for the logs and a coroutine function that deletes what is due and says how much.
Purge = tuple[str, Callable[[], Awaitable[int]]]


class PeriodicPurge:
    """Runs each purge every `interval_s`; a failing purge is logged and tried again later."""

    def __init__(self, purges: Sequence[Purge], *, interval_s: float) -> None:
        self._purges = list(purges)
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start purging in the running event loop."""
        self._task = asyncio.create_task(self._run(), name="periodic-purge")

    async def stop(self) -> None:
        """Stop purging (a purge in progress is cancelled; its transaction rolls back)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self) -> dict[str, int]:
        """Run every purge once; return how many rows each removed (-1 when it failed)."""
        removed: dict[str, int] = {}
        for name, purge in self._purges:
            try:
                removed[name] = await purge()
            except Exception as exc:
                removed[name] = -1
                log.warning("purge failed; trying again later", what=name, error=str(exc))
            else:
                if removed[name]:
                    log.info("purged", what=name, rows=removed[name])
        return removed

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.run_once()
