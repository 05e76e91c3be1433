"""customs-svc's HTTP surface and background work: what the app factory serves and runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from customs_svc.adapters.rules_data import RulesDataError
from customs_svc.adapters.tables import inbox, outbox
from customs_svc.config import SERVICE_NAME, Settings
from customs_svc.entrypoints.api.routes import router
from customs_svc.entrypoints.background import Timer
from customs_svc.entrypoints.consumers import consumer_spec
from customs_svc.service_layer.context import CustomsContext
from xborder_platform.app import ServiceSpec
from xborder_platform.http import ProblemType

DESCRIPTION = "Landed cost, pre-screening, export and import clearance, holds and their outcomes."


def make_spec(ctx: CustomsContext, settings: Settings, *, background: bool) -> ServiceSpec:
    """The service: routes, the consumer and (where messaging runs) the timer."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.customs = ctx
        timer = Timer(
            ctx=ctx, uow_factory=app.state.unit_of_work, interval_s=settings.timer_interval_s
        )
        app.state.customs_timer = timer
        if background:
            timer.start()
        try:
            yield
        finally:
            await timer.stop()

    return ServiceSpec(
        name=SERVICE_NAME,
        title="xborder Customs",
        description=DESCRIPTION,
        routers=[router],
        lifespan=lifespan,
        problems={RulesDataError: ProblemType(500, "rules-data-invalid", "Rules data invalid")},
        outbox=outbox,
        inbox=inbox,
        consumers=[consumer_spec(ctx)],
    )
