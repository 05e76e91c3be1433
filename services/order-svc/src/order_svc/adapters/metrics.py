"""Prometheus counters of the order state machine, on the app's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from order_svc.domain.status import OrderStatus


class PrometheusTransitionMetrics:
    """What the state machine did: statuses entered, impossible transitions, unknown orders.

    Built before the app (the consumers' handlers hold it) and registered on the app's
    registry once the app exists; until then it counts nothing.
    """

    def __init__(self) -> None:
        self._entered: Counter | None = None
        self._impossible: Counter | None = None
        self._unknown: Counter | None = None

    def register(self, registry: CollectorRegistry) -> None:
        """Create the counters on `registry`."""
        self._entered = Counter(
            "xborder_order_status_entered",
            "Orders that entered each status.",
            ["status"],
            registry=registry,
        )
        self._impossible = Counter(
            "xborder_order_impossible_transitions",
            "Events that no transition from the order's status can ever use: logged and "
            "ignored (they still enter the timeline), by event type and the order's status.",
            ["event_type", "status"],
            registry=registry,
        )
        self._unknown = Counter(
            "xborder_order_events_for_unknown_orders",
            "Events about an order this service does not know, ignored, by event type.",
            ["event_type"],
            registry=registry,
        )

    def entered(self, status: OrderStatus) -> None:
        """An order entered `status`."""
        if self._entered is not None:
            self._entered.labels(status.value).inc()

    def impossible(self, *, event_type: str, status: OrderStatus) -> None:
        """An event no transition from `status` can ever use arrived."""
        if self._impossible is not None:
            self._impossible.labels(event_type, status.value).inc()

    def unknown_order(self, *, event_type: str) -> None:
        """An event arrived for an unknown order."""
        if self._unknown is not None:
            self._unknown.labels(event_type).inc()
