"""order-svc's tables, the single source for migrations and queries."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from xborder_platform.http.tables import api_keys_table, idempotency_table
from xborder_platform.messaging.tables import inbox_table, outbox_table
from xborder_platform.webhooks import webhook_tables

metadata = MetaData()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
api_keys = api_keys_table(metadata)

#: One row per order. Money columns are unconstrained NUMERIC: they keep the exact decimal.
orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("merchant_id", Text, nullable=False),
    Column("merchant_order_ref", Text),
    Column("status", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("incoterm", Text, nullable=False),
    #: Personal data: name, email, phone, tax id, country.
    Column("buyer", JSONB, nullable=False),
    Column("ship_from_country", Text, nullable=False),
    Column("ship_to", JSONB, nullable=False),
    Column("payment_method", Text, nullable=False),
    Column("payment_provider", Text, nullable=False),
    Column("shipping_quote_id", Uuid, nullable=False),
    Column("landed_cost_quote_id", Uuid),
    Column("goods_total", Numeric, nullable=False),
    Column("shipping_total", Numeric, nullable=False),
    Column("duties_and_taxes_total", Numeric),
    Column("grand_total", Numeric, nullable=False),
    #: The state machine's facts (see order_svc.domain.facts).
    Column("facts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    #: The latest payment, shipment and customs facts, for the order's view.
    Column("payment", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("shipment", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("customs", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("incoterm IN ('DDP', 'DAP')", name="ck_orders_incoterm"),
    Index("ix_orders_merchant_created", "merchant_id", "created_at", "id"),
    Index("ix_orders_created", "created_at", "id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", Uuid, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("hs_code", Text, nullable=False),
    Column("origin_country", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Numeric, nullable=False),
    Column("weight_grams", Integer, nullable=False),
    PrimaryKeyConstraint("order_id", "line_no", name="pk_order_lines"),
    CheckConstraint("quantity > 0", name="ck_order_lines_quantity"),
    CheckConstraint("unit_price >= 0", name="ck_order_lines_unit_price"),
    CheckConstraint("weight_grams > 0", name="ck_order_lines_weight"),
)

#: Every event that touched an order, its own included; one row per event id.
order_timeline = Table(
    "order_timeline",
    metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("status", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Index("ix_order_timeline_order", "order_id", "seq"),
)
webhook_endpoints, webhook_deliveries, webhook_attempts = webhook_tables(metadata)
