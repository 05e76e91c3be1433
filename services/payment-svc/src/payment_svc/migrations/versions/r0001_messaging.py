"""payment-svc: the outbox and inbox tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from xborder_platform.messaging.tables import (
    create_messaging_tables_v1,
    drop_messaging_tables_v1,
)

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the outbox and inbox."""
    create_messaging_tables_v1()


def downgrade() -> None:
    """Drop the outbox and inbox."""
    drop_messaging_tables_v1()
