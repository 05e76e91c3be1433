"""The outbox relay: publishes committed outbox rows to Kafka, in order per key, at least once.

Ordering and exclusivity: the key space is cut into `slots` (a hash of `aggregateid`); a relay
publishes a slot's rows only while it holds that slot's transaction-scoped advisory lock, in
`seq` order, and marks them published before releasing it. Any number of relay instances can run
at once: they share the slots and never publish one key concurrently.

Delivery: a batch is sent without waiting per message, then its acknowledgements (acks=all) are
awaited; an acknowledged row is marked published unless an earlier row of its key failed, and the
rest are sent again after a backoff. A crash after the send and before the mark publishes a row
twice, and so does an acknowledgement lost on the way back (the producer is not idempotent, since
not every Kafka-protocol broker supports that): consumers absorb both with their inbox.

Wake-ups: writers `NOTIFY` at commit; the relay also polls, since notifications are a hint only.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from opentelemetry.trace import SpanKind
from sqlalchemy import BigInteger, Table, bindparam, cast, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from xborder_platform.kafka import producer_options, stop_quietly
from xborder_platform.messaging.metrics import MessagingMetrics
from xborder_platform.messaging.outbox import NOTIFY_CHANNEL, payload_bytes
from xborder_platform.tracing import span_from

log = structlog.get_logger(__name__)

#: First half of the advisory lock key of a relay slot (the second half is the slot number).
SLOT_LOCK_CLASS = 0x78_62_72_6C  # "xbrl"


@dataclass(frozen=True, kw_only=True)
class RelayConfig:
    """How a relay batches, shares the key space, backs off and purges."""

    batch_size: int = 500
    slots: int = 16
    poll_interval_s: float = 1.0
    backoff_min_s: float = 0.1
    backoff_max_s: float = 10.0
    request_timeout_ms: int = 10_000
    retention_s: float = 7 * 86_400
    purge_interval_s: float = 300.0
    stats_interval_s: float = 5.0


class PublishFailed(RuntimeError):
    """Some rows of a batch were not acknowledged; they stay pending and are sent again."""


def slot_of(outbox: Table, slots: int) -> Any:
    """SQL expression: the slot of a row's key, stable across processes and restarts."""
    return func.mod(cast(func.hashtext(outbox.c.aggregateid), BigInteger) + 2**31, slots)


