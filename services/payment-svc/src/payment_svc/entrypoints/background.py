"""The service's timers: expiring payments that waited too long, and the sandbox network
delivering its simulated buyers' webhooks. They run where the consumers run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from fastapi import FastAPI

from payment_svc.service_layer.context import Services
from payment_svc.service_layer.expiry import expire_due
from payment_svc.service_layer.sandbox import deliver_next, give_up
from xborder_platform.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)
_EXPIRY_BATCH = 100
_GIVE_UP_AFTER = 3


class Timers:
    """Runs the periodic jobs until stopped."""

    def __init__(
        self,
        make_uow: UnitOfWorkFactory,
        svc: Services,
        *,
        expiry_interval_s: float,
        sandbox_interval_s: float | None,
    ) -> None:
        self._make_uow = make_uow
        self._svc = svc
        self._expiry_interval_s = expiry_interval_s
        self._sandbox_interval_s = sandbox_interval_s
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the jobs as background tasks."""
        self._tasks.append(asyncio.create_task(self._loop("expiry", self._expire)))
        if self._sandbox_interval_s is not None:
            self._tasks.append(asyncio.create_task(self._loop("sandbox", self._deliver)))

    async def stop(self) -> None:
        """Stop the jobs (a job in flight finishes or is rolled back)."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _loop(self, name: str, step: Callable[[], Awaitable[float]]) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                pause = await step()
                failures = 0
            except Exception as exc:
                failures += 1
                log.warning("timer failed", timer=name, error=str(exc), failures=failures)
                pause = min(0.5 * 2**failures, 30.0)
                if name == "sandbox" and failures >= _GIVE_UP_AFTER:
                    await self._give_up()
            await self._sleep(pause)

    async def _expire(self) -> float:
        async with self._make_uow() as uow:
            count = await expire_due(uow, self._svc, now=self._svc.clock.now(), limit=_EXPIRY_BATCH)
            await uow.commit()
        if count:
            log.info("payments expired", count=count)
        return 0.0 if count == _EXPIRY_BATCH else self._expiry_interval_s

    async def _deliver(self) -> float:
        assert self._sandbox_interval_s is not None
        async with self._make_uow() as uow:
            delivered = await deliver_next(uow, self._svc, now=self._svc.clock.now())
            await uow.commit()
        return 0.0 if delivered else self._sandbox_interval_s

    async def _give_up(self) -> None:
        with contextlib.suppress(Exception):
            async with self._make_uow() as uow:
                await give_up(uow, now=self._svc.clock.now())
                await uow.commit()
            log.error("a sandbox webhook kept failing and was dropped")


def timers_lifespan(
    svc: Services, *, run: bool, expiry_interval_s: float, sandbox_interval_s: float | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The extra lifespan running the timers (when `run`) for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not run:
            yield
            return
        timers = Timers(
            app.state.unit_of_work,
            svc,
            expiry_interval_s=expiry_interval_s,
            sandbox_interval_s=sandbox_interval_s,
        )
        timers.start()
        try:
            yield
        finally:
            await timers.stop()

    return lifespan
