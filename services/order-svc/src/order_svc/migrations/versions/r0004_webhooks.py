"""order-svc: outbound webhook endpoints, deliveries and their attempts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from xborder_platform.webhooks import create_webhook_tables_v1, drop_webhook_tables_v1

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the webhook endpoint, delivery and attempt tables."""
    create_webhook_tables_v1()


def downgrade() -> None:
    """Drop the webhook tables."""
    drop_webhook_tables_v1()
