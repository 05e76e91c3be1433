"""shipping-svc's HTTP surface and background work: what the app factory serves and runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import Counter

from shipping_svc.adapters.lane_data import LaneDataError
from shipping_svc.adapters.tables import inbox, outbox
from shipping_svc.config import SERVICE_NAME, Settings
from shipping_svc.entrypoints.api.routes import router
from shipping_svc.entrypoints.background import Dispatcher
from shipping_svc.entrypoints.sandbox_network import SandboxNetwork
from shipping_svc.service_layer.context import ShippingContext
from shipping_svc.service_layer.handlers import consumer_spec
from xborder_platform.app import ServiceSpec
from xborder_platform.http import ProblemType, metrics_registry

DESCRIPTION = "Lanes, carriers, rates with delivery windows, shipments and normalised tracking."


def make_spec(ctx: ShippingContext, settings: Settings, *, background: bool) -> ServiceSpec:
    """The service: routes, consumers and (where messaging runs) the dispatcher and the sandbox
    carrier network as background tasks."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.shipping = ctx
        scans = Counter(
            "shipping_carrier_scans",
            "Carrier tracking events received, by carrier and outcome (exception: a raw code "
            "outside the carrier's vocabulary; buffered: waiting for a customs gate).",
            ["carrier", "outcome"],
            registry=metrics_registry(app),
        )
        ctx.observers.scan = lambda carrier, outcome: scans.labels(carrier, outcome).inc()
        engine, uow_factory = app.state.engine, app.state.unit_of_work
        dispatcher = Dispatcher(
            engine=engine,
            ctx=ctx,
            uow_factory=uow_factory,
            interval_s=settings.dispatch_interval_s,
            purge_interval_s=settings.purge_interval_s,
        )
        network = SandboxNetwork(
            engine=engine,
            ctx=ctx,
            uow_factory=uow_factory,
            secret_for=settings.webhook_secret,
            poll_interval_s=settings.sandbox_poll_interval_s,
            batch_size=settings.sandbox_batch_size,
        )
        app.state.dispatcher, app.state.sandbox_network = dispatcher, network
        if background:
            dispatcher.start()
            if settings.sandbox_on:
                network.start()
        try:
            yield
        finally:
            await network.stop()
            await dispatcher.stop()

    return ServiceSpec(
        name=SERVICE_NAME,
        title="xborder Shipping",
        description=DESCRIPTION,
        routers=[router],
        lifespan=lifespan,
        problems={LaneDataError: ProblemType(500, "lane-data-invalid", "Lane data invalid")},
        outbox=outbox,
        inbox=inbox,
        consumers=[consumer_spec(ctx)],
    )
