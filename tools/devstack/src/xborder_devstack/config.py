"""The development stack's own settings (`XBORDER_*`) and the services it runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from customs_svc.config import Settings as CustomsSettings
from order_svc.config import Settings as OrderSettings
from payment_svc.config import Settings as PaymentSettings
from shipping_svc.config import Settings as ShippingSettings
from xborder_platform.settings import DEV_PASSWORD, BaseServiceSettings


class StackSettings(BaseSettings):
    """How `make run` starts the system on one machine."""

    model_config = SettingsConfigDict(env_prefix="XBORDER_", extra="ignore", frozen=True)

    home: Path = Path(".xborder")
    pg_port: int = Field(default=55432, ge=1, le=65535)
    broker_port: int = Field(default=9092, ge=1, le=65535)
    topic_partitions: int = Field(default=6, ge=1, le=1000)
    topic_replication: int = Field(default=1, ge=1, le=10)
    ready_timeout_s: float = Field(default=90.0, gt=0)
    traces: bool = Field(
        default=False,
        description="Write every service's trace spans to <home>/traces/<service>.jsonl.",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None, validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """One service as the launcher sees it."""

    name: str
    module: str
    env_prefix: str
    settings_cls: type[BaseServiceSettings]

    @property
    def db_name(self) -> str:
        """Its database and its login role share this name."""
        return self.module

    def settings(self) -> BaseServiceSettings:
        """The service's own settings, read from the environment as the service will."""
        return self.settings_cls()

    def external_database_url(self) -> str | None:
        """The operator's database URL for this service, if one was set."""
        settings = self.settings()
        if "database_url" in settings.model_fields_set:
            return settings.database_url.get_secret_value()
        return None


SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo(
        name="order-svc", module="order_svc", env_prefix="ORDER_", settings_cls=OrderSettings
    ),
    ServiceInfo(
        name="payment-svc",
        module="payment_svc",
        env_prefix="PAYMENT_",
        settings_cls=PaymentSettings,
    ),
    ServiceInfo(
        name="shipping-svc",
        module="shipping_svc",
        env_prefix="SHIPPING_",
        settings_cls=ShippingSettings,
    ),
    ServiceInfo(
        name="customs-svc",
        module="customs_svc",
        env_prefix="CUSTOMS_",
        settings_cls=CustomsSettings,
    ),
)

DEV_DB_PASSWORD = DEV_PASSWORD
