"""The consumer loop: one database transaction per fetched batch, inbox-deduplicated, then commit.

For each batch: decode every record (undecodable ones are dead-lettered), then in ONE transaction
record each event id in the inbox and apply its handler, each event under a savepoint so one
failing handler does not undo the others. Events whose handler raised, and the later events of
the same key in the batch, are retried one by one with backoff; those that keep failing go to
the dead-letter topic with the error. Offsets are committed only after all of that, so a crash
at any point redelivers the batch and the inbox absorbs what was already applied.

Errors of the database connection itself are not the event's fault: the whole batch is retried
with backoff until the database answers again, and nothing is dead-lettered for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import structlog
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import CommitFailedError, KafkaError
from opentelemetry.trace import SpanKind
from sqlalchemy import Table, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from xborder_events import Decoded, DecodeError, Envelope, Event, decode, topic_for
from xborder_platform.kafka import producer_options, stop_quietly
from xborder_platform.messaging.dead_letters import dead_letter_headers
from xborder_platform.messaging.metrics import MessagingMetrics
from xborder_platform.messaging.outbox import write_outbox
from xborder_platform.tracing import span_from
from xborder_platform.uow import Emitter

log = structlog.get_logger(__name__)

#: A fetched record (aiokafka ships no type hints, so this is checked loosely).
Record: TypeAlias = ConsumerRecord


@dataclass(kw_only=True)
class HandlerContext:
    """What a handler gets: the batch transaction's connection and the event being handled."""

    conn: AsyncConnection
    envelope: Envelope
    event: Event
    record: Record
    emitter: Emitter

    def emit(self, event: Event) -> Envelope:
        """Queue an event caused by this one; it commits with the handler's changes."""
        return self.emitter.emit(event)


