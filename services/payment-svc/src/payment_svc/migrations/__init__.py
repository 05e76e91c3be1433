"""payment-svc's Alembic history."""
