"""Settings: every variable has the service's prefix, plus the shared KAFKA_BOOTSTRAP_SERVERS."""

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from xborder_events.currencies import MINOR_UNITS
from xborder_platform.settings import DEV_PASSWORD, KNOWN_DEFAULT_SECRETS, BaseServiceSettings

SERVICE_NAME = "payment-svc"
DEV_DATABASE_URL = f"postgresql+asyncpg://payment_svc:{DEV_PASSWORD}@127.0.0.1:55432/payment_svc"
#: Shared secret of provider webhooks in development (and of the sandbox providers' signatures).
DEV_WEBHOOK_SECRET = "xborder-dev-provider-webhooks"
_MIN_SECRET_LENGTH = 16


class Settings(BaseServiceSettings):
    """Validated once at start-up; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="PAYMENT_", extra="ignore", frozen=True)

    port: int = Field(default=8002, ge=1, le=65535)
    database_url: SecretStr = SecretStr(DEV_DATABASE_URL)

    merchants_file: Path | None = Field(
        default=None,
        description="Merchants' settlement currencies (TOML); the packaged file by default.",
    )
    fx_rates_file: Path | None = Field(
        default=None,
        description="Seed exchange rates (TOML), loaded at start-up; the packaged file by default.",
    )
    fees_file: Path | None = Field(
        default=None, description="Provider fees per method (TOML); the packaged file by default."
    )
    default_settlement_currency: str = Field(
        default="USD",
        description="Settlement currency of a merchant the merchants file does not list.",
    )
    fx_pivot_currency: str = Field(
        default="USD",
        description="Currency through which a cross rate is computed when no direct or inverse "
        "rate links two currencies.",
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_WEBHOOK_SECRET),
        description="HMAC secret of provider webhooks (and of the sandbox providers), unless a "
        "provider has its own in webhook_secrets.",
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Per-provider HMAC secrets as JSON, e.g. {"paypal": "...", "adyen": "..."}.',
    )
    webhook_tolerance_s: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="How far a webhook's signature timestamp may be from now, in seconds.",
    )
    bank_wire_expiry_days: float = Field(
        default=7.0,
        gt=0,
        le=90,
        description="Days a bank wire payment waits for its funds before it fails as expired "
        "(funds received in part are returned to the payer).",
    )
    action_expiry_s: int = Field(
        default=1800,
        ge=1,
        le=7 * 86_400,
        description="Seconds a redirect (PayPal, Alipay) or a card step-up waits for the buyer "
        "before the payment fails as expired.",
    )
    expiry_check_interval_s: float = Field(
        default=5.0, gt=0, le=3600, description="How often expired payments are looked for."
    )
    sandbox_enabled: bool | None = Field(
        default=None,
        description="Run the sandbox providers' simulated buyers (redirect approvals and "
        "step-ups completed by signed webhooks). Default: on unless environment is production.",
    )
    sandbox_approval_delay_s: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description="Seconds after which a sandbox buyer approves a redirect or passes a step-up.",
    )
    sandbox_poll_interval_s: float = Field(
        default=0.2, gt=0, le=60, description="How often due sandbox webhooks are delivered."
    )
    sandbox_approval_base_url: str = Field(
        default="https://sandbox.pay.xborder.dev",
        min_length=8,
        max_length=200,
        description="Base of the approval URLs the sandbox providers hand out.",
    )

    @field_validator("default_settlement_currency", "fx_pivot_currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in MINOR_UNITS:
            raise ValueError(f"{value} is not an ISO 4217 currency in circulation")
        return value

    @property
    def sandbox_on(self) -> bool:
        """Whether the sandbox providers' simulated buyers run."""
        if self.sandbox_enabled is None:
            return self.environment != "production"
        return self.sandbox_enabled

    def webhook_secret_for(self, provider: str) -> bytes:
        """The HMAC secret of one provider's webhooks."""
        secret = self.webhook_secrets.get(provider, self.webhook_secret)
        return secret.get_secret_value().encode()

    @model_validator(mode="after")
    def _check_secrets(self) -> Self:
        if self.environment == "production":
            for secret in [self.webhook_secret, *self.webhook_secrets.values()]:
                value = secret.get_secret_value()
                if value in KNOWN_DEFAULT_SECRETS or value == DEV_WEBHOOK_SECRET:
                    raise ValueError("webhook secrets use a default, refused in production")
                if len(value) < _MIN_SECRET_LENGTH:
                    raise ValueError(
                        f"webhook secrets need at least {_MIN_SECRET_LENGTH} characters"
                    )
        return self