Handler = Callable[[HandlerContext], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class ConsumerSpec:
    """One consumer group: the topics it reads and a handler per event type it cares about.

    Event types without a handler are skipped (and their offsets committed).
    """

    group: str
    topics: Sequence[str]
    handlers: Mapping[str, Handler]


@dataclass(frozen=True, kw_only=True)
class ConsumerConfig:
    """Batching, fetch latency, group timeouts and retry policy."""

    batch_size: int = 500
    fetch_max_wait_ms: int = 20
    poll_timeout_ms: int = 200
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_attempts: int = 5
    retry_backoff_s: float = 0.2
    retry_backoff_max_s: float = 5.0
    request_timeout_ms: int = 10_000
    #: How often topic metadata is refreshed, so added partitions are consumed without delay.
    metadata_max_age_ms: int = 30_000
    #: How often the lag gauges are refreshed, whether batches complete or not.
    lag_interval_s: float = 5.0


@dataclass
class _Item:
    record: Record
    decoded: Decoded
    handler: Handler
    attempts: int = 0
    error: BaseException | None = None


@dataclass
class _DeadLetter:
    record: Record
    reason: str
    error: str
    attempts: int


@dataclass
class _Outcome:
    processed: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead: list[_DeadLetter] = field(default_factory=list)


class InfrastructureError(RuntimeError):
    """The database or broker failed, not the event: retry the batch, dead-letter nothing."""


def _is_infrastructure(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError | OSError | ConnectionError
    )


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()


class EventConsumer:
    """Runs one `ConsumerSpec` against a service's database until `stop()`."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        outbox: Table,
        inbox: Table,
        spec: ConsumerSpec,
        bootstrap_servers: str,
        source: str,
        dead_letter_topic: str,
        config: ConsumerConfig | None = None,
        metrics: MessagingMetrics | None = None,
        route: Callable[[str], str] = topic_for,
    ) -> None:
        self._engine = engine
        self._route = route
        self._outbox = outbox
        self._inbox = inbox
        self._spec = spec
        self._bootstrap = bootstrap_servers
        self._source = source
        self._dlq_topic = dead_letter_topic
        self._config = config or ConsumerConfig()
        self._metrics = metrics
        self._stopping = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._lag_task: asyncio.Task[None] | None = None
        #: Per assigned partition: the group's committed offset and the last offset fetched.
        self._committed: dict[TopicPartition, int] = {}
        self._seen: dict[TopicPartition, int] = {}
        #: Partitions that have a lag gauge, so it can be removed when they go elsewhere.
        self._lag_reported: set[TopicPartition] = set()
        self.processed = 0
        self.dead_lettered = 0

    @property
    def group(self) -> str:
        """The consumer group id, also the inbox's `consumer` column."""
        return self._spec.group

    def stop(self) -> None:
        """Finish the batch in hand, commit its offsets, leave the group."""
        self._stopping.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Consume until `stop()`; a broker that is down is waited for, not fatal."""
        backoff = self._config.retry_backoff_s or 0.1
        try:
            while not self._stopping.is_set():
                try:
                    if not await self._start_unless_stopped():
                        break
                    backoff = self._config.retry_backoff_s or 0.1
                    await self._loop()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning(
                        "consumer cannot run, backing off",
                        consumer=self.group,
                        error=_describe(exc),
                        retry_in_s=round(backoff, 2),
                    )
                    await self._close()
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self._config.retry_backoff_max_s or 1.0)
        finally:
            await self._close()
            log.info("consumer stopped", consumer=self.group, processed=self.processed)

    async def _start_unless_stopped(self) -> bool:
        """Start (joining the group takes a while); give up at once if `stop()` comes first."""
        starting = asyncio.ensure_future(self._start())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
            return False
        starting.result()
        return True

    async def _start(self) -> None:
        if self._consumer is not None:
            return
        cfg = self._config
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._source}:{self.group}",
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=cfg.fetch_max_wait_ms,
            session_timeout_ms=cfg.session_timeout_ms,
            heartbeat_interval_ms=cfg.heartbeat_interval_ms,
            request_timeout_ms=max(cfg.request_timeout_ms, cfg.session_timeout_ms + 5_000),
            max_poll_records=cfg.batch_size,
            metadata_max_age_ms=cfg.metadata_max_age_ms,
        )
        consumer.subscribe(list(self._spec.topics), listener=_Revocations(self._forget))
        producer = AIOKafkaProducer(
            **producer_options(
                self._bootstrap,
                client_id=f"{self._source}:{self.group}:dlq",
                request_timeout_ms=cfg.request_timeout_ms,
            )
        )
        try:
            await consumer.start()
            await producer.start()
        except BaseException:
            await stop_quietly(consumer, timeout=2)
            await stop_quietly(producer, timeout=2)
            raise
        self._consumer, self._producer = consumer, producer
        if self._metrics is not None:
            self._lag_task = asyncio.create_task(self._refresh_lag(), name=f"lag:{self.group}")
        log.info("consumer started", consumer=self.group, topics=list(self._spec.topics))

    async def _close(self) -> None:
        lag_task, self._lag_task = self._lag_task, None
        if lag_task is not None:
            lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag_task
        self._forget(set(self._committed) | set(self._seen) | self._lag_reported)
        consumer, self._consumer = self._consumer, None
        producer, self._producer = self._producer, None
        if consumer is not None:
            await stop_quietly(consumer)  # leaves the group
        if producer is not None:
            await stop_quietly(producer)

    async def _loop(self) -> None:
        assert self._consumer is not None
        while not self._stopping.is_set():
            batch = await self._consumer.getmany(
                timeout_ms=self._config.poll_timeout_ms, max_records=self._config.batch_size
            )
            if not batch:
                continue
            for tp, records in batch.items():
                if records:
                    self._seen[tp] = max(self._seen.get(tp, -1), records[-1].offset)
            if await self.process_batch(batch):
                await self._commit(batch)
                self._update_lag(batch)

    # -- one batch ---------------------------------------------------------------------------

    async def process_batch(self, batch: Mapping[TopicPartition, Sequence[Record]]) -> bool:
        """Apply a fetched batch; True when its offsets may be committed.

        Retries infrastructure failures until they pass or `stop()` is called (then False: the
        batch is left uncommitted and will be redelivered).
        """
        backoff = self._config.retry_backoff_s or 0.1
        while True:
            try:
                outcome = await self._apply(batch)
                await self._dead_letter(outcome.dead)
            except Exception as exc:
                if self._stopping.is_set():
                    log.warning(
                        "batch abandoned at shutdown; it will be redelivered",
                        consumer=self.group,
                        error=_describe(exc),
                    )
                    return False
                log.warning(
                    "batch failed on infrastructure, retrying",
                    consumer=self.group,
                    error=_describe(exc),
                    retry_in_s=round(backoff, 2),
                )
                await self._sleep(backoff)
                backoff = min(backoff * 2, self._config.retry_backoff_max_s or 1.0)
                continue
            self._count(outcome)
            return True

    async def _apply(self, batch: Mapping[TopicPartition, Sequence[Record]]) -> _Outcome:
        outcome = _Outcome()
        items: list[_Item] = []
        for tp in sorted(batch, key=lambda t: (t.topic, t.partition)):
            for record in batch[tp]:
                try:
                    decoded = decode(record.value or b"")
                except DecodeError as exc:
                    outcome.dead.append(_DeadLetter(record, exc.reason, str(exc), 1))
                    continue
                handler = self._spec.handlers.get(decoded.envelope.type)
                if handler is None:
                    outcome.ignored += 1
                    continue
                items.append(_Item(record, decoded, handler))
        if not items:
            return outcome

        deferred: list[_Item] = []
        failed_keys: set[tuple[str, int, str]] = set()
        async with self._engine.connect() as conn, conn.begin():
            for item in items:
                key = (item.record.topic, item.record.partition, item.decoded.envelope.subject)
                if key in failed_keys:
                    deferred.append(item)
                    continue
                try:
                    async with conn.begin_nested():
                        result = await self._handle(conn, item)
                except Exception as exc:
                    if _is_infrastructure(exc):
                        raise
                    item.attempts, item.error = 1, exc
                    failed_keys.add(key)
                    deferred.append(item)
                    continue
                self._tally(outcome, result)

        for item in deferred:
            await self._retry(item, outcome)
        return outcome

    async def _handle(self, conn: AsyncConnection, item: _Item) -> str:
        """Record the event in the inbox and apply its handler; "duplicate" if already seen."""
        envelope = item.decoded.envelope
        inserted = await conn.execute(
            insert(self._inbox)
            .values(consumer=self.group, event_id=envelope.id, event_type=envelope.type)
            .on_conflict_do_nothing()
            .returning(self._inbox.c.event_id)
        )
        if inserted.first() is None:
            return "duplicate"
        with span_from(
            f"process {envelope.type}",
            traceparent=envelope.traceparent,
            tracestate=envelope.tracestate,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": item.record.topic,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": str(envelope.id),
                "xborder.order_id": envelope.subject,
            },
        ):
            emitter = Emitter(source=self._source, cause=envelope, route=self._route)
            await item.handler(
                HandlerContext(
                    conn=conn,
                    envelope=envelope,
                    event=item.decoded.event,
                    record=item.record,
                    emitter=emitter,
                )
            )
            await write_outbox(conn, self._outbox, emitter.rows)
        return "processed"

    async def _retry(self, item: _Item, outcome: _Outcome) -> None:
        cfg = self._config
        delay = cfg.retry_backoff_s
        while item.attempts < cfg.max_attempts:
            if item.attempts:
                await asyncio.sleep(delay)
                delay = min(delay * 2, cfg.retry_backoff_max_s)
            item.attempts += 1
            try:
                async with self._engine.connect() as conn, conn.begin():
                    result = await self._handle(conn, item)
            except Exception as exc:
                if _is_infrastructure(exc):
                    raise
                item.error = exc
                log.warning(
                    "handler failed",
                    consumer=self.group,
                    event_type=item.decoded.envelope.type,
                    event_id=str(item.decoded.envelope.id),
                    attempt=item.attempts,
                    error=_describe(exc),
                )
                continue
            self._tally(outcome, result)
            return
        assert item.error is not None
        outcome.dead.append(
            _DeadLetter(item.record, "handler_failed", _describe(item.error), item.attempts)
        )

    @staticmethod
    def _tally(outcome: _Outcome, result: str) -> None:
        if result == "duplicate":
            outcome.duplicates += 1
        else:
            outcome.processed += 1

    async def _dead_letter(self, letters: Sequence[_DeadLetter]) -> None:
        if not letters:
            return
        assert self._producer is not None
        futures: list[asyncio.Future[Any]] = []
        for letter in letters:
            log.error(
                "event dead-lettered",
                consumer=self.group,
                topic=letter.record.topic,
                partition=letter.record.partition,
                offset=letter.record.offset,
                reason=letter.reason,
                error=letter.error,
            )
            futures.append(
                await self._producer.send(
                    self._dlq_topic,
                    key=letter.record.key,
                    value=letter.record.value,
                    headers=dead_letter_headers(
                        letter.record,
                        consumer=self.group,
                        reason=letter.reason,
                        error=letter.error,
                        attempts=letter.attempts,
                    ),
                )
            )
        try:
            await asyncio.gather(*futures)
        except KafkaError as exc:
            raise InfrastructureError(f"dead-letter topic unavailable: {exc}") from exc

    def _count(self, outcome: _Outcome) -> None:
        self.processed += outcome.processed
        self.dead_lettered += len(outcome.dead)
        metrics = self._metrics
        if metrics is None:
            return
        for name, value in (
            ("processed", outcome.processed),
            ("duplicate", outcome.duplicates),
            ("ignored", outcome.ignored),
            ("dead_lettered", len(outcome.dead)),
        ):
            if value:
                metrics.consumed.labels(self.group, name).inc(value)
        for letter in outcome.dead:
            metrics.dead_letters.labels(self.group, letter.reason).inc()

    # -- offsets -----------------------------------------------------------------------------

    async def _commit(self, batch: Mapping[TopicPartition, Sequence[Record]]) -> None:
        assert self._consumer is not None
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError as exc:
            # The group rebalanced: another member gets these records again; its inbox
            # absorbs what this batch already applied.
            log.warning(
                "offset commit failed after a rebalance", consumer=self.group, error=str(exc)
            )
            return
        self._committed.update(offsets)

    # -- lag ---------------------------------------------------------------------------------
    #
    # Lag = max(broker end offset, last fetched offset + 1) - committed offset, per assigned
    # partition. The committed offset (not the position) makes a consumer whose handler is
    # stuck show the records it holds as lag. Tansu reports the end offset as the last record
    # batch's base offset + 1, so "last fetched + 1" keeps the figure honest there: it is a lower
    # bound that is exact once the consumer has fetched up to the end.

    def _set_lag(self, tp: TopicPartition, end_offset: int | None) -> None:
        committed = self._committed.get(tp)
        if self._metrics is None or committed is None:
            return
        end = max(end_offset or 0, self._seen.get(tp, -1) + 1, committed)
        self._metrics.consumer_lag.labels(self.group, tp.topic, tp.partition).set(end - committed)
        self._lag_reported.add(tp)

    def _update_lag(self, batch: Mapping[TopicPartition, Sequence[Record]]) -> None:
        """Right after a commit, without asking the broker: its last reported high watermark."""
        if self._consumer is None:
            return
        for tp in batch:
            with contextlib.suppress(Exception):  # the partition was revoked meanwhile
                self._set_lag(tp, self._consumer.highwater(tp))

    async def update_lag(self) -> None:
        """Ask the broker for the end and committed offsets of every assigned partition and
        refresh the lag gauges; drop the gauges of partitions no longer assigned."""
        consumer = self._consumer
        if consumer is None or self._metrics is None:
            return
        assigned = set(consumer.assignment())
        self._forget(self._lag_reported - assigned)
        if not assigned:
            return
        ends = await consumer.end_offsets(list(assigned))
        unknown = [tp for tp in assigned if tp not in self._committed]
        starts = await consumer.beginning_offsets(unknown) if unknown else {}
        for tp in unknown:
            committed = await consumer.committed(tp)
            # Never committed: everything from the start of the log is still to be done.
            self._committed[tp] = committed if committed is not None else starts[tp]
        for tp in assigned:
            self._set_lag(tp, ends.get(tp))

    async def _refresh_lag(self) -> None:
        while True:
            try:
                await self.update_lag()
            except Exception as exc:  # a rebalance or the broker away: next tick
                log.debug("consumer lag not refreshed", consumer=self.group, error=str(exc))
            await asyncio.sleep(self._config.lag_interval_s)

    def _forget(self, partitions: set[TopicPartition]) -> None:
        """The partitions went to another member (or this one stopped): drop what we knew."""
        for tp in partitions:
            self._committed.pop(tp, None)
            self._seen.pop(tp, None)
            if tp in self._lag_reported and self._metrics is not None:
                self._lag_reported.discard(tp)
                with contextlib.suppress(KeyError):
                    self._metrics.consumer_lag.remove(self.group, tp.topic, str(tp.partition))


class _Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    """Forgets the partitions a rebalance takes away, so their lag gauges disappear."""

    def __init__(self, forget: Callable[[set[TopicPartition]], None]) -> None:
        self._forget = forget

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        self._forget(set(revoked))

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        return None


async def purge_inbox(
    engine: AsyncEngine, inbox: Table, retention_s: float, *, chunk: int = 5_000
) -> int:
    """Delete inbox rows older than `retention_s`, in chunks; return how many.

    An event redelivered after its row is gone would be applied again: keep the retention well
    above the topics' retention and any replay window.
    """
    total = 0
    while True:
        async with engine.begin() as conn:
            result = await conn.execute(
                text(
                    f"DELETE FROM {inbox.name} WHERE ctid IN (SELECT ctid FROM {inbox.name}"
                    " WHERE processed_at < now() - make_interval(secs => :retention)"
                    " LIMIT :chunk)"
                ),
                {"retention": retention_s, "chunk": chunk},
            )
        total += result.rowcount
        if result.rowcount < chunk:
            return total
