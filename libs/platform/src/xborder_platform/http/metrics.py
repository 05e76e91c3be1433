"""Prometheus metrics for HTTP: request counts and durations, and the `/metrics` route.

Every app has its own `CollectorRegistry` (at `app.state.metrics_registry`), so many apps in one
process (tests, mostly) never clash; other kits register their metrics on it through
`metrics_registry(app)`. Requests are labelled with the route template (`/orders/{order_id}`), not
the raw path, and with `unmatched` when no route matched, so the label values stay bounded
whatever paths clients try. The probes and the scrape itself are not counted.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXCLUDED_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    """The HTTP request counter and duration histogram of one service."""

    def __init__(self, registry: CollectorRegistry, *, service: str) -> None:
        self.service = service
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by route template and status code.",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time from receiving an HTTP request to the end of its response.",
            ["service", "method", "route"],
            registry=registry,
        )

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        method = method if method in _METHODS else "OTHER"
        self.requests.labels(self.service, method, route, str(status)).inc()
        self.duration.labels(self.service, method, route).observe(seconds)


def route_template(scope: Scope) -> str:
    """The template of the route that handled the request, or `unmatched`."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else UNMATCHED


class MetricsMiddleware:
    """Count and time every HTTP request except those to `excluded` paths."""

    def __init__(
        self, app: ASGIApp, *, metrics: HttpMetrics, excluded: frozenset[str] = EXCLUDED_PATHS
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.excluded = excluded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.excluded:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app fails before starting a response

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.metrics.observe(
                method=str(scope.get("method", "")),
                route=route_template(scope),
                status=status,
                seconds=time.perf_counter() - started,
            )


def metrics_registry(app: FastAPI) -> CollectorRegistry:
    """The app's own metrics registry (created on first use): register gauges on it."""
    registry = getattr(app.state, "metrics_registry", None)
    if not isinstance(registry, CollectorRegistry):
        registry = CollectorRegistry()
        app.state.metrics_registry = registry
    return registry


def install_metrics(app: FastAPI, *, service: str) -> CollectorRegistry:
    """Add the request metrics middleware and the `/metrics` route to `app`."""
    registry = metrics_registry(app)
    app.add_middleware(MetricsMiddleware, metrics=HttpMetrics(registry, service=service))

    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        summary="Prometheus metrics of this process",
        tags=["observability"],
        include_in_schema=False,
    )
    return registry
