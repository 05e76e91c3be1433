"""The tables of the outbound-webhooks kit: endpoints, deliveries and their attempts.

One delivery row per (endpoint, event), written in the service's own transaction with the state
change it reports; its identity `seq` is the order the endpoint receives its deliveries in.
"""

from __future__ import annotations

from typing import NamedTuple

from alembic import op
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB


class WebhookTables(NamedTuple):
    """The kit's three tables on one metadata."""

    endpoints: Table
    deliveries: Table
    attempts: Table


def webhook_tables(metadata: MetaData) -> WebhookTables:
    """Declare `webhook_endpoints`, `webhook_deliveries` and `webhook_attempts` on `metadata`."""
    endpoints = Table(
        "webhook_endpoints",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("merchant_id", Text, nullable=False),
        Column("url", Text, nullable=False),
        Column("event_types", ARRAY(Text), nullable=False),
        Column("description", Text, nullable=False, server_default=text("''")),
        Column("enabled", Boolean, nullable=False, server_default=text("true")),
        Column("disabled_reason", Text),
        Column("disabled_at", DateTime(timezone=True)),
        # Start of the current run of failures; cleared by a success.
        Column("failing_since", DateTime(timezone=True)),
        # Stored as SecretBox.seal() wrote them (encrypted, or marked clear text).
        Column("secret", Text, nullable=False),
        Column("previous_secret", Text),
        Column("previous_secret_expires_at", DateTime(timezone=True)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        CheckConstraint(
            "disabled_reason IN ('failing', 'manual')", name="ck_webhook_endpoints_disabled_reason"
        ),
        Index("ix_webhook_endpoints_merchant", "merchant_id", "created_at", "id"),
    )
    deliveries = Table(
        "webhook_deliveries",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("id", Uuid, nullable=False, unique=True),
        Column(
            "endpoint_id",
            Uuid,
            ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("merchant_id", Text, nullable=False),
        Column("order_id", Text, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("status", Text, nullable=False, server_default=text("'pending'")),
        Column("attempt_count", Integer, nullable=False, server_default=text("0")),
        # Failed attempts since the delivery was last (re)scheduled: the step of the schedule.
        Column("retry_index", Integer, nullable=False, server_default=text("0")),
        Column("next_attempt_at", DateTime(timezone=True)),
        Column("last_attempt_at", DateTime(timezone=True)),
        Column("delivered_at", DateTime(timezone=True)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        CheckConstraint("status IN ('pending', 'delivered')", name="ck_webhook_deliveries_status"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "seq"),
        Index(
            "ix_webhook_deliveries_pending",
            "endpoint_id",
            "seq",
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_webhook_deliveries_delivered_at",
            "delivered_at",
            postgresql_where=text("status = 'delivered'"),
        ),
    )
    attempts = Table(
        "webhook_attempts",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column(
            "delivery_seq",
            BigInteger,
            ForeignKey("webhook_deliveries.seq", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("attempted_at", DateTime(timezone=True), nullable=False),
        Column("status_code", Integer),
        Column("latency_ms", Integer, nullable=False),
        Column("error", Text),
        Index("ix_webhook_attempts_delivery", "delivery_seq", "id"),
    )
    return WebhookTables(endpoints, deliveries, attempts)


def create_webhook_tables_v1() -> None:
    """Alembic step: create the webhook tables as of version 1 of the kit.

    Written out rather than derived from the declarations above: a migration is a snapshot.
    """
    op.create_table(
        "webhook_endpoints",
        Column("id", Uuid, primary_key=True),
        Column("merchant_id", Text, nullable=False),
        Column("url", Text, nullable=False),
        Column("event_types", ARRAY(Text), nullable=False),
        Column("description", Text, nullable=False, server_default=text("''")),
        Column("enabled", Boolean, nullable=False, server_default=text("true")),
        Column("disabled_reason", Text),
        Column("disabled_at", DateTime(timezone=True)),
        Column("failing_since", DateTime(timezone=True)),
        Column("secret", Text, nullable=False),
        Column("previous_secret", Text),
        Column("previous_secret_expires_at", DateTime(timezone=True)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        CheckConstraint(
            "disabled_reason IN ('failing', 'manual')", name="ck_webhook_endpoints_disabled_reason"
        ),
    )
    op.create_index(
        "ix_webhook_endpoints_merchant", "webhook_endpoints", ["merchant_id", "created_at", "id"]
    )
    op.create_table(
        "webhook_deliveries",
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("id", Uuid, nullable=False, unique=True),
        Column(
            "endpoint_id",
            Uuid,
            ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("merchant_id", Text, nullable=False),
        Column("order_id", Text, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("status", Text, nullable=False, server_default=text("'pending'")),
        Column("attempt_count", Integer, nullable=False, server_default=text("0")),
        Column("retry_index", Integer, nullable=False, server_default=text("0")),
        Column("next_attempt_at", DateTime(timezone=True)),
        Column("last_attempt_at", DateTime(timezone=True)),
        Column("delivered_at", DateTime(timezone=True)),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        CheckConstraint("status IN ('pending', 'delivered')", name="ck_webhook_deliveries_status"),
    )
    op.create_index("ix_webhook_deliveries_endpoint", "webhook_deliveries", ["endpoint_id", "seq"])
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["endpoint_id", "seq"],
        postgresql_where=text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_deliveries_delivered_at",
        "webhook_deliveries",
        ["delivered_at"],
        postgresql_where=text("status = 'delivered'"),
    )
    op.create_table(
        "webhook_attempts",
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column(
            "delivery_seq",
            BigInteger,
            ForeignKey("webhook_deliveries.seq", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("attempted_at", DateTime(timezone=True), nullable=False),
        Column("status_code", Integer),
        Column("latency_ms", Integer, nullable=False),
        Column("error", Text),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_seq", "id"])


def drop_webhook_tables_v1() -> None:
    """Alembic step: drop what `create_webhook_tables_v1` created."""
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
