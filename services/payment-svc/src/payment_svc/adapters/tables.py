"""payment-svc's tables, the single source for migrations and queries."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
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

#: Money in any currency (up to 4 minor units), and exchange rates.
MONEY = Numeric(24, 4)
RATE = Numeric(38, 18)


def _ts(name: str, *, nullable: bool = True, now: bool = False) -> Column[object]:
    if now:
        return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _money(name: str, *, nullable: bool = False, zero: bool = False) -> Column[object]:
    default = text("0") if zero else None
    return Column(name, MONEY, nullable=nullable, server_default=default)


#: One payment per order, in the order's currency; the FX snapshot of its settlement.
payments = Table(
    "payments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, nullable=False, unique=True),
    Column("merchant_id", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("provider_token", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("currency", Text, nullable=False),
    _money("amount"),
    _money("goods"),
    _money("shipping"),
    _money("duties"),
    Column("incoterm", Text, nullable=False),
    Column("settlement_currency", Text, nullable=False),
    Column("provider_reference", Text),
    Column("payment_reference", Text, unique=True),
    Column("action", Text),
    Column("approval_url", Text),
    _ts("expires_at"),
    Column("hold_open", Boolean, nullable=False, server_default=text("false")),
    _money("captured", zero=True),
    _money("refunded", zero=True),
    _money("fees", zero=True),
    _money("duties_held", zero=True),
    _money("received", zero=True),
    _money("returned", zero=True),
    _money("settlement_amount", nullable=True),
    Column("fx_rate", RATE),
    _ts("fx_as_of"),
    Column("fx_provider", Text),
    Column("failure_stage", Text),
    Column("failure_reason", Text),
    Column("failure_code", Text),
    Column("failure_detail", Text),
    _ts("created_at", nullable=False),
    _ts("authorized_at"),
    _ts("settled_at"),
    _ts("closed_at"),
    _ts("updated_at", nullable=False),
    Column("version", BigInteger, nullable=False, server_default=text("0")),
    Index(
        "ux_payments_provider_reference",
        "provider",
        "provider_reference",
        unique=True,
        postgresql_where=text("provider_reference IS NOT NULL"),
    ),
    Index("ix_payments_merchant", "merchant_id", "created_at"),
    Index(
        "ix_payments_expiring",
        "expires_at",
        postgresql_where=text("status IN ('requires_action', 'awaiting_funds')"),
    ),
)

#: What was asked of a provider and what it answered, per payment.
payment_attempts = Table(
    "payment_attempts",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("payment_id", Uuid, ForeignKey("payments.id"), nullable=False),
    Column("operation", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("provider_code", Text),
    Column("detail", Text),
    _ts("at", nullable=False),
    Index("ix_payment_attempts_payment", "payment_id", "id"),
)

#: Refunds, successful or failed; `trigger` makes a policy refund happen once per payment.
refunds = Table(
    "refunds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("payment_id", Uuid, ForeignKey("payments.id"), nullable=False),
    Column("order_id", Uuid, nullable=False),
    Column("reason", Text, nullable=False),
    Column("trigger", Text),
    Column("status", Text, nullable=False),
    Column("currency", Text, nullable=False),
    _money("amount"),
    _money("merchant_part"),
    _money("duties_part"),
    Column("settlement_currency", Text, nullable=False),
    _money("settlement_amount", nullable=True),
    Column("fx_rate", RATE),
    _ts("fx_as_of"),
    Column("fx_provider", Text),
    Column("provider_reference", Text),
    Column("failure", Text),
    Column("detail", Text),
    Column("requested_by", Text, nullable=False),
    _ts("created_at", nullable=False),
    UniqueConstraint("payment_id", "trigger", name="uq_refunds_payment_trigger"),
    Index("ix_refunds_payment", "payment_id", "created_at"),
)

#: Exchange rates: 1 base = rate quote, as quoted by source at as_of. Never updated.
fx_rates = Table(
    "fx_rates",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("base", Text, nullable=False),
    Column("quote", Text, nullable=False),
    Column("rate", RATE, nullable=False),
    _ts("as_of", nullable=False),
    Column("source", Text, nullable=False),
    _ts("created_at", now=True),
    UniqueConstraint("base", "quote", "source", "as_of", name="uq_fx_rates_quote"),
    Index("ix_fx_rates_pair", "base", "quote", "as_of"),
)

#: The double-entry ledger: append-only (a trigger refuses updates and deletes) and balanced
#: per transaction and currency (a deferred constraint trigger checks it at commit).
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("transaction_id", Uuid, nullable=False),
    Column("payment_id", Uuid),
    Column("kind", Text, nullable=False),
    Column("account", Text, nullable=False),
    Column("party", Text, nullable=False, server_default=text("''")),
    Column("currency", Text, nullable=False),
    _money("amount"),
    _ts("posted_at", nullable=False),
    Index("ix_ledger_entries_transaction", "transaction_id"),
    Index("ix_ledger_entries_payment", "payment_id"),
    Index("ix_ledger_entries_account", "account", "party", "id"),
    Index("ix_ledger_entries_posted_at", "posted_at"),
)

#: Provider webhook deliveries already applied: a replay of one is ignored.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("provider", Text, nullable=False),
    Column("delivery_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("payment_id", Uuid),
    Column("result", Text, nullable=False),
    _ts("received_at", now=True),
    PrimaryKeyConstraint("provider", "delivery_id"),
)

#: Webhooks the sandbox providers will deliver (their simulated buyers' answers).
sandbox_webhooks = Table(
    "sandbox_webhooks",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("provider", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    _ts("due_at", nullable=False),
    _ts("sent_at"),
    Index("ix_sandbox_webhooks_due", "due_at", postgresql_where=text("sent_at IS NULL")),
)

#: Bank statement lines received, each matched (or not) to a bank wire payment once.
bank_statement_lines = Table(
    "bank_statement_lines",
    metadata,
    Column("line_id", Text, primary_key=True),
    Column("statement_id", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("currency", Text, nullable=False),
    _money("amount"),
    _ts("booked_at", nullable=False),
    Column("result", Text, nullable=False),
    Column("payment_id", Uuid),
    _money("applied", zero=True),
    _money("returned", zero=True),
    _ts("received_at", now=True),
    Index("ix_bank_statement_lines_payment", "payment_id"),
)
