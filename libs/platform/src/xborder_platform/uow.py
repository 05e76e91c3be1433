"""The unit of work: the one place that commits a state change together with its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self

from fastapi import Request
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from xborder_events import Envelope, Event, envelope_for, topic_for
from xborder_platform.messaging.outbox import OutboxRow, write_outbox
from xborder_platform.messaging.topics import TopicNamespace
from xborder_platform.tracing import current_traceparent


@dataclass(kw_only=True)
class Emitter:
    """Collects the events of one transaction as outbox rows, with their causal context.

    `cause` is the event being handled, if any: the new events inherit its correlation id and
    trace context and name it as their cause. `route` picks the topic of an event type (its
    producer's topic unless told otherwise, e.g. a staging topic).
    """

    source: str
    route: Callable[[str], str] = topic_for
    cause: Envelope | None = None
    traceparent: str | None = None
    correlation_id: str | None = None
    rows: list[OutboxRow] = field(default_factory=list)

    def emit(self, event: Event) -> Envelope:
        """Queue `event`; it is written to the outbox when the transaction commits."""
        cause = self.cause
        envelope = envelope_for(
            event,
            source=self.source,
            # An order's events share one correlation id: its cause's when the cause is about
            # the same order, else the order's id, so timers, webhooks and handlers that act on
            # other orders (a lane's statistics) keep each order in its own conversation.
            correlation_id=(
                cause.correlationid if cause and cause.subject == str(event.order_id) else None
            )
            or self.correlation_id
            or str(event.order_id),
            causation_id=str(cause.id) if cause else None,
            # The active span (an HTTP request's, a consumer's) is the parent of what it emits.
            traceparent=current_traceparent()
            or (cause.traceparent if cause else None)
            or self.traceparent,
            tracestate=cause.tracestate if cause else None,
        )
        self.rows.append(OutboxRow.from_envelope(envelope, topic=self.route(envelope.type)))
        return envelope


class UnitOfWork:
    """`async with uow: ...; uow.emit(event); await uow.commit()`; no commit means rollback.

    Commit writes the queued events to the outbox in the same transaction, so the state change
    and its events are stored together or not at all.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        outbox: Table,
        *,
        source: str,
        correlation_id: str | None = None,
        traceparent: str | None = None,
        route: Callable[[str], str] = topic_for,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._emitter = Emitter(
            source=source, correlation_id=correlation_id, traceparent=traceparent, route=route
        )
        self._conn: AsyncConnection | None = None
        self.committed = False

    @property
    def conn(self) -> AsyncConnection:
        """The transaction's connection; use it for every read and write of this unit."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not open: use `async with`")
        return self._conn

    def emit(self, event: Event) -> Envelope:
        """Queue `event` to be committed with the state change."""
        return self._emitter.emit(event)

    async def commit(self) -> None:
        """Write the queued events to the outbox and commit everything at once."""
        await write_outbox(self.conn, self._outbox, self._emitter.rows)
        await self.conn.commit()
        self._emitter.rows.clear()
        self.committed = True

    async def __aenter__(self) -> Self:
        self._conn = await self._engine.connect()
        await self._conn.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()


class UnitOfWorkFactory(Protocol):
    """Makes a unit of work; request-scoped ones carry the request's correlation and trace ids."""

    def __call__(
        self, *, correlation_id: str | None = None, traceparent: str | None = None
    ) -> UnitOfWork: ...


def unit_of_work_factory(
    engine: AsyncEngine, outbox: Table, *, source: str, namespace: TopicNamespace
) -> UnitOfWorkFactory:
    """A factory of units of work on `engine`, publishing into `namespace`'s topics."""

    def make(*, correlation_id: str | None = None, traceparent: str | None = None) -> UnitOfWork:
        return UnitOfWork(
            engine,
            outbox,
            source=source,
            correlation_id=correlation_id,
            traceparent=traceparent,
            route=namespace.route,
        )

    return make


def get_unit_of_work(request: Request) -> UnitOfWork:
    """FastAPI dependency: a new unit of work for this request (open it with `async with`).

    Its events' correlation id is their order's id (so every event of one order shares it,
    whichever process emits it later); the request's `traceparent` header is their trace context.
    """
    factory: UnitOfWorkFactory = request.app.state.unit_of_work
    return factory(traceparent=request.headers.get("traceparent"))
