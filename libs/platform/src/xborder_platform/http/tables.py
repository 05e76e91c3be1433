"""The idempotency-key and API-key tables every service adds to its own database."""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB


def idempotency_table(metadata: MetaData) -> Table:
    """Declare `idempotency_keys` on `metadata`: one row per (scope, key) a caller has used."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("method", Text, nullable=False),
        Column("path", Text, nullable=False),
        Column("request_hash", Text, nullable=False),
        Column("status", Text, nullable=False),
        Column("response_status", Integer),
        Column("response_headers", JSONB),
        Column("response_body", LargeBinary),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
        CheckConstraint(
            "status IN ('in_progress', 'completed')", name="ck_idempotency_keys_status"
        ),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )


def api_keys_table(metadata: MetaData) -> Table:
    """Declare `api_keys` on `metadata`: storefront and operator keys, stored as hashes."""
    return Table(
        "api_keys",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("prefix", Text, nullable=False, unique=True),
        Column("key_hash", Text, nullable=False),
        Column("role", Text, nullable=False),
        Column("merchant_id", Text),
        Column("label", Text, nullable=False, server_default=text("''")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("revoked_at", DateTime(timezone=True)),
        CheckConstraint("role IN ('storefront', 'operator')", name="ck_api_keys_role"),
        CheckConstraint(
            "role <> 'storefront' OR merchant_id IS NOT NULL",
            name="ck_api_keys_storefront_merchant",
        ),
    )


def create_http_tables_v1() -> None:
    """Alembic step: create the idempotency-key and API-key tables as of version 1 of the kit.

    Written out rather than derived from the declarations above: a migration is a snapshot.
    """
    op.create_table(
        "idempotency_keys",
        Column("scope", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("method", Text, nullable=False),
        Column("path", Text, nullable=False),
        Column("request_hash", Text, nullable=False),
        Column("status", Text, nullable=False),
        Column("response_status", Integer),
        Column("response_headers", JSONB),
        Column("response_body", LargeBinary),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
        CheckConstraint(
            "status IN ('in_progress', 'completed')", name="ck_idempotency_keys_status"
        ),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    op.create_table(
        "api_keys",
        Column("id", Uuid, primary_key=True),
        Column("prefix", Text, nullable=False, unique=True),
        Column("key_hash", Text, nullable=False),
        Column("role", Text, nullable=False),
        Column("merchant_id", Text),
        Column("label", Text, nullable=False, server_default=text("''")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("revoked_at", DateTime(timezone=True)),
        CheckConstraint("role IN ('storefront', 'operator')", name="ck_api_keys_role"),
        CheckConstraint(
            "role <> 'storefront' OR merchant_id IS NOT NULL",
            name="ck_api_keys_storefront_merchant",
        ),
    )


def drop_http_tables_v1() -> None:
    """Alembic step: drop what `create_http_tables_v1` created."""
    op.drop_table("api_keys")
    op.drop_table("idempotency_keys")
