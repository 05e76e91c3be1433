"""order-svc: orders, their lines and their timeline.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

_EMPTY = sa.text("'{}'::jsonb")


def upgrade() -> None:
    """Create orders, order_lines and order_timeline."""
    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("merchant_id", sa.Text, nullable=False),
        sa.Column("merchant_order_ref", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("incoterm", sa.Text, nullable=False),
        sa.Column("buyer", JSONB, nullable=False),
        sa.Column("ship_from_country", sa.Text, nullable=False),
        sa.Column("ship_to", JSONB, nullable=False),
        sa.Column("payment_method", sa.Text, nullable=False),
        sa.Column("payment_provider", sa.Text, nullable=False),
        sa.Column("shipping_quote_id", sa.Uuid, nullable=False),
        sa.Column("landed_cost_quote_id", sa.Uuid),
        sa.Column("goods_total", sa.Numeric, nullable=False),
        sa.Column("shipping_total", sa.Numeric, nullable=False),
        sa.Column("duties_and_taxes_total", sa.Numeric),
        sa.Column("grand_total", sa.Numeric, nullable=False),
        sa.Column("facts", JSONB, nullable=False, server_default=_EMPTY),
        sa.Column("payment", JSONB, nullable=False, server_default=_EMPTY),
        sa.Column("shipment", JSONB, nullable=False, server_default=_EMPTY),
        sa.Column("customs", JSONB, nullable=False, server_default=_EMPTY),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("incoterm IN ('DDP', 'DAP')", name="ck_orders_incoterm"),
    )
    op.create_index("ix_orders_merchant_created", "orders", ["merchant_id", "created_at", "id"])
    op.create_index("ix_orders_created", "orders", ["created_at", "id"])
    op.create_table(
        "order_lines",
        sa.Column(
            "order_id", sa.Uuid, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("sku", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("hs_code", sa.Text, nullable=False),
        sa.Column("origin_country", sa.Text, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.Numeric, nullable=False),
        sa.Column("weight_grams", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="pk_order_lines"),
        sa.CheckConstraint("quantity > 0", name="ck_order_lines_quantity"),
        sa.CheckConstraint("unit_price >= 0", name="ck_order_lines_unit_price"),
        sa.CheckConstraint("weight_grams > 0", name="ck_order_lines_weight"),
    )
    op.create_table(
        "order_timeline",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
    )
    op.create_index("ix_order_timeline_order", "order_timeline", ["order_id", "seq"])


def downgrade() -> None:
    """Drop what upgrade created."""
    op.drop_table("order_timeline")
    op.drop_table("order_lines")
    op.drop_table("orders")
