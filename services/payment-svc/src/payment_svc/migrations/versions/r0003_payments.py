"""payment-svc: payments, attempts, refunds, FX rates, the ledger, webhooks, bank statements.

The ledger is append-only (a trigger refuses UPDATE, DELETE and TRUNCATE) and every transaction
balances in each currency (a deferred constraint trigger checks it when the transaction
commits, so a bug can never store an unbalanced movement).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Numeric,
    PrimaryKeyConstraint,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

MONEY = Numeric(24, 4)
RATE = Numeric(38, 18)


def _ts(name: str, *, nullable: bool = True, now: bool = False) -> Column[object]:
    if now:
        return Column(name, DateTime(timezone=True), nullable=False, server_default=func.now())
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _money(name: str, *, nullable: bool = False, zero: bool = False) -> Column[object]:
    return Column(name, MONEY, nullable=nullable, server_default=text("0") if zero else None)


def upgrade() -> None:
    """Create payment-svc's own tables and the ledger's guards."""
    _payments()
    _refunds_and_rates()
    _ledger()
    _inputs()


def _payments() -> None:
    op.create_table(
        "payments",
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
    )
    op.create_index(
        "ux_payments_provider_reference",
        "payments",
        ["provider", "provider_reference"],
        unique=True,
        postgresql_where=text("provider_reference IS NOT NULL"),
    )
    op.create_index("ix_payments_merchant", "payments", ["merchant_id", "created_at"])
    op.create_index(
        "ix_payments_expiring",
        "payments",
        ["expires_at"],
        postgresql_where=text("status IN ('requires_action', 'awaiting_funds')"),
    )
    op.create_table(
        "payment_attempts",
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("payment_id", Uuid, ForeignKey("payments.id"), nullable=False),
        Column("operation", Text, nullable=False),
        Column("outcome", Text, nullable=False),
        Column("provider_code", Text),
        Column("detail", Text),
        _ts("at", nullable=False),
    )
    op.create_index("ix_payment_attempts_payment", "payment_attempts", ["payment_id", "id"])


def _refunds_and_rates() -> None:
    op.create_table(
        "refunds",
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
    )
    op.create_index("ix_refunds_payment", "refunds", ["payment_id", "created_at"])
    op.create_table(
        "fx_rates",
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("base", Text, nullable=False),
        Column("quote", Text, nullable=False),
        Column("rate", RATE, nullable=False),
        _ts("as_of", nullable=False),
        Column("source", Text, nullable=False),
        _ts("created_at", now=True),
        UniqueConstraint("base", "quote", "source", "as_of", name="uq_fx_rates_quote"),
    )
    op.create_index("ix_fx_rates_pair", "fx_rates", ["base", "quote", "as_of"])


_LEDGER_GUARDS = (
    """
    CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger entries are never updated or deleted (%)', TG_OP
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()
    """,
    """
    CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only()
    """,
    """
    CREATE FUNCTION ledger_entries_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        off record;
    BEGIN
        SELECT currency, sum(amount) AS total INTO off FROM ledger_entries
            WHERE transaction_id = NEW.transaction_id
            GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger transaction % does not balance in %: %',
                NEW.transaction_id, off.currency, off.total USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entries_balanced()
    """,
)


def _ledger() -> None:
    op.create_table(
        "ledger_entries",
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("transaction_id", Uuid, nullable=False),
        Column("payment_id", Uuid),
        Column("kind", Text, nullable=False),
        Column("account", Text, nullable=False),
        Column("party", Text, nullable=False, server_default=text("''")),
        Column("currency", Text, nullable=False),
        _money("amount"),
        _ts("posted_at", nullable=False),
    )
    op.create_index("ix_ledger_entries_transaction", "ledger_entries", ["transaction_id"])
    op.create_index("ix_ledger_entries_payment", "ledger_entries", ["payment_id"])
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["account", "party", "id"])
    op.create_index("ix_ledger_entries_posted_at", "ledger_entries", ["posted_at"])
    for statement in _LEDGER_GUARDS:
        op.execute(statement)


def _inputs() -> None:
    op.create_table(
        "webhook_deliveries",
        Column("provider", Text, nullable=False),
        Column("delivery_id", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("payment_id", Uuid),
        Column("result", Text, nullable=False),
        _ts("received_at", now=True),
        PrimaryKeyConstraint("provider", "delivery_id"),
    )
    op.create_table(
        "sandbox_webhooks",
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("provider", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        _ts("due_at", nullable=False),
        _ts("sent_at"),
    )
    op.create_index(
        "ix_sandbox_webhooks_due",
        "sandbox_webhooks",
        ["due_at"],
        postgresql_where=text("sent_at IS NULL"),
    )
    op.create_table(
        "bank_statement_lines",
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
    )
    op.create_index("ix_bank_statement_lines_payment", "bank_statement_lines", ["payment_id"])


def downgrade() -> None:
    """Drop payment-svc's own tables (the ledger's triggers go with its table)."""
    for table in (
        "bank_statement_lines",
        "sandbox_webhooks",
        "webhook_deliveries",
        "ledger_entries",
        "fx_rates",
        "refunds",
        "payment_attempts",
        "payments",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION ledger_entries_balanced()")
    op.execute("DROP FUNCTION ledger_entries_append_only()")
