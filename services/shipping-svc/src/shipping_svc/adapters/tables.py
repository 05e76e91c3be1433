"""shipping-svc's tables, the single source for migrations and queries."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Sequence,
    Table,
    Text,
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

#: Numbers in tracking numbers; each carrier adds its own prefix.
tracking_number_seq = Sequence("tracking_number_seq", metadata=metadata)


def _ts(name: str, *, nullable: bool = True, now: bool = False) -> Column[object]:
    if now:
        return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())
    return Column(name, DateTime(timezone=True), nullable=nullable)


#: Rate quotes: one per service offered; the id is what storefronts pass with the order.
quotes = Table(
    "quotes",
    metadata,
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
    Index("ix_quotes_expires_at", "expires_at"),
)

#: What shipping keeps of each order (from OrderPlaced), and what customs has decided for it.
#: The row is the order's lock: every writer of its shipment locks it first.
orders = Table(
    "orders",
    metadata,
    Column("order_id", Uuid, primary_key=True),
    Column("merchant_id", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("destination", Text, nullable=False),
    Column("weight_grams", Integer, nullable=False),
    Column("declared_value", Numeric(20, 4), nullable=False),
    Column("currency", Text, nullable=False),
    Column("shipping_quote_id", Uuid, nullable=False),
    _ts("placed_at", nullable=False),
    # Personal data: kept only until the shipment closes.
    Column("ship_to", JSONB),
    _ts("confirmed_at"),
    _ts("cancelled_at"),
    _ts("export_cleared_at"),
    _ts("released_at"),
    _ts("return_ordered_at"),
    _ts("confiscated_at"),
    _ts("updated_at", now=True),
)

shipments = Table(
    "shipments",
    metadata,
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
    _ts("updated_at", now=True),
    Index("ix_shipments_service_status", "service_key", "status"),
    Index("ix_shipments_due", "ship_date", postgresql_where=text("status = 'booked'")),
    Index("ix_shipments_merchant", "merchant_id", "booked_at", "id"),
)

#: The normalised timeline of a shipment, as a tracking page shows it (no personal data).
tracking_events = Table(
    "tracking_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("shipment_id", Uuid, nullable=False),
    Column("status", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("carrier_status", Text),
    Column("implied", Boolean, nullable=False, server_default=text("false")),
    Column("location", JSONB),
    _ts("occurred_at", nullable=False),
    _ts("recorded_at", now=True),
    Index("ix_tracking_events_shipment", "shipment_id", "occurred_at", "id"),
)

#: Every carrier scan received, once per carrier event id, and what became of it.
carrier_events = Table(
    "carrier_events",
    metadata,
    Column("carrier", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("shipment_id", Uuid, nullable=False),
    Column("tracking_number", Text, nullable=False),
    Column("raw_code", Text, nullable=False),
    Column("normalised", Text),
    Column("description", Text),
    Column("location", JSONB),
    _ts("occurred_at", nullable=False),
    _ts("received_at", now=True),
    Column("outcome", Text, nullable=False),
    Column("reason", Text),
    PrimaryKeyConstraint("carrier", "event_id", name="pk_carrier_events"),
    Index("ix_carrier_events_shipment", "shipment_id", "outcome"),
)

#: Parcels booked per lane service and dispatch day, against its daily capacity.
capacity_usage = Table(
    "capacity_usage",
    metadata,
    Column("service_key", Text, nullable=False),
    Column("ship_date", Date, nullable=False),
    Column("booked", Integer, nullable=False),
    PrimaryKeyConstraint("service_key", "ship_date", name="pk_capacity_usage"),
)

#: Transit time of each delivered parcel, the raw material of the lane statistics.
transit_observations = Table(
    "transit_observations",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("service_key", Text, nullable=False),
    Column("shipment_id", Uuid, nullable=False, unique=True),
    Column("transit_days", Float, nullable=False),
    _ts("delivered_at", nullable=False),
    Index("ix_transit_observations_service", "service_key", "id"),
)

#: The current statistics per lane service, over its recent window of deliveries.
transit_stats = Table(
    "transit_stats",
    metadata,
    Column("service_key", Text, primary_key=True),
    Column("sample_size", Integer, nullable=False),
    Column("p50_days", Float, nullable=False),
    Column("p90_days", Float, nullable=False),
    _ts("updated_at", now=True),
)

#: Scans the sandbox carrier network will post, persisted so a restart resumes them.
sandbox_scans = Table(
    "sandbox_scans",
    metadata,
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
    _ts("leased_until"),
    Column("last_error", Text),
    Index("ix_sandbox_scans_due", "due_at", postgresql_where=text("state = 'pending'")),
    Index("ix_sandbox_scans_shipment", "shipment_id"),
)
