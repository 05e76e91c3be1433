"""The settings of the outbound-webhooks kit: destinations, the sender, retries, secrets.

A service holds one `WebhookSettings` (built from its own settings class) and hands it to
`webhook_router` and `WebhookSender`, or sets it on `app.state.webhook_settings`.
"""

from __future__ import annotations

import ipaddress
from typing import Self

from cryptography.fernet import Fernet
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from xborder_platform.webhooks.destinations import normalize_host

DAY_S = 86_400.0
#: Standard Webhooks' schedule after the immediate first attempt: 5 s, 5 min, 30 min, 2 h, 5 h,
#: 10 h, 10 h (about 27.6 hours in all); the last wait then repeats.
STANDARD_RETRY_SCHEDULE_S: tuple[float, ...] = (5, 300, 1_800, 7_200, 18_000, 36_000, 36_000)


class WebhookSettings(BaseModel):
    """How webhooks are sent: where they may go, how often they are retried, how long for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow_list: tuple[str, ...] = Field(
        default=(),
        max_length=100,
        description="Hosts (names or IP literals; '*.example.com' for subdomains) that may be "
        "reached whatever their address, over plain http too: for an operator's own "
        "receivers on a private network. Everything else must be https to a global address.",
    )
    concurrency: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Deliveries in flight at once per sender process (each holds a database "
        "connection while it waits for the receiver: keep it under the pool size).",
    )
    timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Longest a delivery may take (connect, send, answer), in seconds.",
    )
    max_response_bytes: int = Field(
        default=65_536,
        ge=0,
        le=1_048_576,
        description="Most bytes of a receiver's answer read; the rest is dropped unread.",
    )
    retry_schedule_s: tuple[float, ...] = Field(
        default=STANDARD_RETRY_SCHEDULE_S,
        min_length=1,
        max_length=50,
        description="Waits before the 2nd, 3rd... attempt of a delivery, in seconds (the first "
        "attempt is immediate; the last wait repeats for as long as the endpoint is enabled).",
    )
    time_scale: float = Field(
        default=1.0,
        gt=0,
        le=1_000,
        description="Multiplies every retry wait (e.g. 0.001 in tests and demos).",
    )
    jitter: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Each retry wait is spread at random by up to this fraction either way, so "
        "that receivers back from an outage are not hit by every retry at once.",
    )
    disable_after_s: float = Field(
        default=5 * DAY_S,
        gt=0,
        le=90 * DAY_S,
        description="An endpoint whose deliveries have failed without a success for this long "
        "is disabled (its pending deliveries are kept). Real seconds, not scaled.",
    )
    secret_grace_s: float = Field(
        default=DAY_S,
        ge=0,
        le=30 * DAY_S,
        description="After a secret rotation, how long deliveries are also signed with the "
        "previous secret, in seconds.",
    )
    poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often an idle sender looks for due deliveries, in seconds.",
    )
    batch_size: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Due lanes (one order's deliveries to one endpoint) a sender picks per poll.",
    )
    retention_s: float = Field(
        default=30 * DAY_S,
        gt=0,
        description="Delivered deliveries (and their attempts) are purged after this long.",
    )
    max_endpoints_per_merchant: int = Field(
        default=20, ge=1, le=1_000, description="Endpoints a merchant may register."
    )
    secret_keys: tuple[SecretStr, ...] = Field(
        default=(),
        max_length=10,
        description="Fernet keys (url-safe base64 of 32 bytes) encrypting the signing secrets "
        "at rest: the first encrypts, each decrypts (rotate by putting a new key first). "
        "Empty: secrets are stored in clear (development only).",
    )

    @field_validator("retry_schedule_s")
    @classmethod
    def _non_negative(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(wait < 0 for wait in value):
            raise ValueError("retry waits must be zero or more seconds")
        return value

    @field_validator("allow_list")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        hosts = []
        for raw in value:
            host = normalize_host(raw)
            bare = host[2:] if host.startswith("*.") else host
            if not bare or any(c in bare for c in "/@?#* \t") or (":" in bare and not _is_ip(bare)):
                raise ValueError(f"allow_list: {raw!r} is not a bare host name or IP literal")
            hosts.append(host)
        return tuple(hosts)

    @model_validator(mode="after")
    def _keys(self) -> Self:
        for key in self.secret_keys:
            try:
                Fernet(key.get_secret_value())
            except (ValueError, TypeError) as exc:
                raise ValueError("secret_keys: each must be a Fernet key") from exc
        return self


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
