"""shipping-svc: the idempotency-key and API-key tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from xborder_platform.http.tables import create_http_tables_v1, drop_http_tables_v1

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the idempotency-key and API-key tables."""
    create_http_tables_v1()


def downgrade() -> None:
    """Drop the idempotency-key and API-key tables."""
    drop_http_tables_v1()
