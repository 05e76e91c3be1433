"""Settings: every variable has the service's prefix, plus the shared KAFKA_BOOTSTRAP_SERVERS."""

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from xborder_platform.settings import DEV_PASSWORD, KNOWN_DEFAULT_SECRETS, BaseServiceSettings

SERVICE_NAME = "customs-svc"
DEV_DATABASE_URL = f"postgresql+asyncpg://customs_svc:{DEV_PASSWORD}@127.0.0.1:55432/customs_svc"
#: Shared secret of authority decision webhooks in development.
DEV_AUTHORITY_WEBHOOK_SECRET = "xborder-dev-authority-webhooks"
#: 10 MiB: the largest document accepted.
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
Rate = Annotated[Decimal, Field(ge=0, le=1)]
Days = Annotated[Decimal, Field(ge=0, le=36_500)]


class SandboxRatesOverride(BaseModel):
    """Overrides of one country's sandbox rates (any subset)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hold_rate: Rate | None = None
    return_rate: Rate | None = None
    confiscation_rate: Rate | None = None
    decision_days: Days | None = None
    review_days: Days | None = None
    respond_days: Annotated[Decimal, Field(gt=0, le=36_500)] | None = Field(
        default=None, description="Days a sandbox hold gives to respond (else the rule's)."
    )


class Settings(BaseServiceSettings):
    """Validated once at start-up; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="CUSTOMS_", extra="ignore", frozen=True, populate_by_name=True
    )

    port: int = Field(default=8004, ge=1, le=65535)
    database_url: SecretStr = SecretStr(DEV_DATABASE_URL)
    max_body_bytes: int = Field(
        default=12 * 1024 * 1024,
        ge=0,
        description="Largest request body, in bytes (413 above). Above the 10 MiB document "
        "limit so that the document route answers an oversized document itself.",
    )
    rules_file: Path | None = Field(
        default=None,
        description="The country rules data file (TOML); the one packaged with the service by "
        "default.",
    )
    quote_ttl_s: int = Field(
        default=3600,
        ge=60,
        le=7 * 86_400,
        description="How long a landed-cost quote stays valid, in seconds (never past the next "
        "change of the destination's rules).",
    )
    authority_webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_AUTHORITY_WEBHOOK_SECRET),
        description="Shared HMAC secret of authority decision webhooks, unless an authority "
        "has its own in authority_webhook_secrets.",
    )
    authority_webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Per-authority HMAC secrets as JSON, e.g. {"us-cbp": "..."}.',
    )
    authority_webhook_tolerance_s: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="How far a webhook's signature timestamp may be from now, in seconds.",
    )
    timer_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="How often hold deadlines and due sandbox decisions are looked for.",
    )
    timer_batch_size: int = Field(default=200, ge=1, le=10_000)
    sandbox_enabled: bool | None = Field(
        default=None,
        description="Run the sandbox authority (decisions simulated per lane through the same "
        "path as the webhook). Default: on unless environment is production.",
    )
    sandbox_seconds_per_day: float = Field(
        default=1.0,
        ge=0,
        le=86_400,
        validation_alias=AliasChoices(
            "CUSTOMS_SANDBOX_SECONDS_PER_DAY",
            "CUSTOMS_SANDBOX_TIME_SCALE",
        ),
        description="Real seconds per simulated day of the sandbox authority: decision delays "
        "and hold respond-by deadlines (86400: real time). Alias: CUSTOMS_SANDBOX_TIME_SCALE.",
    )
    sandbox_seed: int = Field(
        default=20_251_128,
        description="Seed of the sandbox authority: the same seed and order, the same decisions.",
    )
    sandbox_rates: dict[str, SandboxRatesOverride] = Field(
        default_factory=dict,
        description='Overrides of the data file\'s sandbox rates per checkpoint country, "*" '
        'for all, as JSON, e.g. {"*": {"hold_rate": 1, "return_rate": 0}}.',
    )

    @property
    def sandbox_on(self) -> bool:
        """Whether the sandbox authority decides."""
        if self.sandbox_enabled is None:
            return self.environment != "production"
        return self.sandbox_enabled

    def webhook_secret(self, authority: str) -> bytes:
        """The HMAC secret of one authority's webhooks."""
        secret = self.authority_webhook_secrets.get(authority, self.authority_webhook_secret)
        return secret.get_secret_value().encode()

    @model_validator(mode="after")
    def _check_customs(self) -> Self:
        if self.environment == "production":
            for secret in [self.authority_webhook_secret, *self.authority_webhook_secrets.values()]:
                value = secret.get_secret_value()
                if value in KNOWN_DEFAULT_SECRETS or value == DEV_AUTHORITY_WEBHOOK_SECRET:
                    raise ValueError(
                        "authority webhook secrets use a default, refused in production"
                    )
                if len(value) < 16:
                    raise ValueError("authority webhook secrets need at least 16 characters")
        for key in self.sandbox_rates:
            if key != "*" and not (len(key) == 2 and key.isalpha() and key.isupper()):
                raise ValueError(f'sandbox_rates keys are country codes or "*", not {key!r}')
        return self
