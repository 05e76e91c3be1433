"""Composition root: the one module that wires payment-svc together."""

from datetime import timedelta

from fastapi import FastAPI

from payment_svc.adapters.data_files import load_fees, load_merchants, load_rates
from payment_svc.adapters.providers.base import PaymentProvider, ProviderRegistry
from payment_svc.adapters.providers.sandbox import (
    SandboxBankWireProvider,
    SandboxCardProvider,
    SandboxConfig,
    SandboxNetwork,
    SandboxWalletProvider,
)
from payment_svc.adapters.stores import SqlStores
from payment_svc.config import SERVICE_NAME, Settings
from payment_svc.domain.clock import Clock, SystemClock
from payment_svc.entrypoints.api.app import service_spec
from payment_svc.entrypoints.background import timers_lifespan
from payment_svc.service_layer.context import Services
from xborder_platform.app import create_service_app
from xborder_platform.cli import ServiceCommands
from xborder_platform.settings import BaseServiceSettings

MIGRATIONS = "payment_svc:migrations"


def providers(settings: Settings) -> ProviderRegistry:
    """The adapter of each payment method: the sandbox providers."""
    network = SandboxNetwork(
        SandboxConfig(
            network_on=settings.sandbox_on,
            approval_delay=timedelta(seconds=settings.sandbox_approval_delay_s),
            action_expiry=timedelta(seconds=settings.action_expiry_s),
            bank_wire_expiry=timedelta(days=settings.bank_wire_expiry_days),
            approval_base_url=settings.sandbox_approval_base_url.rstrip("/"),
        )
    )
    cards = SandboxCardProvider(network)
    wallets = SandboxWalletProvider(network)
    adapters: dict[str, PaymentProvider] = {
        "card": cards,
        "international_card": cards,
        "paypal": wallets,
        "alipay": wallets,
        "bank_wire": SandboxBankWireProvider(network),
    }
    return ProviderRegistry(adapters)


def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    """The use cases' collaborators; the data files are read and validated here (fail fast)."""
    return Services(
        providers=providers(settings),
        fees=load_fees(settings.fees_file),
        merchants=load_merchants(
            settings.merchants_file, default_currency=settings.default_settlement_currency
        ),
        seed_rates=tuple(load_rates(settings.fx_rates_file)),
        clock=clock or SystemClock(),
        pivot_currency=settings.fx_pivot_currency,
        webhook_secret=settings.webhook_secret_for,
        webhook_tolerance_s=settings.webhook_tolerance_s,
        stores=SqlStores(),
    )


def create_app(
    settings: BaseServiceSettings | None = None, *, worker: bool = False, clock: Clock | None = None
) -> FastAPI:
    """Build the HTTP app (or, with `worker`, the relay-and-consumers process) from validated
    settings, read from the environment when not given."""
    config = settings or Settings()
    if not isinstance(config, Settings):
        raise TypeError("payment-svc needs its own Settings")
    svc = build_services(config, clock=clock)
    lifespan = timers_lifespan(
        svc,
        run=worker or config.embedded_worker,
        expiry_interval_s=config.expiry_check_interval_s,
        sandbox_interval_s=config.sandbox_poll_interval_s if config.sandbox_on else None,
    )
    app = create_service_app(service_spec(svc, lifespan=lifespan), config, worker=worker)
    app.state.payment_services = svc
    return app


COMMANDS = ServiceCommands(
    name=SERVICE_NAME, load_settings=Settings, create_app=create_app, migrations=MIGRATIONS
)
