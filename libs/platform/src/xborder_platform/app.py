"""The FastAPI app factory every service uses: logging, lifespan, engine, health routes, and the
HTTP kit (problem+json errors, body limit, idempotency keys, API keys, metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from fastapi import APIRouter, FastAPI, Request
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from sqlalchemy import Table

from xborder_platform.db import check_database, create_engine
from xborder_platform.health import Check, health_router, run_checks
from xborder_platform.http.auth import ApiKeyAuthenticator
from xborder_platform.http.idempotency import purge_expired
from xborder_platform.http.idempotency_routes import install_idempotency
from xborder_platform.http.limits import BodyLimitMiddleware
from xborder_platform.http.metrics import install_metrics, metrics_registry
from xborder_platform.http.problems import ProblemType, install_problem_handlers
from xborder_platform.kafka import BrokerProbe
from xborder_platform.logging import configure_logging
from xborder_platform.messaging.consumer import ConsumerSpec, purge_inbox
from xborder_platform.messaging.housekeeping import PeriodicPurge, Purge
from xborder_platform.messaging.metrics import MessagingMetrics
from xborder_platform.messaging.runtime import MessagingRuntime
from xborder_platform.messaging.topics import TopicNamespace
from xborder_platform.settings import BaseServiceSettings
from xborder_platform.tracing import configure_tracing
from xborder_platform.uow import unit_of_work_factory

log = structlog.get_logger(__name__)

ExtraLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@dataclass(frozen=True, kw_only=True)
class ServiceSpec:
    """What makes one service: its name, routes and extra start-up work."""

    name: str
    title: str
    description: str
    version: str = "0.1.0"
    routers: Sequence[APIRouter] = field(default_factory=tuple)
    lifespan: ExtraLifespan | None = None
    #: Plain exceptions (e.g. the domain's) and the problem each is answered with.
    problems: Mapping[type[Exception], ProblemType] = field(default_factory=dict)
    #: The service's outbox and inbox tables; with them the app runs the relay and consumers.
    outbox: Table | None = None
    inbox: Table | None = None
    #: The consumer groups of the service and their handlers.
    consumers: Sequence[ConsumerSpec] = field(default_factory=tuple)


def _checks(request: Request) -> Mapping[str, Check]:
    engine = request.app.state.engine
    probe: BrokerProbe = request.app.state.broker_probe

    async def database(timeout: float) -> None:
        await check_database(engine, timeout=timeout)

    async def broker(timeout: float) -> None:
        # A little inside the check's own deadline, so the reason names the broker's address.
        await probe.check(timeout=timeout * 0.8)

    return {"database": database, "broker": broker}


def create_service_app(
    spec: ServiceSpec, settings: BaseServiceSettings, *, worker: bool = False
) -> FastAPI:
    """Build a service's app; dependencies that are down make it not-ready, never crash it.

    The API app serves the service's routes and, unless `embedded_worker` is off, also runs the
    outbox relay, the consumers and the periodic purges. The worker app (`worker=True`) runs
    those and serves only health and metrics, for deployments that scale them apart.
    """
    configure_logging(service=spec.name, level=settings.log_level, fmt=settings.log_format)
    tracer_provider = configure_tracing(spec.name, traces_file=settings.traces_file)
    runs_messaging = worker or settings.embedded_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        #: Whether this process runs the background work (relay, consumers, senders).
        app.state.runs_background = runs_messaging
        app.state.engine = create_engine(
            settings.async_database_url, pool_size=settings.db_pool_size, application_name=spec.name
        )
        if tracer_provider is not None:
            SQLAlchemyInstrumentor().instrument(
                engine=app.state.engine.sync_engine, tracer_provider=tracer_provider
            )
        app.state.broker_probe = BrokerProbe(settings.kafka_bootstrap_servers, client_id=spec.name)
        app.state.api_keys = ApiKeyAuthenticator.for_engine(
            app.state.engine, cache_ttl_s=settings.api_key_cache_ttl_s
        )
        if spec.outbox is not None:
            app.state.unit_of_work = unit_of_work_factory(
                app.state.engine,
                spec.outbox,
                source=f"xborder/{spec.name}",
                namespace=TopicNamespace(settings.kafka_topic_prefix),
            )
        await _log_readiness(app, settings, role="worker" if worker else "api")
        background = _Background(spec, settings, app) if runs_messaging else None
        try:
            if background is not None:
                background.start()
            if spec.lifespan is None:
                yield
            else:
                async with spec.lifespan(app):
                    yield
        finally:
            if background is not None:
                await background.stop()
            await app.state.broker_probe.close()
            await app.state.engine.dispose()
            log.info("service stopped")

    title = f"{spec.title} (worker)" if worker else spec.title
    app = FastAPI(
        title=title, description=spec.description, version=spec.version, lifespan=lifespan
    )
    # Middleware added last runs first: metrics see every answer, the 413 and the 500 included.
    install_problem_handlers(app, mapped=spec.problems)
    install_idempotency(app, ttl=timedelta(seconds=settings.idempotency_ttl_s))
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    install_metrics(app, service=spec.name)
    app.include_router(health_router(_checks, timeout=settings.readiness_timeout_s))
    app.state.messaging_metrics = MessagingMetrics(metrics_registry(app), service=spec.name)
    if tracer_provider is not None:
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=tracer_provider, excluded_urls="healthz,readyz,metrics"
        )
    if not worker:
        for router in spec.routers:
            app.include_router(router)
    return app


class _Background:
    """The relay, the consumers and the periodic purges of one process."""

    def __init__(self, spec: ServiceSpec, settings: BaseServiceSettings, app: FastAPI) -> None:
        engine = app.state.engine
        self._runtime: MessagingRuntime | None = None
        if spec.outbox is not None and spec.inbox is not None:
            self._runtime = MessagingRuntime(
                service=spec.name,
                engine=engine,
                outbox=spec.outbox,
                inbox=spec.inbox,
                consumers=spec.consumers,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                settings=settings,
                metrics=app.state.messaging_metrics,
                topic_prefix=settings.kafka_topic_prefix,
            )
        purges: list[Purge] = [("idempotency keys", lambda: purge_expired(engine))]
        if spec.inbox is not None:
            inbox = spec.inbox
            purges.append(
                ("inbox rows", lambda: purge_inbox(engine, inbox, settings.inbox_retention_s))
            )
        self._purger = PeriodicPurge(purges, interval_s=settings.purge_interval_s)

    def start(self) -> None:
        if self._runtime is not None:
            self._runtime.start()
        self._purger.start()

    async def stop(self) -> None:
        await self._purger.stop()
        if self._runtime is not None:
            await self._runtime.stop()


async def _log_readiness(app: FastAPI, settings: BaseServiceSettings, *, role: str) -> None:
    """Say at start-up whether the dependencies answer, so a misconfiguration is loud at once."""
    scope = {"type": "http", "app": app}
    results = await run_checks(_checks(Request(scope)), timeout=settings.readiness_timeout_s)
    failed = {r.name: r.reason for r in results if not r.ok}
    if failed:
        log.error("service started but is not ready", role=role, failed_checks=failed)
    else:
        log.info("service started and ready", role=role)
