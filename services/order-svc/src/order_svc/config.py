"""Settings: every variable has the service's prefix, plus the shared KAFKA_BOOTSTRAP_SERVERS."""

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from xborder_platform.settings import DEV_PASSWORD, BaseServiceSettings
from xborder_platform.webhooks import WebhookSettings

SERVICE_NAME = "order-svc"
DEV_DATABASE_URL = f"postgresql+asyncpg://order_svc:{DEV_PASSWORD}@127.0.0.1:55432/order_svc"


class Settings(BaseServiceSettings):
    """Validated once at start-up; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="ORDER_", extra="ignore", frozen=True, env_nested_delimiter="__"
    )

    port: int = Field(default=8001, ge=1, le=65535)
    database_url: SecretStr = SecretStr(DEV_DATABASE_URL)
    webhooks: WebhookSettings = Field(
        default_factory=WebhookSettings,
        description="Outbound webhooks to merchants: ORDER_WEBHOOKS__<FIELD> (lists as JSON), "
        "e.g. ORDER_WEBHOOKS__ALLOW_LIST='[\"hooks.internal\"]'. ORDER_WEBHOOKS__SECRET_KEYS "
        "is required in production: without it signing secrets would be stored in clear.",
    )

    @model_validator(mode="after")
    def _webhook_secrets_encrypted(self) -> Self:
        if self.environment == "production" and not self.webhooks.secret_keys:
            raise ValueError(
                "ORDER_WEBHOOKS__SECRET_KEYS is required in production: merchants' webhook "
                "signing secrets are encrypted at rest with these keys"
            )
        return self
