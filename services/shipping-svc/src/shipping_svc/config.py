"""Settings: every variable has the service's prefix, plus the shared KAFKA_BOOTSTRAP_SERVERS."""

from pathlib import Path
from typing import Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from xborder_platform.settings import DEV_PASSWORD, KNOWN_DEFAULT_SECRETS, BaseServiceSettings

SERVICE_NAME = "shipping-svc"
DEV_DATABASE_URL = f"postgresql+asyncpg://shipping_svc:{DEV_PASSWORD}@127.0.0.1:55432/shipping_svc"
#: Shared secret of carrier webhooks in development (and of the sandbox network's signatures).
DEV_CARRIER_WEBHOOK_SECRET = "xborder-dev-carrier-webhooks"


class Settings(BaseServiceSettings):
    """Validated once at start-up; nothing else reads the environment."""

    model_config = SettingsConfigDict(
        env_prefix="SHIPPING_", extra="ignore", frozen=True, populate_by_name=True
    )

    port: int = Field(default=8003, ge=1, le=65535)
    database_url: SecretStr = SecretStr(DEV_DATABASE_URL)

    lanes_file: Path | None = Field(
        default=None,
        description="The lane data file (TOML); the one packaged with the service by default.",
    )
    quote_ttl_s: int = Field(
        default=1800,
        ge=60,
        le=7 * 86_400,
        description="How long a rate quote stays valid, in seconds. A booking honours a quote "
        "that was valid when the order was placed.",
    )
    carrier_webhook_secret: SecretStr = Field(
        default=SecretStr(DEV_CARRIER_WEBHOOK_SECRET),
        description="Shared HMAC secret of carrier tracking webhooks (and of the sandbox "
        "network), unless a carrier has its own in carrier_webhook_secrets.",
    )
    carrier_webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Per-carrier HMAC secrets as JSON, e.g. {"yunexpress": "..."}.',
    )
    carrier_webhook_tolerance_s: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="How far a webhook's signature timestamp may be from now, in seconds.",
    )
    capacity_widen_days: int = Field(
        default=2,
        ge=0,
        le=30,
        description="Days added to a parcel's p90 for each day it waits for lane capacity.",
    )
    capacity_max_defer_days: int = Field(
        default=14,
        ge=1,
        le=90,
        description="How many days ahead a booking looks for capacity before overbooking the "
        "last of them.",
    )
    stats_window: int = Field(
        default=200,
        ge=2,
        le=10_000,
        description="Deliveries per lane service the transit-time statistics are computed over "
        "(the most recent ones).",
    )
    stats_min_samples: int = Field(
        default=20,
        ge=2,
        le=10_000,
        description="Deliveries a lane service needs before its ETA comes from them rather "
        "than from the data file's prior.",
    )
    eta_revision_threshold_days: int = Field(
        default=2,
        ge=1,
        le=60,
        description="A parcel in flight gets DeliveryEstimateRevised when either end of its "
        "window moves by at least this many days.",
    )
    eta_revision_batch: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Most parcels revised per delivery (the rest on the next deliveries).",
    )
    dispatch_interval_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="How often bookings deferred for capacity are checked for dispatch.",
    )
    sandbox_enabled: bool | None = Field(
        default=None,
        description="Run the sandbox carrier network (simulated scans through the tracking "
        "webhook path). Default: on unless environment is production.",
    )
    sandbox_seconds_per_day: float = Field(
        default=1.0,
        ge=0,
        le=86_400,
        validation_alias=AliasChoices(
            "SHIPPING_SANDBOX_SECONDS_PER_DAY",
            "SHIPPING_SANDBOX_TIME_SCALE",
        ),
        description="Real seconds per simulated day of parcel journey (86400: real time; 0: "
        "at once). Alias: SHIPPING_SANDBOX_TIME_SCALE.",
    )
    sandbox_seed: int = Field(
        default=20_251_128,
        description="Seed of the sandbox network: the same seed and order give the same journey.",
    )
    sandbox_poll_interval_s: float = Field(
        default=0.2, gt=0, le=60, description="How often the sandbox network posts due scans."
    )
    sandbox_batch_size: int = Field(default=200, ge=1, le=10_000)
    sandbox_delivery_failure_rate: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Probability that the first delivery attempt of a sandbox parcel fails.",
    )
    sandbox_unknown_code_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Probability that a sandbox parcel also gets a scan with a code outside "
        "its carrier's vocabulary (to see exception handling).",
    )

    @property
    def sandbox_on(self) -> bool:
        """Whether the sandbox carrier network runs."""
        if self.sandbox_enabled is None:
            return self.environment != "production"
        return self.sandbox_enabled

    def webhook_secret(self, carrier: str) -> bytes:
        """The HMAC secret of one carrier's webhooks."""
        secret = self.carrier_webhook_secrets.get(carrier, self.carrier_webhook_secret)
        return secret.get_secret_value().encode()

    @model_validator(mode="after")
    def _check_shipping(self) -> Self:
        if self.environment == "production":
            secrets = [self.carrier_webhook_secret, *self.carrier_webhook_secrets.values()]
            for secret in secrets:
                value = secret.get_secret_value()
                if value in KNOWN_DEFAULT_SECRETS or value == DEV_CARRIER_WEBHOOK_SECRET:
                    raise ValueError("carrier webhook secrets use a default, refused in production")
                if len(value) < 16:
                    raise ValueError("carrier webhook secrets need at least 16 characters")
        return self
