"""Messaging settings, mixed into every service's settings (e.g. `ORDER_RELAY_BATCH_SIZE`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MessagingSettings(BaseModel):
    """Relay, consumer and retention knobs; the defaults suit the development stack."""

    embedded_worker: bool = Field(
        default=True,
        description="Run the outbox relay and the consumers inside the API process. Set it to "
        "false where a separate `worker` deployment runs them.",
    )
    worker_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the `worker` command's health and metrics endpoint (0: API port+100).",
    )
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_slots: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Partitions of the key space; one relay at a time publishes a slot's rows. "
        "Every relay instance must use the same value.",
    )
    relay_poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    relay_backoff_max_s: float = Field(default=10.0, gt=0, le=300)
    relay_request_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    outbox_retention_s: float = Field(
        default=7 * 86_400, ge=0, description="Published outbox rows older than this are purged."
    )
    inbox_retention_s: float = Field(
        default=30 * 86_400,
        ge=3_600,
        description="Inbox rows older than this are purged; keep it longer than any redelivery.",
    )
    purge_interval_s: float = Field(default=300.0, gt=0)
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)
    consumer_fetch_max_wait_ms: int = Field(
        default=20,
        ge=0,
        le=10_000,
        description="How long the broker may hold a fetch open; Tansu answers at about half of "
        "it, so large values add latency to every hop.",
    )
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    consumer_heartbeat_interval_ms: int = Field(default=3_000, ge=100, le=60_000)
    consumer_max_attempts: int = Field(
        default=5, ge=1, le=100, description="Handler attempts before an event is dead-lettered."
    )
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0, le=60)
    consumer_retry_backoff_max_s: float = Field(default=5.0, ge=0, le=600)
