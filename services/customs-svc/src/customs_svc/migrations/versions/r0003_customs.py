"""customs-svc: quotes, orders, declarations, holds, documents and authority decisions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = True, now: bool = False) -> sa.Column[object]:
    default = sa.func.now() if now else None
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def upgrade() -> None:
    """Create customs-svc's own tables."""
    op.create_table(
        "quotes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("merchant_id", sa.Text),
        sa.Column("quote_date", sa.Date, nullable=False),
        _ts("expires_at", nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("incoterm", sa.Text, nullable=False),
        sa.Column("shipping", sa.Numeric, nullable=False),
        sa.Column("items", JSONB, nullable=False),
        sa.Column("total", sa.Numeric, nullable=False),
        sa.Column("view", JSONB, nullable=False),
        _ts("created_at", nullable=False, now=True),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Uuid, primary_key=True),
        sa.Column("merchant_id", sa.Text, nullable=False),
        _ts("placed_at", nullable=False),
        sa.Column("ship_from", sa.Text, nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("incoterm", sa.Text, nullable=False),
        sa.Column("shipping", sa.Numeric, nullable=False),
        sa.Column("items", JSONB, nullable=False),
        sa.Column("duties_and_taxes", sa.Numeric),
        sa.Column("quote_id", sa.Uuid),
        sa.Column("has_buyer_id", sa.Boolean, nullable=False),
        sa.Column("precheck", JSONB),
        _ts("cancelled_at"),
        _ts("created_at", nullable=False, now=True),
    )
    op.create_table(
        "declarations",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("merchant_id", sa.Text),
        sa.Column("checkpoint", sa.Text, nullable=False),
        sa.Column("country", sa.Text),
        sa.Column("authority", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("shipment_id", sa.Uuid, nullable=False),
        sa.Column("tracking_number", sa.Text, nullable=False),
        sa.Column("assessment", JSONB),
        sa.Column("authority_reference", sa.Text),
        _ts("filed_at"),
        _ts("decided_at"),
        _ts("decision_due_at"),
        _ts("created_at", nullable=False, now=True),
        _ts("updated_at", nullable=False, now=True),
        sa.UniqueConstraint("order_id", "checkpoint", name="uq_declarations_order_checkpoint"),
    )
    op.create_index(
        "ix_declarations_decision_due",
        "declarations",
        ["decision_due_at"],
        postgresql_where=sa.text("decision_due_at IS NOT NULL"),
    )
    op.create_index("ix_declarations_created", "declarations", ["created_at", "id"])
    op.create_table(
        "holds",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("declaration_id", sa.Uuid, sa.ForeignKey("declarations.id"), nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("merchant_id", sa.Text),
        sa.Column("checkpoint", sa.Text, nullable=False),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("required_documents", JSONB, nullable=False),
        _ts("held_at", nullable=False),
        _ts("respond_by", nullable=False),
        sa.Column("missed_deadline", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        _ts("submitted_at"),
        _ts("review_due_at"),
        _ts("resolved_at"),
    )
    op.create_index("ix_holds_status_held", "holds", ["status", "held_at", "id"])
    op.create_index(
        "ix_holds_open_respond_by",
        "holds",
        ["respond_by"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_holds_review_due",
        "holds",
        ["review_due_at"],
        postgresql_where=sa.text("review_due_at IS NOT NULL"),
    )
    op.create_index("ix_holds_declaration", "holds", ["declaration_id"])
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("hold_id", sa.Uuid, sa.ForeignKey("holds.id"), nullable=False),
        sa.Column("declaration_id", sa.Uuid, nullable=False),
        sa.Column("document_type", sa.Text, nullable=False),
        sa.Column("filename", sa.Text),
        sa.Column("media_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        _ts("uploaded_at", nullable=False),
    )
    op.create_index("ix_documents_hold", "documents", ["hold_id"])
    op.create_table(
        "authority_decisions",
        sa.Column("authority", sa.Text, primary_key=True),
        sa.Column("decision_id", sa.Text, primary_key=True),
        sa.Column("declaration_id", sa.Uuid, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        _ts("received_at", nullable=False, now=True),
    )


def downgrade() -> None:
    """Drop customs-svc's own tables."""
    for table in ("authority_decisions", "documents", "holds", "declarations", "orders", "quotes"):
        op.drop_table(table)
