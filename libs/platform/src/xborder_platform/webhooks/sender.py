"""The webhook sender: a background task that delivers pending deliveries, in order per order.

A lane is one order's deliveries to one endpoint. A lane's deliveries go out one at a time in
`seq` order: the next is sent only once the one before it succeeded, however long that takes; a
failing delivery is retried on the schedule of `WebhookSettings` for as long as its endpoint is
enabled, and holds back only its own order's later deliveries, not other orders'. An endpoint
that keeps failing, without a single success, for `disable_after_s` is disabled; its pending
deliveries stay, to be sent when it is enabled again.

An attempt runs in one transaction holding the lane's advisory lock: any number of senders
(processes) can run, and never send one lane's deliveries concurrently. A crash after the
receiver answered and before the commit sends that delivery again: at least once, like every
webhook (receivers deduplicate on `webhook-id`). Different lanes, of one endpoint or several,
go out concurrently, `concurrency` at a time per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from xborder_platform.webhooks import sending, store
from xborder_platform.webhooks.destinations import Resolver, system_resolver
from xborder_platform.webhooks.poster import Outcome, Poster
from xborder_platform.webhooks.retries import retry_delay_s
from xborder_platform.webhooks.settings import WebhookSettings

log = structlog.get_logger(__name__)

#: Deliveries one lane may send in a row before its slot goes back to the pool.
_BURST = 50
_PURGE_INTERVAL_S = 600.0


class WebhookMetrics:
    """Attempts by outcome and endpoints disabled, on the service's registry."""

    def __init__(self, registry: CollectorRegistry | None = None, *, service: str) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.attempts = Counter(
            "xborder_webhook_attempts",
            "Webhook delivery attempts by outcome: delivered, failed, refused.",
            ["service", "outcome"],
            registry=registry,
        )
        self.disabled = Counter(
            "xborder_webhook_endpoints_disabled",
            "Webhook endpoints disabled after failing for the whole disable window.",
            ["service"],
            registry=registry,
        ).labels(service)
        self._service = service

    def attempt(self, outcome: str) -> None:
        """Count one attempt."""
        self.attempts.labels(self._service, outcome).inc()


class WebhookSender:
    """Delivers pending webhooks until stopped: `start()` in the background process, `stop()`."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        settings: WebhookSettings,
        resolver: Resolver = system_resolver,
        tls: ssl.SSLContext | bool = True,
        metrics: WebhookMetrics | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._poster = Poster(settings, resolver=resolver, tls=tls)
        self._metrics = metrics
        self._disable_after = timedelta(seconds=settings.disable_after_s)
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[sending.Lane, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_purge = 0.0
        self.attempts = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start sending in the running event loop."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        """Stop: attempts in flight may finish (up to the timeout), then the rest is cancelled."""
        self._stopping.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        if self._inflight:
            await asyncio.wait(self._inflight.values(), timeout=self._settings.timeout_s + 1)
        for pending in list(self._inflight.values()):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        await self._poster.aclose()

    async def _run(self) -> None:
        log.info("webhook sender started", concurrency=self._settings.concurrency)
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self._dispatch()
                await self._housekeeping()
            except Exception as exc:
                log.warning("webhook sender cannot poll", error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval_s)
        log.info("webhook sender stopped", attempts=self.attempts)

    async def _dispatch(self) -> None:
        free = self._settings.concurrency - len(self._inflight)
        if free <= 0:
            return
        async with self._engine.connect() as conn:
            due = await sending.due_lanes(
                conn, now=_now(), limit=min(self._settings.batch_size, free + len(self._inflight))
            )
        for lane in [lane for lane in due if lane not in self._inflight][:free]:
            task = asyncio.create_task(self._drain_logged(lane), name="webhook-delivery")
            self._inflight[lane] = task
            task.add_done_callback(functools.partial(self._done, lane))

    def _done(self, lane: sending.Lane, _: asyncio.Task[None]) -> None:
        self._inflight.pop(lane, None)
        self._wake.set()

    async def run_once(self) -> int:
        """Send what is due now, every lane once (tests, tools); return the attempts made."""
        before = self.attempts
        async with self._engine.connect() as conn:
            due = await sending.due_lanes(conn, now=_now(), limit=self._settings.batch_size)
        limit = asyncio.Semaphore(self._settings.concurrency)

        async def drain(lane: sending.Lane) -> None:
            async with limit:
                await self._drain_logged(lane)

        await asyncio.gather(*(drain(lane) for lane in due))
        return self.attempts - before

    # -- one lane ----------------------------------------------------------------------------

    async def _drain_logged(self, lane: sending.Lane) -> None:
        try:
            for _ in range(_BURST):
                if self._stopping.is_set() or not await self._attempt(lane):
                    return
        except Exception as exc:
            log.warning(
                "webhook delivery failed to run",
                endpoint_id=str(lane.endpoint_id),
                order_id=lane.order_id,
                error=f"{type(exc).__name__}: {exc}",
            )

    async def _attempt(self, lane: sending.Lane) -> bool:
        """Send the lane's oldest pending delivery if due; True when it was delivered."""
        async with self._engine.connect() as conn, conn.begin():
            if not await sending.lock_lane(conn, lane):
                return False  # another sender has it
            endpoint = await store.get_endpoint(conn, lane.endpoint_id, merchant_id=None)
            delivery = await sending.head_delivery(conn, lane)
            if endpoint is None or not endpoint.enabled or delivery is None:
                return False
            if delivery.next_attempt_at is None or delivery.next_attempt_at > _now():
                return False
            at = _now()
            outcome = await self._poster.send(endpoint, delivery)
            retry_at = None
            if not outcome.ok:
                delay = retry_delay_s(
                    delivery.retry_index + 1,
                    schedule_s=self._settings.retry_schedule_s,
                    time_scale=self._settings.time_scale,
                    jitter=self._settings.jitter,
                )
                retry_at = at + timedelta(seconds=delay)
            recorded = await sending.record_attempt(
                conn,
                delivery,
                at=at,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
                retry_at=retry_at,
            )
            if recorded:
                await self._note(conn, endpoint, outcome, at=at)
        self.attempts += 1
        return recorded and outcome.ok

    async def _note(
        self, conn: AsyncConnection, endpoint: Row[Any], outcome: Outcome, *, at: datetime
    ) -> None:
        self._count(outcome)
        if outcome.ok:
            await sending.note_success(conn, endpoint.id)
            return
        disabled = await sending.note_failure(
            conn, endpoint.id, at=at, disable_after=self._disable_after
        )
        if disabled:
            log.warning("webhook endpoint disabled after failing", endpoint_id=str(endpoint.id))
            if self._metrics is not None:
                self._metrics.disabled.inc()

    def _count(self, outcome: Outcome) -> None:
        if self._metrics is not None:
            refused = (outcome.error or "").startswith("destination refused")
            self._metrics.attempt("delivered" if outcome.ok else "refused" if refused else "failed")

    # -- housekeeping ------------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_purge < _PURGE_INTERVAL_S:
            return
        self._last_purge = now
        cutoff = _now() - timedelta(seconds=self._settings.retention_s)
        total = 0
        while True:
            async with self._engine.begin() as conn:
                purged = await sending.purge_delivered(conn, older_than=cutoff, chunk=5_000)
            total += purged
            if purged < 5_000:
                break
        if total:
            log.info("purged delivered webhooks", rows=total)


def _now() -> datetime:
    return datetime.now(UTC)