class OutboxRelay:
    """Publishes one service's outbox; `run()` until `stop()`."""

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        *,
        bootstrap_servers: str,
        client_id: str,
        config: RelayConfig | None = None,
        metrics: MessagingMetrics | None = None,
        producer_factory: Callable[[], AIOKafkaProducer] | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._config = config or RelayConfig()
        self._metrics = metrics
        self._client_id = client_id
        self._producer_factory = producer_factory or (
            lambda: AIOKafkaProducer(
                **producer_options(
                    bootstrap_servers,
                    client_id=client_id,
                    request_timeout_ms=self._config.request_timeout_ms,
                )
            )
        )
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._listener: AsyncConnection | None = None
        self._last_purge = 0.0
        self.published = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Publish until `stop()`: drain, then wait for a notification or the poll interval."""
        backoff = self._config.backoff_min_s
        log.info("outbox relay started", slots=self._config.slots)
        # The backlog gauges have their own timer: they must keep moving while the broker is
        # down, which is when the age of the oldest unpublished row matters most.
        stats = asyncio.create_task(self._refresh_stats(), name="outbox-relay-stats")
        try:
            while not self._stopping.is_set():
                try:
                    await self._ensure_listener()
                    self._wake.clear()
                    sent = await self.publish_pending()
                    await self._purge_if_due()
                    backoff = self._config.backoff_min_s
                    if sent:
                        continue
                    await self._sleep(self._config.poll_interval_s, wake_on_notify=True)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning(
                        "outbox relay cannot publish, backing off",
                        error=f"{type(exc).__name__}: {exc}",
                        retry_in_s=round(backoff, 2),
                    )
                    await self._drop_producer()
                    await self._sleep(backoff, wake_on_notify=False)
                    backoff = min(backoff * 2, self._config.backoff_max_s)
        finally:
            stats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stats
            await self._drop_producer()
            await self._drop_listener()
            log.info("outbox relay stopped", published=self.published)

    def stop(self) -> None:
        """Ask `run()` to return after the batch in flight."""
        self._stopping.set()
        self._wake.set()

    async def _sleep(self, seconds: float, *, wake_on_notify: bool) -> None:
        waiters = [asyncio.ensure_future(self._stopping.wait())]
        if wake_on_notify:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # -- publishing --------------------------------------------------------------------------

    async def publish_pending(self) -> int:
        """Publish every slot's pending rows once; return how many rows were acknowledged."""
        async with self._engine.connect() as conn:
            slots = list(
                await conn.scalars(
                    select(slot_of(self._outbox, self._config.slots))
                    .where(self._outbox.c.published_at.is_(None))
                    .distinct()
                )
            )
        random.shuffle(slots)  # instances start on different slots
        total = 0
        failure: PublishFailed | None = None
        for slot in slots:
            if self._stopping.is_set():
                break
            try:
                total += await self._publish_slot(int(slot))
            except PublishFailed as exc:
                failure = exc
                break
        if failure is not None:
            raise failure
        return total

    async def _publish_slot(self, slot: int) -> int:
        outbox = self._outbox
        async with self._engine.connect() as conn, conn.begin():
            locked = await conn.scalar(
                select(func.pg_try_advisory_xact_lock(SLOT_LOCK_CLASS, slot))
            )
            if not locked:
                return 0  # another relay is on it
            rows = (
                await conn.execute(
                    select(
                        outbox.c.seq,
                        outbox.c.topic,
                        outbox.c.aggregateid,
                        outbox.c.payload,
                        outbox.c.headers,
                    )
                    .where(
                        outbox.c.published_at.is_(None),
                        slot_of(outbox, self._config.slots) == slot,
                    )
                    .order_by(outbox.c.seq)
                    .limit(self._config.batch_size)
                )
            ).all()
            if not rows:
                return 0
            done, error = await self._send(rows)
            acked = len(done)
            if done:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.seq.in_(bindparam("seqs", expanding=True)))
                    .values(published_at=func.now()),
                    {"seqs": done},
                )
        self.published += acked
        if self._metrics is not None:
            self._metrics.outbox_published.inc(acked)
        if error is not None:
            raise PublishFailed(
                f"{len(rows) - acked} of {len(rows)} rows not acknowledged: {error}"
            ) from error
        return acked

    async def _send(self, rows: Sequence[Any]) -> tuple[list[int], BaseException | None]:
        """Send `rows` as one batch; return the seqs that may be marked published.

        A row counts when it was acknowledged and no earlier row of its key in the batch failed
        (that one is sent again first, and this one after it, so the key stays in order). Rows
        of other keys acknowledged after a failure count too: a partition whose leader is away
        does not make the healthy partitions' rows go out twice.
        """
        producer = await self._ensure_producer()
        futures: list[asyncio.Future[Any]] = []
        error: BaseException | None = None
        for row in rows:
            try:
                with span_from(
                    f"publish {row.topic}",
                    traceparent=row.headers.get("ce_traceparent"),
                    kind=SpanKind.PRODUCER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": row.topic,
                        "messaging.message.id": row.headers.get("ce_id", ""),
                        "xborder.order_id": row.aggregateid,
                    },
                ):
                    futures.append(
                        await producer.send(
                            row.topic,
                            value=payload_bytes(row.payload),
                            key=row.aggregateid.encode(),
                            headers=[(k, str(v).encode()) for k, v in row.headers.items()],
                        )
                    )
            except Exception as exc:
                error = exc
                break
        results = await asyncio.gather(*futures, return_exceptions=True)
        done: list[int] = []
        failed_keys: set[str] = set()
        for index, row in enumerate(rows):
            sent = index < len(results)  # the rows after a failed send() were not sent at all
            if sent and not isinstance(results[index], BaseException):
                if row.aggregateid not in failed_keys:
                    done.append(row.seq)
                continue
            failed_keys.add(row.aggregateid)
            if sent and error is None:
                error = results[index]
        return done, error

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._producer_factory()
            try:
                await producer.start()
            except BaseException:
                await stop_quietly(producer)
                raise
            self._producer = producer
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await stop_quietly(producer)

    # -- wake-ups ----------------------------------------------------------------------------

    async def _ensure_listener(self) -> None:
        """LISTEN on a dedicated connection; if it breaks, polling carries on until it is back."""
        if self._listener is not None and not self._listener.closed:
            raw = await self._listener.get_raw_connection()
            if not raw.driver_connection.is_closed():  # type: ignore[union-attr]
                return
        await self._drop_listener()
        try:
            conn = await self._engine.connect()
            raw = await conn.get_raw_connection()
            await raw.driver_connection.add_listener(  # type: ignore[union-attr]
                NOTIFY_CHANNEL, lambda *_: self._wake.set()
            )
            self._listener = conn
        except Exception as exc:
            log.warning("outbox relay cannot LISTEN, polling only", error=str(exc))

    async def _drop_listener(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()  # the connection carries a listener: never pool it
                await conn.close()

    # -- housekeeping ------------------------------------------------------------------------

    async def _refresh_stats(self) -> None:
        """Every `stats_interval_s`, whether publishing works or not: refresh the backlog gauges."""
        if self._metrics is None:
            return
        while True:
            try:
                await self.update_backlog_metrics()
            except Exception as exc:  # the database is down too: try again at the next tick
                log.warning("outbox relay cannot read its backlog", error=str(exc))
            await asyncio.sleep(self._config.stats_interval_s)

    async def _purge_if_due(self) -> None:
        now = time.monotonic()
        if now - self._last_purge >= self._config.purge_interval_s:
            self._last_purge = now
            purged = await purge_published(self._engine, self._outbox, self._config.retention_s)
            if purged:
                log.info("purged published outbox rows", rows=purged)

    async def update_backlog_metrics(self) -> None:
        """Refresh the backlog gauges: unpublished rows and the age of the oldest one."""
        assert self._metrics is not None
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                        f" FROM {self._outbox.name} WHERE published_at IS NULL"
                    )
                )
            ).one()
        self._metrics.outbox_backlog.set(row[0])
        self._metrics.outbox_oldest_age.set(float(row[1]))


async def purge_published(
    engine: AsyncEngine, outbox: Table, retention_s: float, *, chunk: int = 5_000
) -> int:
    """Delete rows published more than `retention_s` ago, in chunks; return how many."""
    total = 0
    while True:
        async with engine.begin() as conn:
            result = await conn.execute(
                text(
                    f"DELETE FROM {outbox.name} WHERE seq IN (SELECT seq FROM {outbox.name}"
                    " WHERE published_at < now() - make_interval(secs => :retention)"
                    " ORDER BY published_at LIMIT :chunk)"
                ),
                {"retention": retention_s, "chunk": chunk},
            )
        total += result.rowcount
        if result.rowcount < chunk:
            return total
