"""shipping-svc: quotes, orders, shipments, tracking, capacity, statistics, sandbox scans.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Identity,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.schema import CreateSequence, DropSequence, Sequence

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _now(name: str) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())


def upgrade() -> None:
    """Create shipping's own tables."""
    op.execute(CreateSequence(Sequence("tracking_number_seq")))
    _quotes_and_orders()
    _shipments()
    _tracking()
    _statistics()
    _sandbox()


def _quotes_and_orders() -> None:
    op.create_table(
        "quotes",
        Column("id", Uuid, primary_key=True),
        Column("merchant_id", Text),
        Column("service_key", Text, nullable=False),
        Column("effective_from", Date, nullable=False),
        Column("origin", Text, nullable=False),
        Column("destination", Text, nullable=False),
        Column("weight_grams", Integer, nullable=False),
        Column("declared_value", Numeric(20, 4), nullable=False),
        Column("price", Numeric(20, 4), nullable=False),
        Column("currency", Text, nullable=False),
        Column("transit_p50_days", Integer, nullable=False),
        Column("transit_p90_days", Integer, nullable=False),
        Column("eta_basis", Text, nullable=False),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False),
    )
    op.create_index("ix_quotes_expires_at", "quotes", ["expires_at"])
    op.create_table(
        "orders",
        Column("order_id", Uuid, primary_key=True),
        Column("merchant_id", Text, nullable=False),
        Column("origin", Text, nullable=False),
        Column("destination", Text, nullable=False),
        Column("weight_grams", Integer, nullable=False),
        Column("declared_value", Numeric(20, 4), nullable=False),
        Column("currency", Text, nullable=False),
        Column("shipping_quote_id", Uuid, nullable=False),
        _ts("placed_at", nullable=False),
        Column("ship_to", JSONB),
        _ts("confirmed_at"),
        _ts("cancelled_at"),
        _ts("export_cleared_at"),
        _ts("released_at"),
        _ts("return_ordered_at"),
        _ts("confiscated_at"),
        _now("updated_at"),
    )


def _shipments() -> None:
    op.create_table(
        "shipments",
        Column("id", Uuid, primary_key=True),
        Column("order_id", Uuid, nullable=False, unique=True),
        Column("merchant_id", Text, nullable=False),
        Column("service_key", Text, nullable=False),
        Column("carrier", Text, nullable=False),
        Column("service_code", Text, nullable=False),
        Column("service_name", Text, nullable=False),
        Column("tracking_quality", Text, nullable=False),
        Column("origin", Text, nullable=False),
        Column("destination", Text, nullable=False),
        Column("weight_grams", Integer, nullable=False),
        Column("price", Numeric(20, 4)),
        Column("price_currency", Text),
        Column("quote_id", Uuid),
        Column("quote_status", Text, nullable=False),
        Column("tracking_number", Text, unique=True),
        Column("status", Text, nullable=False),
        Column("ship_date", Date, nullable=False),
        Column("transit_p50_days", Integer, nullable=False),
        Column("transit_p90_days", Integer, nullable=False),
        Column("eta_basis", Text, nullable=False),
        Column("widen_days", Integer, nullable=False, server_default=text("0")),
        Column("delay_days", Integer, nullable=False, server_default=text("0")),
        Column("eta_p50", Date, nullable=False),
        Column("eta_p90", Date, nullable=False),
        Column("status_reason", Text),
        _ts("booked_at", nullable=False),
        _ts("dispatched_at"),
        _ts("delivered_at"),
        _ts("closed_at"),
        _now("updated_at"),
    )
    op.create_index("ix_shipments_service_status", "shipments", ["service_key", "status"])
    op.create_index(
        "ix_shipments_due", "shipments", ["ship_date"], postgresql_where=text("status = 'booked'")
    )
    op.create_index("ix_shipments_merchant", "shipments", ["merchant_id", "booked_at", "id"])


def _tracking() -> None:
    op.create_table(
        "tracking_events",
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("shipment_id", Uuid, nullable=False),
        Column("status", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("description", Text, nullable=False),
        Column("carrier_status", Text),
        Column("implied", Boolean, nullable=False, server_default=text("false")),
        Column("location", JSONB),
        _ts("occurred_at", nullable=False),
        _now("recorded_at"),
    )
    op.create_index(
        "ix_tracking_events_shipment", "tracking_events", ["shipment_id", "occurred_at", "id"]
    )
    op.create_table(
        "carrier_events",
        Column("carrier", Text, nullable=False),
        Column("event_id", Text, nullable=False),
        Column("shipment_id", Uuid, nullable=False),
        Column("tracking_number", Text, nullable=False),
        Column("raw_code", Text, nullable=False),
        Column("normalised", Text),
        Column("description", Text),
        Column("location", JSONB),
        _ts("occurred_at", nullable=False),
        _now("received_at"),
        Column("outcome", Text, nullable=False),
        Column("reason", Text),
        PrimaryKeyConstraint("carrier", "event_id", name="pk_carrier_events"),
    )
    op.create_index("ix_carrier_events_shipment", "carrier_events", ["shipment_id", "outcome"])


def _statistics() -> None:
    op.create_table(
        "capacity_usage",
        Column("service_key", Text, nullable=False),
        Column("ship_date", Date, nullable=False),
        Column("booked", Integer, nullable=False),
        PrimaryKeyConstraint("service_key", "ship_date", name="pk_capacity_usage"),
    )
    op.create_table(
        "transit_observations",
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("service_key", Text, nullable=False),
        Column("shipment_id", Uuid, nullable=False, unique=True),
        Column("transit_days", Float, nullable=False),
        _ts("delivered_at", nullable=False),
    )
    op.create_index(
        "ix_transit_observations_service", "transit_observations", ["service_key", "id"]
    )
    op.create_table(
        "transit_stats",
        Column("service_key", Text, primary_key=True),
        Column("sample_size", Integer, nullable=False),
        Column("p50_days", Float, nullable=False),
        Column("p90_days", Float, nullable=False),
        _now("updated_at"),
    )


def _sandbox() -> None:
    op.create_table(
        "sandbox_scans",
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("shipment_id", Uuid, nullable=False),
        Column("carrier", Text, nullable=False),
        Column("tracking_number", Text, nullable=False),
        Column("leg", Text, nullable=False),
        Column("raw_code", Text, nullable=False),
        Column("event_id", Text, nullable=False, unique=True),
        Column("location", JSONB),
        _ts("occurred_at", nullable=False),
        _ts("due_at", nullable=False),
        Column("state", Text, nullable=False),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("leased_until", DateTime(timezone=True)),
        Column("last_error", Text),
    )
    op.create_index(
        "ix_sandbox_scans_due",
        "sandbox_scans",
        ["due_at"],
        postgresql_where=text("state = 'pending'"),
    )
    op.create_index("ix_sandbox_scans_shipment", "sandbox_scans", ["shipment_id"])


def downgrade() -> None:
    """Drop shipping's own tables."""
    for table in (
        "sandbox_scans",
        "transit_stats",
        "transit_observations",
        "capacity_usage",
        "carrier_events",
        "tracking_events",
        "shipments",
        "orders",
        "quotes",
    ):
        op.drop_table(table)
    op.execute(DropSequence(Sequence("tracking_number_seq")))
