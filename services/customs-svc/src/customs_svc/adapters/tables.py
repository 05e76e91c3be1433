"""customs-svc's tables, the single source for migrations and queries."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from xborder_platform.http.tables import api_keys_table, idempotency_table
from xborder_platform.messaging.tables import inbox_table, outbox_table

metadata = MetaData()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
idempotency_keys = idempotency_table(metadata)
api_keys = api_keys_table(metadata)


def _created() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


quotes = Table(
    "quotes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("merchant_id", Text),
    Column("quote_date", Date, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("destination", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("incoterm", Text, nullable=False),
    Column("shipping", Numeric, nullable=False),
    Column("items", JSONB, nullable=False),
    Column("total", Numeric, nullable=False),
    Column("view", JSONB, nullable=False),
    _created(),
)

# What customs keeps of each OrderPlaced (no personal data: whether a buyer id was given only).
orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("merchant_id", Text, nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("ship_from", Text, nullable=False),
    Column("destination", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("incoterm", Text, nullable=False),
    Column("shipping", Numeric, nullable=False),
    Column("items", JSONB, nullable=False),
    Column("duties_and_taxes", Numeric),
    Column("quote_id", Uuid),
    Column("has_buyer_id", Boolean, nullable=False),
    Column("precheck", JSONB),
    Column("cancelled_at", DateTime(timezone=True)),
    _created(),
)

declarations = Table(
    "declarations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("merchant_id", Text),
    Column("checkpoint", Text, nullable=False),
    Column("country", Text),
    Column("authority", Text),
    Column("status", Text, nullable=False),
    Column("shipment_id", Uuid, nullable=False),
    Column("tracking_number", Text, nullable=False),
    Column("assessment", JSONB),
    Column("authority_reference", Text),
    Column("filed_at", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_due_at", DateTime(timezone=True)),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("order_id", "checkpoint", name="uq_declarations_order_checkpoint"),
    Index(
        "ix_declarations_decision_due",
        "decision_due_at",
        postgresql_where=text("decision_due_at IS NOT NULL"),
    ),
    Index("ix_declarations_created", "created_at", "id"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("declaration_id", Uuid, ForeignKey("declarations.id"), nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("merchant_id", Text),
    Column("checkpoint", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text),
    Column("required_documents", JSONB, nullable=False),
    Column("held_at", DateTime(timezone=True), nullable=False),
    Column("respond_by", DateTime(timezone=True), nullable=False),
    Column("missed_deadline", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("submitted_at", DateTime(timezone=True)),
    Column("review_due_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Index("ix_holds_status_held", "status", "held_at", "id"),
    Index("ix_holds_open_respond_by", "respond_by", postgresql_where=text("status = 'open'")),
    Index(
        "ix_holds_review_due", "review_due_at", postgresql_where=text("review_due_at IS NOT NULL")
    ),
    Index("ix_holds_declaration", "declaration_id"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("hold_id", Uuid, ForeignKey("holds.id"), nullable=False),
    Column("declaration_id", Uuid, nullable=False),
    Column("document_type", Text, nullable=False),
    Column("filename", Text),
    Column("media_type", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Index("ix_documents_hold", "hold_id"),
)

# Every decision an authority sent (webhook or sandbox), once per (authority, decision id).
authority_decisions = Table(
    "authority_decisions",
    metadata,
    Column("authority", Text, primary_key=True),
    Column("decision_id", Text, primary_key=True),
    Column("declaration_id", Uuid, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
