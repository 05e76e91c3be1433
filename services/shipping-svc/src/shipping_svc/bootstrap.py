"""Composition root: the one module that wires shipping-svc together."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from shipping_svc.adapters.carriers.base import CarrierAdapter
from shipping_svc.adapters.carriers.sandbox import SandboxCarrier, SandboxConfig
from shipping_svc.adapters.carriers.webhook import WebhookCarrier
from shipping_svc.adapters.lane_data import load_catalog
from shipping_svc.config import SERVICE_NAME, Settings
from shipping_svc.domain.catalog import Catalog
from shipping_svc.domain.clock import Clock, SystemClock
from shipping_svc.entrypoints.api.app import make_spec
from shipping_svc.service_layer.context import Policy, ShippingContext
from xborder_platform.app import create_service_app
from xborder_platform.cli import ServiceCommands
from xborder_platform.settings import BaseServiceSettings

MIGRATIONS = "shipping_svc:migrations"


def carriers_for(catalog: Catalog, settings: Settings, clock: Clock) -> dict[str, CarrierAdapter]:
    """One adapter per carrier: simulated by the sandbox network, or webhook-only."""
    if not settings.sandbox_on:
        return {code: WebhookCarrier(carrier) for code, carrier in catalog.carriers.items()}
    config = SandboxConfig(
        seed=settings.sandbox_seed,
        seconds_per_day=settings.sandbox_seconds_per_day,
        delivery_failure_rate=settings.sandbox_delivery_failure_rate,
        unknown_code_rate=settings.sandbox_unknown_code_rate,
    )
    return {
        code: SandboxCarrier(carrier, config=config, clock=clock)
        for code, carrier in catalog.carriers.items()
    }


def build_context(settings: Settings, *, clock: Clock | None = None) -> ShippingContext:
    """Load and validate the lane data, and assemble what the use cases need."""
    clock = clock or SystemClock()
    catalog = load_catalog(settings.lanes_file)
    policy = Policy(
        quote_ttl=timedelta(seconds=settings.quote_ttl_s),
        capacity_widen_days=settings.capacity_widen_days,
        capacity_max_defer_days=settings.capacity_max_defer_days,
        stats_window=settings.stats_window,
        stats_min_samples=settings.stats_min_samples,
        revision_threshold_days=settings.eta_revision_threshold_days,
        revision_batch=settings.eta_revision_batch,
        webhook_tolerance_s=settings.carrier_webhook_tolerance_s,
    )
    return ShippingContext(
        catalog=catalog,
        carriers=carriers_for(catalog, settings, clock),
        clock=clock,
        policy=policy,
        webhook_secrets=lambda carrier: (settings.webhook_secret(carrier),),
    )


def create_app(
    settings: BaseServiceSettings | None = None, *, worker: bool = False, clock: Clock | None = None
) -> FastAPI:
    """Build the HTTP app (or, with `worker`, the relay-and-consumers process) from validated
    settings, read from the environment when not given. The lane data is validated here: a
    broken file stops the service before it serves anything."""
    settings = settings or Settings()
    if not isinstance(settings, Settings):
        raise TypeError("shipping-svc needs its own Settings")
    ctx = build_context(settings, clock=clock)
    spec = make_spec(ctx, settings, background=worker or settings.embedded_worker)
    return create_service_app(spec, settings, worker=worker)


COMMANDS = ServiceCommands(
    name=SERVICE_NAME, load_settings=Settings, create_app=create_app, migrations=MIGRATIONS
)
