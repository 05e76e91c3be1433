"""The outbox and inbox tables every service adds to its own database.

Outbox column names follow Debezium's outbox event router (id, aggregatetype, aggregateid, type,
payload) so change-data capture can replace the polling relay in production.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB


def outbox_table(metadata: MetaData) -> Table:
    """Declare the `outbox` table on `metadata`."""
    return Table(
        "outbox",
        metadata,
        # seq orders rows of one key; rows of one aggregate are written under its row lock.
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("id", Uuid, nullable=False, unique=True),
        Column("aggregatetype", Text, nullable=False),
        Column("aggregateid", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Index("ix_outbox_unpublished", "seq", postgresql_where=text("published_at IS NULL")),
        Index(
            "ix_outbox_published_at",
            "published_at",
            postgresql_where=text("published_at IS NOT NULL"),
        ),
    )


def inbox_table(metadata: MetaData) -> Table:
    """Declare the `inbox` table on `metadata`: one row per (consumer, event id) processed."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", Text, nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
        Index("ix_inbox_processed_at", "processed_at"),
    )


def create_messaging_tables_v1() -> None:
    """Alembic step: create the outbox and inbox tables as of version 1 of the kit.

    Written out rather than derived from the declarations above: a migration is a snapshot.
    """
    op.create_table(
        "outbox",
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("id", Uuid, nullable=False, unique=True),
        Column("aggregatetype", Text, nullable=False),
        Column("aggregateid", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
    )
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["seq"], postgresql_where=text("published_at IS NULL")
    )
    op.create_index(
        "ix_outbox_published_at",
        "outbox",
        ["published_at"],
        postgresql_where=text("published_at IS NOT NULL"),
    )
    op.create_table(
        "inbox",
        Column("consumer", Text, nullable=False),
        Column("event_id", Uuid, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )
    op.create_index("ix_inbox_processed_at", "inbox", ["processed_at"])


def drop_messaging_tables_v1() -> None:
    """Alembic step: drop what `create_messaging_tables_v1` created."""
    op.drop_table("inbox")
    op.drop_table("outbox")
