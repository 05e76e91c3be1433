"""Composition root: the one module that wires customs-svc together."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from customs_svc.adapters.authorities import ExternalAuthority, SandboxAuthority
from customs_svc.adapters.rules_data import load_rules
from customs_svc.config import SERVICE_NAME, Settings
from customs_svc.domain.clock import Clock, SystemClock
from customs_svc.entrypoints.api.app import make_spec
from customs_svc.service_layer.context import CustomsContext, Policy
from xborder_platform.app import create_service_app
from xborder_platform.cli import ServiceCommands
from xborder_platform.settings import BaseServiceSettings

MIGRATIONS = "customs_svc:migrations"


def build_context(settings: Settings, *, clock: Clock | None = None) -> CustomsContext:
    """Load and validate the rules, and assemble what the use cases need."""
    data = load_rules(settings.rules_file)
    policy = Policy(
        quote_ttl=timedelta(seconds=settings.quote_ttl_s),
        webhook_tolerance_s=settings.authority_webhook_tolerance_s,
        timer_batch_size=settings.timer_batch_size,
    )
    sandbox = None
    if settings.sandbox_on:
        overrides = {
            country: {k: v for k, v in o.model_dump().items() if v is not None}
            for country, o in settings.sandbox_rates.items()
        }
        sandbox = SandboxAuthority(
            data, seed=settings.sandbox_seed,
            seconds_per_day=settings.sandbox_seconds_per_day, overrides=overrides,
        )  # fmt: skip
    return CustomsContext(
        data=data,
        clock=clock or SystemClock(),
        policy=policy,
        authority=sandbox or ExternalAuthority(),
        sandbox=sandbox,
        webhook_secrets=lambda authority: (settings.webhook_secret(authority),),
    )


def create_app(
    settings: BaseServiceSettings | None = None, *, worker: bool = False, clock: Clock | None = None
) -> FastAPI:
    """Build the HTTP app (or, with `worker`, the relay-and-consumers process) from validated
    settings, read from the environment when not given. The rules file is validated here: a
    broken file stops the service before it serves anything."""
    settings = settings or Settings()
    if not isinstance(settings, Settings):
        raise TypeError("customs-svc needs its own Settings")
    ctx = build_context(settings, clock=clock)
    spec = make_spec(ctx, settings, background=worker or settings.embedded_worker)
    return create_service_app(spec, settings, worker=worker)


COMMANDS = ServiceCommands(
    name=SERVICE_NAME, load_settings=Settings, create_app=create_app, migrations=MIGRATIONS
)
