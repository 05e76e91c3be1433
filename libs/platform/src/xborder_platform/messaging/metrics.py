"""Prometheus metrics of the messaging kit, registered on the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class MessagingMetrics:
    """Outbox backlog and age, publish and consume counts, consumer lag, dead letters."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, service: str = "unknown"
    ) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.registry = registry
        # The outbox metrics carry the service's name, like the HTTP ones; the consumer metrics
        # carry the consumer group, which names its service.
        self.outbox_backlog = Gauge(
            "xborder_outbox_backlog",
            "Outbox rows committed and not yet acknowledged by the broker.",
            ["service"],
            registry=registry,
        ).labels(service)
        self.outbox_oldest_age = Gauge(
            "xborder_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none).",
            ["service"],
            registry=registry,
        ).labels(service)
        self.outbox_published = Counter(
            "xborder_outbox_published",
            "Outbox rows acknowledged by the broker (acks=all).",
            ["service"],
            registry=registry,
        ).labels(service)
        self.consumed = Counter(
            "xborder_consumer_events",
            "Events taken from the topics by outcome: processed, duplicate, ignored, "
            "dead_lettered.",
            ["consumer", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "xborder_dead_letters",
            "Events sent to the dead-letter topic, by reason.",
            ["consumer", "reason"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "xborder_consumer_lag",
            "Records of an assigned partition not yet committed by the group: max(end offset, "
            "last fetched offset + 1) - committed offset, refreshed every few seconds even while "
            "a batch is stuck. Tansu reports the end offset as the last record batch's base "
            "offset + 1, so there this is a lower bound, exact once the consumer has fetched up "
            "to the end of the partition.",
            ["consumer", "topic", "partition"],
            registry=registry,
        )
