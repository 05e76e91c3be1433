"""The settings base every service extends: one validated class per service, read at start-up."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from xborder_platform.messaging.settings import MessagingSettings

#: Password used by the development stack; production refuses to start with it.
DEV_PASSWORD = "xborder-dev"
#: Secrets that must never reach production.
KNOWN_DEFAULT_SECRETS = frozenset({DEV_PASSWORD, "", "postgres", "password", "changeme"})


class SettingsError(ValueError):
    """Raised when a service's settings cannot be used."""


class BaseServiceSettings(BaseSettings, MessagingSettings):
    """Settings shared by every service. Subclasses set `env_prefix` (e.g. `ORDER_`).

    The messaging knobs (relay, consumers, retention) come from `MessagingSettings`.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: SecretStr = SecretStr("")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
        min_length=1,
    )
    kafka_topic_prefix: str = Field(
        default="",
        validation_alias=AliasChoices("KAFKA_TOPIC_PREFIX"),
        pattern=r"^[A-Za-z0-9._-]*$",
        max_length=100,
        description="Prepended to every topic name, to share one cluster between environments.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    traces_file: str | None = Field(
        default=None,
        description="Write trace spans to this file as JSON lines (tracing is otherwise on only "
        "with OTEL_EXPORTER_OTLP_ENDPOINT).",
    )
    log_format: Literal["json", "console"] = "json"
    readiness_timeout_s: float = Field(default=2.0, gt=0, le=30)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=0,
        description="Largest request body accepted, in bytes; larger ones get 413.",
    )
    idempotency_ttl_s: int = Field(
        default=86_400,
        ge=1,
        description="How long an Idempotency-Key and its stored answer are kept, in seconds "
        "(clients retry for up to a day: keep at least 86400 in production).",
    )
    api_key_cache_ttl_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How long an API key lookup is cached in the process, in seconds: a revoked "
        "key keeps working for at most this long.",
    )

    @model_validator(mode="after")
    def _check_database_url(self) -> Self:
        raw = self.database_url.get_secret_value()
        if not raw:
            raise ValueError("database_url is required (set <PREFIX>DATABASE_URL)")
        try:
            url = make_url(raw)
        except Exception as exc:
            raise ValueError(f"database_url is not a valid URL: {exc}") from None
        if url.get_backend_name() != "postgresql":
            raise ValueError("database_url must be a postgresql URL")
        if self.environment == "production" and (url.password or "") in KNOWN_DEFAULT_SECRETS:
            raise ValueError("database_url uses a default password, refused in production")
        return self

    @property
    def async_database_url(self) -> str:
        """The database URL with the asyncpg driver, whatever driver the operator wrote."""
        url = make_url(self.database_url.get_secret_value())
        return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
