"""The FastAPI app factory every service uses: logging, lifespan, engine, health routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

import structlog
from fastapi import APIRouter, FastAPI, Request

from xborder_platform.db import check_database, create_engine
from xborder_platform.health import Check, health_router, run_checks
from xborder_platform.kafka import BrokerProbe
from xborder_platform.logging import configure_logging
from xborder_platform.settings import BaseServiceSettings

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


def _checks(request: Request) -> Mapping[str, Check]:
    engine = request.app.state.engine
    probe: BrokerProbe = request.app.state.broker_probe

    async def database(timeout: float) -> None:
        await check_database(engine, timeout=timeout)

    async def broker(timeout: float) -> None:
        await probe.check(timeout=timeout)

    return {"database": database, "broker": broker}


def create_service_app(spec: ServiceSpec, settings: BaseServiceSettings) -> FastAPI:
    """Build a service's app; dependencies that are down make it not-ready, never crash it."""
    configure_logging(service=spec.name, level=settings.log_level, fmt=settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = create_engine(
            settings.async_database_url, pool_size=settings.db_pool_size, application_name=spec.name
        )
        app.state.broker_probe = BrokerProbe(settings.kafka_bootstrap_servers, client_id=spec.name)
        await _log_readiness(app, settings)
        try:
            if spec.lifespan is None:
                yield
            else:
                async with spec.lifespan(app):
                    yield
        finally:
            await app.state.broker_probe.close()
            await app.state.engine.dispose()
            log.info("service stopped")

    app = FastAPI(
        title=spec.title, description=spec.description, version=spec.version, lifespan=lifespan
    )
    app.include_router(health_router(_checks, timeout=settings.readiness_timeout_s))
    for router in spec.routers:
        app.include_router(router)
    return app


async def _log_readiness(app: FastAPI, settings: BaseServiceSettings) -> None:
    """Say at start-up whether the dependencies answer, so a misconfiguration is loud at once."""
    scope = {"type": "http", "app": app}
    results = await run_checks(_checks(Request(scope)), timeout=settings.readiness_timeout_s)
    failed = {r.name: r.reason for r in results if not r.ok}
    if failed:
        log.error("service started but is not ready", failed_checks=failed)
    else:
        log.info("service started and ready", port=settings.port)
