"""Runs a service's outbox relay and consumers as background tasks, and stops them cleanly."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

import structlog
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from xborder_events.topics import dead_letter_topic
from xborder_platform.messaging.consumer import ConsumerConfig, ConsumerSpec, EventConsumer
from xborder_platform.messaging.metrics import MessagingMetrics
from xborder_platform.messaging.relay import OutboxRelay, RelayConfig
from xborder_platform.messaging.settings import MessagingSettings
from xborder_platform.messaging.topics import TopicNamespace

log = structlog.get_logger(__name__)


def relay_config(settings: MessagingSettings) -> RelayConfig:
    """The relay's configuration from a service's settings."""
    return RelayConfig(
        batch_size=settings.relay_batch_size,
        slots=settings.relay_slots,
        poll_interval_s=settings.relay_poll_interval_s,
        backoff_max_s=settings.relay_backoff_max_s,
        request_timeout_ms=settings.relay_request_timeout_ms,
        retention_s=settings.outbox_retention_s,
        purge_interval_s=settings.purge_interval_s,
    )


def consumer_config(settings: MessagingSettings) -> ConsumerConfig:
    """The consumers' configuration from a service's settings."""
    return ConsumerConfig(
        batch_size=settings.consumer_batch_size,
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        session_timeout_ms=settings.consumer_session_timeout_ms,
        heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
        max_attempts=settings.consumer_max_attempts,
        retry_backoff_s=settings.consumer_retry_backoff_s,
        retry_backoff_max_s=settings.consumer_retry_backoff_max_s,
    )


def in_namespace(spec: ConsumerSpec, namespace: TopicNamespace) -> ConsumerSpec:
    """`spec` reading the same topics in `namespace` (its group name is prefixed too)."""
    if not namespace.prefix:
        return spec
    return dataclasses.replace(
        spec,
        group=namespace.topic(spec.group),
        topics=[namespace.topic(t) for t in spec.topics],
    )


class MessagingRuntime:
    """The relay plus one `EventConsumer` per spec, for one service."""

    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        outbox: Table,
        inbox: Table,
        consumers: Sequence[ConsumerSpec],
        bootstrap_servers: str,
        settings: MessagingSettings,
        metrics: MessagingMetrics | None = None,
        topic_prefix: str = "",
    ) -> None:
        namespace = TopicNamespace(topic_prefix)
        self.relay = OutboxRelay(
            engine,
            outbox,
            bootstrap_servers=bootstrap_servers,
            client_id=f"{service}:relay",
            config=relay_config(settings),
            metrics=metrics,
        )
        self.consumers = [
            EventConsumer(
                engine,
                outbox=outbox,
                inbox=inbox,
                spec=in_namespace(spec, namespace),
                bootstrap_servers=bootstrap_servers,
                source=f"xborder/{service}",
                dead_letter_topic=namespace.topic(dead_letter_topic(service)),
                config=consumer_config(settings),
                metrics=metrics,
                route=namespace.route,
            )
            for spec in consumers
        ]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the relay and the consumers in the running event loop."""
        self._tasks = [asyncio.create_task(self.relay.run(), name="outbox-relay")]
        self._tasks += [
            asyncio.create_task(c.run(), name=f"consumer:{c.group}") for c in self.consumers
        ]

    async def stop(self, *, timeout: float = 30.0) -> None:
        """Let each finish its batch, commit and leave its group; cancel what overstays."""
        self.relay.stop()
        for consumer in self.consumers:
            consumer.stop()
        if not self._tasks:
            return
        done, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            log.warning("messaging task did not stop in time; cancelled", task=task.get_name())
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error(
                    "messaging task failed", task=task.get_name(), error=str(task.exception())
                )
        self._tasks = []
